"""The rollup compiler's column path (series/rollup_table.py, influx_wire/stat_lines.py)
against the per-bucket path it replaces: the same statistics, the same merged days, the same
lines, character for character (what is stored must not change by a bit)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.storage.test_rollup_columns import VALUES
from ville_autonome.influx_wire.line_protocol import LineProtocolError
from ville_autonome.influx_wire.rows import day_of, empty_stat, stat_line
from ville_autonome.influx_wire.stat_lines import StatPrefixes, stat_lines
from ville_autonome.readings.model import DeviceContext
from ville_autonome.series.rollup_table import (
    RecentStats,
    StatTable,
    concat,
    gather,
    table_of_points,
    table_of_stats,
    whole_days,
)
from ville_autonome.series.rollups import ROLLUP_1D_MS, ROLLUP_15M_MS, STAT_FIELDS, aggregate
from ville_autonome.series.values import IntervalStat

DAY0 = 1_767_225_600_000  # 2026-01-01T00:00Z
FIELDS = ("start_ms", *STAT_FIELDS)
QUARTERS = ROLLUP_1D_MS // ROLLUP_15M_MS
SERIES = [("pv-1", "energy_produced_wh"), ("pv-1", "energy_import_wh"), ("meter,2", "energy_import_wh")]
CTX = {d: DeviceContext("gare", "quai 1", d, "production", "pv") for d, _ in SERIES}


def rows_of(table: StatTable) -> list[tuple[tuple[str, str], IntervalStat]]:
    return [(table.names[s], table.stat(i)) for i, s in enumerate(table.sid.tolist())]


def numbers(s: IntervalStat) -> tuple[float, ...]:
    return tuple(getattr(s, f) for f in ("start_ms", *STAT_FIELDS))


def same(a: IntervalStat, b: IntervalStat) -> bool:
    """Equal bit for bit (0.0 is not -0.0 here), of the same types."""
    return all(
        type(x) is type(y) and x == y and (not isinstance(x, float) or math.copysign(1.0, x) == math.copysign(1.0, y))
        for x, y in zip(numbers(a), numbers(b), strict=True)
    )


@st.composite
def points(draw: st.DrawFn) -> list[tuple[int, float, tuple[str, str]]]:
    """Raw points of a few series over three days, in time order (a raw query's answer)."""
    times = draw(st.lists(st.integers(DAY0, DAY0 + 3 * ROLLUP_1D_MS - 1), max_size=200, unique=True))
    return [(t, draw(VALUES), draw(st.sampled_from(SERIES))) for t in sorted(times)]


@settings(max_examples=200, deadline=None)
@given(pts=points())
def test_table_of_points_gives_each_series_buckets_as_aggregate(pts: list[tuple[int, float, tuple[str, str]]]) -> None:
    sid = np.array([SERIES.index(k) for _, _, k in pts], dtype=np.int64)
    ts = np.array([t for t, _, _ in pts], dtype=np.int64)
    table = table_of_points(SERIES, sid, ts, np.array([v for _, v, _ in pts], dtype=np.float64), ROLLUP_15M_MS)
    got = {(k, s.start_ms): s for k, s in rows_of(table)}
    expected = {
        (k, s.start_ms): s for k in SERIES for s in aggregate([(t, v) for t, v, k2 in pts if k2 == k], ROLLUP_15M_MS)
    }
    assert got.keys() == expected.keys()
    for key, s in expected.items():
        assert [x for f, x in zip(FIELDS, numbers(got[key]), strict=True) if f != "mean"] == [
            x for f, x in zip(FIELDS, numbers(s), strict=True) if f != "mean"
        ]  # every number but the mean: exactly
        assert got[key].mean == pytest.approx(s.mean, rel=1e-12, abs=1e-12)  # numpy sums pairwise


POOL = [0.0, -0.0, 1.0, 2.5, -3.0, 1e9 + 0.1, 0.1, 1e-300, -7.25e11]  # few values: ties are common


SHAPES = st.tuples(
    st.integers(0, 2**32), st.lists(st.sampled_from(["whole", "whole-empty", "some", "none"]), min_size=9, max_size=9)
)


def quarter_stats(seed: int, shapes: list[str]) -> list[tuple[tuple[str, str], IntervalStat]]:
    """15-min stats of a few series over three days, each day of each series ``whole``,
    ``whole-empty`` (every quarter there, all empty), ``some`` or ``none``; at most one per
    (series, start), in an order of ``seed`` (a day has 96 quarters: drawn from a seed)."""
    rng = random.Random(seed)
    out = []
    for k in SERIES:
        for d in range(3):
            day = DAY0 + d * ROLLUP_1D_MS
            shape = shapes[SERIES.index(k) * 3 + d]
            slots = range(QUARTERS) if shape.startswith("whole") else rng.sample(range(QUARTERS), rng.randint(0, 95))
            for slot in slots:
                start = day + slot * ROLLUP_15M_MS
                if shape == "whole-empty" or rng.random() < 0.1:
                    out.append((k, empty_stat(start)))
                    continue
                values = [rng.choice(POOL) if rng.random() < 0.5 else rng.uniform(-1e6, 1e6) for _ in range(5)]
                edges = [start + rng.choice([0, 1, 899_999]) for _ in range(2)]
                out.append((k, IntervalStat(start, rng.randint(1, 900), *values, *edges)))
    rng.shuffle(out)
    return out


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES)
def test_whole_days_merge_as_day_of_and_the_other_rows_are_left(shape: tuple[int, list[str]]) -> None:
    rows = quarter_stats(*shape)
    table = table_of_stats(rows)
    merged, partial = whole_days(table)
    by_day: dict[tuple[tuple[str, str], int], list[IntervalStat]] = {}
    for k, s in rows:
        by_day.setdefault((k, s.start_ms - s.start_ms % ROLLUP_1D_MS), []).append(s)
    whole = {key: day_of(qs, key[1]) for key, qs in by_day.items() if len(qs) == QUARTERS}
    got = {(k, s.start_ms): s for k, s in rows_of(merged)}
    assert got.keys() == whole.keys()
    assert all(same(got[key], s) for key, s in whole.items())
    left = [i for i, p in enumerate(partial.tolist()) if p]
    assert left == [i for i, (k, s) in enumerate(rows) if (k, s.start_ms - s.start_ms % ROLLUP_1D_MS) not in whole]


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, data=st.data())
def test_gather_takes_the_rows_found_and_the_empty_bucket_elsewhere(
    shape: tuple[int, list[str]], data: st.DataObject
) -> None:
    rows = quarter_stats(*shape)
    found = concat([table_of_stats(rows[: len(rows) // 2]), table_of_stats(rows[len(rows) // 2 :])])
    known = {(k, s.start_ms): s for k, s in rows}
    names = [SERIES[2], SERIES[0]]  # not every series found, in another order
    wanted = data.draw(
        st.lists(
            st.tuples(st.integers(0, 1), st.integers(0, 3 * QUARTERS - 1).map(lambda i: DAY0 + i * ROLLUP_15M_MS)),
            unique=True,
        )
    )
    table = gather(found, names, [i for i, _ in wanted], [b for _, b in wanted])
    assert [table.names[s] for s in table.sid.tolist()] == [names[i] for i, _ in wanted]
    for (i, b), (_, s) in zip(wanted, rows_of(table), strict=True):
        assert same(s, known.get((names[i], b), empty_stat(b)))


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    stats=st.lists(
        st.tuples(
            st.sampled_from(SERIES),
            st.integers(-(2**45), 2**45),
            st.integers(0, 10**6),
            st.tuples(*[st.one_of(finite, st.sampled_from([-0.0, 0.0, 1e16, 1e-7, 123456789.0]))] * 5),
            st.integers(-(2**45), 2**45),
        ),
        max_size=40,
    )
)
def test_lines_from_columns_are_the_lines_of_stat_line(
    stats: list[tuple[tuple[str, str], int, int, tuple[float, ...], int]],
) -> None:
    rows = [(k, IntervalStat(start, n, *values, ts, ts + 1)) for k, start, n, values, ts in stats]
    table = table_of_stats(rows)
    prefix = StatPrefixes("rollup_15m")
    lines = stat_lines([prefix(CTX[k[0]], k[1]) for k, _ in rows], table.cols)
    assert lines == [stat_line("rollup_15m", CTX[k[0]], k[1], s) for k, s in rows]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_statistic_that_is_not_finite_is_refused_as_stat_line_refuses_it(bad: float) -> None:
    rows = [(SERIES[0], IntervalStat(DAY0, 3, 1.0, 2.0, 1.0, 2.0, 1.5, DAY0, DAY0 + 1))] * 2
    table = table_of_stats(rows)
    table.cols["maximum"][1] = bad
    ctx = CTX[SERIES[0][0]]
    with pytest.raises(LineProtocolError):
        stat_line("rollup_15m", ctx, SERIES[0][1], table.stat(1))
    with pytest.raises(LineProtocolError):
        stat_lines([StatPrefixes("rollup_15m")(ctx, SERIES[0][1])] * 2, table.cols)


def test_an_empty_table_gives_no_line_and_no_day() -> None:
    table = table_of_stats([])
    assert stat_lines([], table.cols) == []
    merged, partial = whole_days(table)
    assert len(merged) == 0
    assert partial.shape == (0,)
    assert len(gather(table, SERIES, [0], [DAY0])) == 1
    assert np.array_equal(gather(table, SERIES, [0], [DAY0]).cols["count"], [0])


def test_recent_stats_answer_the_newest_of_a_bucket_and_only_a_window_they_hold_whole() -> None:
    day = [(SERIES[0], empty_stat(DAY0 + i * ROLLUP_15M_MS)) for i in range(QUARTERS)]
    newer = IntervalStat(
        DAY0 + ROLLUP_15M_MS, 2, 1.0, 3.0, 1.0, 3.0, 2.0, DAY0 + ROLLUP_15M_MS, DAY0 + 2 * ROLLUP_15M_MS - 1
    )
    recent = RecentStats(max_rows=1_000)
    recent.add(table_of_stats(day))
    recent.add(table_of_stats([(SERIES[0], newer), (SERIES[1], empty_stat(DAY0))]))
    cols = recent.columns(SERIES[0], DAY0, DAY0 + ROLLUP_1D_MS, STAT_FIELDS, ROLLUP_15M_MS)
    assert cols is not None
    assert cols["start_ms"].tolist() == [newer.start_ms]  # the buckets holding data only, the newest
    assert cols["mean"].tolist() == [2.0]
    assert recent.columns(SERIES[0], DAY0, DAY0 + 2 * ROLLUP_1D_MS, STAT_FIELDS, ROLLUP_15M_MS) is None
    assert recent.columns(SERIES[1], DAY0, DAY0 + ROLLUP_1D_MS, STAT_FIELDS, ROLLUP_15M_MS) is None
    assert recent.columns(SERIES[2], DAY0, DAY0 + ROLLUP_1D_MS, STAT_FIELDS, ROLLUP_15M_MS) is None
    assert recent.columns(SERIES[0], DAY0, DAY0 + ROLLUP_1D_MS, STAT_FIELDS, ROLLUP_1D_MS) is None
    full = RecentStats(max_rows=10)  # beyond its bound a table is not kept: the store is read
    full.add(table_of_stats(day))
    assert full.columns(SERIES[0], DAY0, DAY0 + ROLLUP_15M_MS, STAT_FIELDS, ROLLUP_15M_MS) is None
