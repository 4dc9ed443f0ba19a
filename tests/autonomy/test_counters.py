"""Energy per interval from counter aggregates: resets, wrap-around, gaps, glitches, implausible
jumps, the power fallback."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ville_autonome.autonomy import Anomaly, Status, counter_energy, power_energy

M, IMP, X = Status.MEASURED, Status.IMPUTED, Status.MISSING


def test_rises_between_successive_last_values() -> None:
    e, s, _ = counter_energy(
        [100, 112, 130], [110, 125, 131], [100, 112, 130], [110, 125, 131], [3, 3, 3], prev_last=95
    )
    assert e.tolist() == [15, 15, 6]
    assert s.tolist() == [M, M, M]


def test_first_interval_without_previous_value_counts_its_own_rise() -> None:
    e, _, _ = counter_energy([100], [110], [100], [110], [2])
    assert e.tolist() == [10]


def test_a_lone_first_reading_measured_nothing_and_is_the_base_of_what_follows() -> None:
    # a backfill's first reading, on the boundary that closes the interval before it: that interval's
    # energy is unknown (MISSING, never a measured 0 Wh); the next interval rises from it
    e, s, _ = counter_energy([100, 110], [100, 125], [100, 110], [100, 125], [1, 2])
    assert s.tolist() == [X, M]
    assert e.tolist() == [0, 25]
    # with the counter before the period known, the same reading is a measured rise
    e, s, _ = counter_energy([100, 110], [100, 125], [100, 110], [100, 125], [1, 2], prev_last=90)
    assert s.tolist() == [M, M]
    assert e.tolist() == [10, 25]


def test_reset_mid_interval_counts_both_segments_and_never_goes_negative() -> None:
    # before: 100; inside: 105, 110, reset, 2, 7 → 10 Wh before the reset + 5 Wh after
    e, s, _ = counter_energy([105], [7], [2], [110], [4], prev_last=100)
    assert e.tolist() == [15]
    assert s.tolist() == [M]


def test_reset_at_an_interval_boundary_counts_the_rise_after_it() -> None:
    e, _, _ = counter_energy([100, 3], [110, 9], [100, 3], [110, 9], [2, 2], prev_last=100)
    assert e.tolist() == [10, 6]


def test_wrap_around_adds_the_modulus() -> None:
    e, _, _ = counter_energy([65530, 4], [65534, 10], [65530, 4], [65534, 10], [2, 2], prev_last=65530, wrap_wh=65536)
    assert e.tolist() == [4, 12]


def test_a_gap_between_readings_shares_the_rise_and_is_imputed() -> None:
    e, s, _ = counter_energy([0, 0, 0, 40], [10, 0, 0, 40], [0, 0, 0, 40], [10, 0, 0, 40], [2, 0, 0, 1])
    assert e.tolist() == pytest.approx([10, 10, 10, 10])
    assert s.tolist() == [M, IMP, IMP, M]


def test_trailing_and_leading_gaps_are_missing() -> None:
    e, s, _ = counter_energy([0, 5, 0], [0, 9, 0], [0, 5, 0], [0, 9, 0], [0, 2, 0])
    assert e.tolist() == [0, 4, 0]
    assert s.tolist() == [X, M, X]


def test_power_fallback_integrates_mean_power_and_is_flagged() -> None:
    e, s, a = power_energy([4000.0, -400.0, 0.0], [10, 10, 0], 900)
    assert e.tolist() == [1000.0, -100.0, 0.0]
    assert s.tolist() == [Status.INTEGRATED, Status.INTEGRATED, X]
    assert a.tolist() == [0, 0, 0]


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
    e, s, _ = counter_energy(arr, arr, arr, arr, count, prev_last=start)
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
    e, _, _ = counter_energy(
        first,
        last,
        [min(r) for r in intervals],
        [max(r) for r in intervals],
        [len(r) for r in intervals],
        prev_last=start,
    )
    assert np.all(e >= 0)
    assert float(e.sum()) <= true + 1e-6 * max(1.0, true)


# ---------------------------------------------------------------- method 2.0: plausibility
# a device of 4 kW rated at most: 1 kWh per 15-min interval (plus one minute of slack, 66.7 Wh)
MAX_W = 4000.0


def _series(values: list[float | None]) -> tuple[list[float], list[int]]:
    """One reading per interval (None: no reading): last = first = min = max."""
    return [v if v is not None else 0.0 for v in values], [0 if v is None else 1 for v in values]


def _energy(values: list[float | None], **kw: float) -> tuple[list[float], list[int], list[int]]:
    v, c = _series(values)
    e, s, a = counter_energy(v, v, v, v, c, interval_s=900, max_power_w=MAX_W, **kw)
    return e.tolist(), s.tolist(), a.tolist()


def test_a_spike_that_comes_back_is_excluded_and_its_interval_imputed() -> None:
    # the byte_swap case: one reading 10⁹ Wh, then the counter is back on its course
    e, s, a = _energy([1000, 1500, 1e9, 2500, 3000])
    assert e == pytest.approx([0, 500, 500, 500, 500])  # the rise 1500 → 2500 is spread over two intervals
    assert s == [X, M, IMP, M, M]  # the first reading alone measured nothing
    assert a == [0, 0, Anomaly.JUMP, 0, 0]


def test_a_drop_that_comes_back_is_a_glitch_not_a_reset() -> None:
    # the counter_reset fault cleared: 0 for one reading, then back
    e, s, a = _energy([1000, 1500, 0, 2500, 3000])
    assert e == pytest.approx([0, 500, 500, 500, 500])
    assert s == [X, M, IMP, M, M]  # the first reading alone measured nothing
    assert a[2] == Anomaly.GLITCH


def test_a_drop_that_stays_low_is_a_reset_and_loses_energy_rather_than_inventing_it() -> None:
    e, s, a = _energy([1000, 1500, 3, 400, 900])
    assert e == pytest.approx([0, 500, 0, 397, 500])  # the rise before the reset is not known: lost
    assert s == [X, M, M, M, M]
    assert a == [0, 0, Anomaly.RESET, 0, 0]


def test_a_jump_that_stays_is_a_level_shift_excluded_from_energy() -> None:
    e, s, a = _energy([1000, 1500, 50_000, 50_400, 50_900])
    assert e == pytest.approx([0, 500, 0, 400, 500])
    assert s == [X, M, X, M, M]
    assert a[2] == Anomaly.JUMP


def test_a_rise_within_the_rating_is_never_flagged_whatever_the_gaps() -> None:
    # 1 kWh per interval at 4 kW is 90 % of the bound; across a two-interval gap the bound doubles
    e, s, a = _energy([0, 950, None, None, 3800])
    assert e == pytest.approx([0, 950, 950, 950, 950])
    assert a == [0, 0, 0, 0, 0]
    assert s == [X, M, IMP, IMP, M]


def test_a_spike_inside_an_interval_is_counted_but_its_end_value_is_used() -> None:
    e, s, a = counter_energy([1500], [1900], [1500], [9e9], [5], prev_last=1000, interval_s=900, max_power_w=MAX_W)
    assert e.tolist() == [900]
    assert a.tolist() == [Anomaly.JUMP]
    assert s.tolist() == [M]


def test_a_dip_inside_an_interval_is_a_glitch_when_the_counter_ends_on_course() -> None:
    e, _, a = counter_energy([1100], [1400], [0], [1400], [5], prev_last=1000, interval_s=900, max_power_w=MAX_W)
    assert e.tolist() == [400]
    assert a.tolist() == [Anomaly.GLITCH]


def test_wrap_around_only_when_the_completion_is_a_plausible_rise() -> None:
    top = 2.0**32
    e, _, a = _energy([top - 700, top - 200, 300, 800], wrap_wh=top)
    assert e == pytest.approx([0, 500, 500, 500])
    assert a[2] == Anomaly.WRAP
    # far from the top, the same register's drop is a reset (it cannot have rolled over in 15 min)
    e, _, a = _energy([5000, 5500, 300, 800], wrap_wh=top)
    assert a[2] == Anomaly.RESET
    assert e[2] <= 300


def test_the_lab_clock_rate_scales_the_bound() -> None:
    # at speed 60 a 4 kW device's counter rises up to 60 kWh per wall-clock interval
    v = [0.0, 55_000.0, 110_000.0]
    e, _, a = counter_energy(v, v, v, v, [1, 1, 1], interval_s=900, max_power_w=MAX_W * 60)
    assert a.tolist() == [0, 0, 0]
    assert e.tolist() == [0, 55_000, 55_000]
    _, _, a = counter_energy(v, v, v, v, [1, 1, 1], interval_s=900, max_power_w=MAX_W)
    assert a.tolist()[1] == Anomaly.JUMP


def test_elapsed_time_comes_from_the_last_readings_timestamps() -> None:
    # readings 10 s apart in two intervals: 500 Wh in 10 s is 180 kW, far beyond 4 kW
    v = [1000.0, 1500.0, 1510.0]
    ts = [899_000, 909_000, 1_799_000]
    _, _, a = counter_energy(v, v, v, v, [1, 1, 1], interval_s=900, max_power_w=MAX_W, last_ts_ms=ts)
    assert a.tolist()[1] == Anomaly.JUMP


def test_impossible_powers_are_rejected_never_abs_ed() -> None:
    e, s, a = power_energy(
        [4000.0, -400.0, float("nan"), 9e6], [1, 1, 1, 1], 900, role="consumption", max_power_w=MAX_W
    )
    assert e.tolist() == [1000.0, 0.0, 0.0, 0.0]
    assert s.tolist() == [Status.INTEGRATED, X, X, X]
    assert a.tolist() == [0, Anomaly.REJECTED, Anomaly.REJECTED, Anomaly.REJECTED]
    # a production a little below zero (an inverter's night draw) is zero, not an error
    e, s, a = power_energy([-20.0, -400.0], [1, 1], 900, role="production", max_power_w=MAX_W)
    assert e.tolist() == [0.0, 0.0]
    assert a.tolist() == [0, Anomaly.REJECTED]


@st.composite
def glitched_counter(draw: st.DrawFn) -> tuple[list[float], list[bool], float]:
    """A counter within its rating, one reading per interval, with isolated bad readings (a drop
    to zero, a spike, a byte-swapped value) that each come back; the true rise from the first
    reading to the last."""
    n = draw(st.integers(3, 30))
    value = draw(st.floats(10_000, 1e6))
    values, bad = [], []
    for i in range(n):
        value += draw(st.floats(0, 900))
        values.append(value)
        bad.append(0 < i < n - 1 and draw(st.integers(0, 4)) == 0 and not any(bad[-2:]))
    shown = [draw(st.sampled_from([0.0, v + 1e6, v * 65536.0])) if b else v for v, b in zip(values, bad, strict=True)]
    return shown, bad, values[-1] - values[0]


@given(glitched_counter())
def test_isolated_bad_readings_never_change_the_total(case: tuple[list[float], list[bool], float]) -> None:
    shown, bad, true = case
    e, _, a = counter_energy(shown, shown, shown, shown, [1] * len(shown), interval_s=900, max_power_w=MAX_W)
    assert float(e.sum()) == pytest.approx(true, rel=1e-9, abs=1e-6)
    assert all(x & (Anomaly.JUMP | Anomaly.GLITCH) for x, b in zip(a.tolist(), bad, strict=True) if b)
    assert not any(x for x, b in zip(a.tolist(), bad, strict=True) if not b)
