"""Interval stats as numpy columns (series/rollups.py): the same numbers as the IntervalStat path.

``merge_columns`` must give exactly what ``merge`` gives (bit for bit, ties included), for every
field and for the subsets a reader asks for, whatever the stats hold.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ville_autonome.series.rollups import (
    ROLLUP_1D_MS,
    ROLLUP_15M_MS,
    STAT_FIELDS,
    IntervalColumns,
    check_fields,
    columns_from_rows,
    columns_from_stats,
    merge,
    merge_columns,
    merge_inputs,
)
from ville_autonome.series.values import IntervalStat

# few distinct values, so that ties (and 0.0 against -0.0) are common
VALUES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0, 1e9 + 0.1]),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_subnormal=False),
)


@st.composite
def sorted_stats(draw: st.DrawFn) -> list[IntervalStat]:
    """15-min stats sorted by start, with gaps; times of first/last are free (ties across buckets)."""
    base = draw(st.sampled_from([1_767_222_000_000, -3 * ROLLUP_1D_MS, 0]))
    slots = sorted(draw(st.sets(st.integers(0, 400), max_size=60)))
    stats = []
    for slot in slots:
        start = base + slot * ROLLUP_15M_MS
        stats.append(
            IntervalStat(
                start_ms=start,
                count=draw(st.integers(1, 900)),
                first=draw(VALUES),
                last=draw(VALUES),
                minimum=draw(VALUES),
                maximum=draw(VALUES),
                mean=draw(VALUES),
                first_ts_ms=start + draw(st.sampled_from([0, 1, 450_000, 899_999, ROLLUP_15M_MS])),
                last_ts_ms=start + draw(st.sampled_from([0, 1, 450_000, 899_999, -ROLLUP_15M_MS])),
            )
        )
    return stats


def assert_same(a: IntervalColumns, b: IntervalColumns) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert a[name].tobytes() == b[name].tobytes(), name  # bit for bit: -0.0 is not 0.0 here


@settings(max_examples=300, deadline=None)
@given(stats=sorted_stats(), interval_ms=st.sampled_from([2 * ROLLUP_15M_MS, 4 * ROLLUP_15M_MS, ROLLUP_1D_MS]))
def test_merging_columns_gives_the_numbers_of_merge(stats: list[IntervalStat], interval_ms: int) -> None:
    assert_same(merge_columns(columns_from_stats(stats), interval_ms), columns_from_stats(merge(stats, interval_ms)))


@settings(max_examples=100, deadline=None)
@given(
    stats=sorted_stats(),
    fields=st.lists(st.sampled_from(STAT_FIELDS), min_size=1, max_size=4, unique=True),
)
def test_a_subset_of_fields_merges_from_what_merge_inputs_asks(stats: list[IntervalStat], fields: list[str]) -> None:
    interval_ms = 4 * ROLLUP_15M_MS
    merged = merge_columns(columns_from_stats(stats, merge_inputs(fields)), interval_ms)
    expected = columns_from_stats(merge(stats, interval_ms), fields)
    assert_same({name: merged[name] for name in expected}, expected)


def test_rows_become_typed_columns_exactly() -> None:
    big = 2**53 + 1  # beyond float64's integers: must stay exact
    rows = iter([(big, 3, 0.1, -0.0), (big + 2, 1, 1e300, 5.0)])
    cols = columns_from_rows(rows, ("start_ms", "count", "first", "last"))
    assert cols["start_ms"].dtype == np.int64
    assert cols["start_ms"].tolist() == [big, big + 2]
    assert cols["count"].tolist() == [3, 1]
    assert cols["first"].tolist() == [0.1, 1e300]
    assert np.signbit(cols["last"][0])
    empty = columns_from_rows(iter([]), ("start_ms", "mean"))
    assert empty["start_ms"].shape == (0,)
    assert empty["mean"].dtype == np.float64


def test_unknown_fields_are_refused() -> None:
    assert check_fields(["first", "count"]) == ("first", "count")
    with pytest.raises(ValueError, match="unknown interval fields"):
        check_fields(["first", "value FROM readings --"])
