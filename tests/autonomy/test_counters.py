"""Energy per interval from counter aggregates: resets, wrap-around, gaps, the power fallback."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ville_autonome.autonomy import Status, counter_energy, power_energy

M, IMP, X = Status.MEASURED, Status.IMPUTED, Status.MISSING


def test_rises_between_successive_last_values() -> None:
    e, s = counter_energy([100, 112, 130], [110, 125, 131], [100, 112, 130], [110, 125, 131], [3, 3, 3], prev_last=95)
    assert e.tolist() == [15, 15, 6]
    assert s.tolist() == [M, M, M]


def test_first_interval_without_previous_value_counts_its_own_rise() -> None:
    e, _ = counter_energy([100], [110], [100], [110], [2])
    assert e.tolist() == [10]


def test_reset_mid_interval_counts_both_segments_and_never_goes_negative() -> None:
    # before: 100; inside: 105, 110, reset, 2, 7 → 10 Wh before the reset + 5 Wh after
    e, s = counter_energy([105], [7], [2], [110], [4], prev_last=100)
    assert e.tolist() == [15]
    assert s.tolist() == [M]


def test_reset_at_an_interval_boundary_counts_the_rise_after_it() -> None:
    e, _ = counter_energy([100, 3], [110, 9], [100, 3], [110, 9], [2, 2], prev_last=100)
    assert e.tolist() == [10, 6]


def test_wrap_around_adds_the_modulus() -> None:
    e, _ = counter_energy([65530, 4], [65534, 10], [65530, 4], [65534, 10], [2, 2], prev_last=65530, wrap_wh=65536)
    assert e.tolist() == [4, 12]


def test_a_gap_between_readings_shares_the_rise_and_is_imputed() -> None:
    e, s = counter_energy([0, 0, 0, 40], [10, 0, 0, 40], [0, 0, 0, 40], [10, 0, 0, 40], [2, 0, 0, 1])
    assert e.tolist() == pytest.approx([10, 10, 10, 10])
    assert s.tolist() == [M, IMP, IMP, M]


def test_trailing_and_leading_gaps_are_missing() -> None:
    e, s = counter_energy([0, 5, 0], [0, 9, 0], [0, 5, 0], [0, 9, 0], [0, 2, 0])
    assert e.tolist() == [0, 4, 0]
    assert s.tolist() == [X, M, X]


def test_power_fallback_integrates_mean_power_and_is_flagged() -> None:
    e, s = power_energy([4000.0, -400.0, 0.0], [10, 10, 0], 900)
    assert e.tolist() == [1000.0, -100.0, 0.0]
    assert s.tolist() == [Status.INTEGRATED, Status.INTEGRATED, X]


@given(st.lists(st.tuples(st.floats(0, 1000), st.booleans()), min_size=1, max_size=40), st.floats(0, 1e6))
def test_total_equals_the_counter_rise_without_resets(steps: list[tuple[float, bool]], start: float) -> None:
    """Without resets, Σ energy = last reading − value before the period, whatever the gaps."""
    value, last_read = start, start
    last, count = [], []
    for rise, read in steps:
        value += rise
        last.append(value if read else 0.0)
        count.append(1 if read else 0)
        last_read = value if read else last_read
    arr = np.array(last)
    e, s = counter_energy(arr, arr, arr, arr, count, prev_last=start)
    assert float(e.sum()) == pytest.approx(last_read - start, rel=1e-9, abs=1e-6)
    assert np.all(e >= 0)
    assert set(s.tolist()) <= {M, IMP, X}


@st.composite
def counter_with_resets(draw: st.DrawFn) -> tuple[list[list[float]], float, float]:
    """Readings per interval of a counter that may reset (at most once per interval), the true
    energy over the period, and the value before it."""
    start = draw(st.floats(0, 1e6))
    value, true = start, 0.0
    intervals: list[list[float]] = []
    for _ in range(draw(st.integers(1, 12))):
        readings = []
        reset_at = draw(st.integers(-1, 3))
        for k in range(draw(st.integers(1, 4))):
            inc = draw(st.floats(0, 500))
            true += inc
            value = inc if k == reset_at else value + inc
            readings.append(value)
        intervals.append(readings)
    return intervals, true, start


@given(counter_with_resets())
def test_resets_never_invent_energy(case: tuple[list[list[float]], float, float]) -> None:
    intervals, true, start = case
    first = [r[0] for r in intervals]
    last = [r[-1] for r in intervals]
    e, _ = counter_energy(
        first,
        last,
        [min(r) for r in intervals],
        [max(r) for r in intervals],
        [len(r) for r in intervals],
        prev_last=start,
    )
    assert np.all(e >= 0)
    assert float(e.sum()) <= true + 1e-6 * max(1.0, true)
