"""The statistics of 15-min rollup buckets, asked of InfluxDB a run of buckets at a time.

A backfill touches thousands of consecutive buckets; asking for each bucket alone cost three
queries per bucket. Here a run of up to :data:`RUN_BUCKETS` consecutive buckets costs one query
of its good points per bucket (``count … GROUP BY time(15m)``: InfluxQL windows are aligned on the
epoch, like :func:`series.rollups.bucket_start`), then one query of the raw good points of each
group of buckets holding at most :data:`RAW_POINTS` points between them, every statistic computed
here with numpy. A bucket denser than that alone (live data of many devices) costs three queries:
its aggregates, and its ``first`` and ``last`` values, each alone so that the selector keeps its
point's own timestamp. Answers stay under 10 000 rows, the default row limit of older 1.x servers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ville_autonome.influx_wire.influxql import ns
from ville_autonome.series.rollup_table import StatTable, concat, empty_table, table_of_points, table_of_stats
from ville_autonome.series.rollups import ROLLUP_15M_MS
from ville_autonome.series.values import IntervalStat

RUN_BUCKETS = 96  # a day of 15-min buckets per run
RAW_POINTS = 10_000  # most raw points fetched by one query (max-row-limit of older 1.x servers)

Series = list[dict[str, Any]]
Key = tuple[str, str, int]  # device, quantity, bucket start (ms)


def bucket_runs(buckets: Iterable[int]) -> list[list[int]]:
    """Sorted bucket starts cut into runs of at most :data:`RUN_BUCKETS` consecutive buckets."""
    runs: list[list[int]] = []
    for b in sorted(set(buckets)):
        if runs and b == runs[-1][-1] + ROLLUP_15M_MS and len(runs[-1]) < RUN_BUCKETS:
            runs[-1].append(b)
        else:
            runs.append([b])
    return runs


def run_stats(query: Callable[[str], Series], source: str, cond: str, run: list[int]) -> StatTable:
    """Statistics of the good points of the series matching ``cond`` (an InfluxQL condition on
    tags, already quoted, followed by ``AND``; or empty: every series) in every bucket of ``run``;
    a series with no good point in a bucket has no row. ``source``: the raw readings, quoted."""

    def window(a: int, b: int) -> str:
        return f"FROM {source} WHERE {cond} quality = 'good' AND time >= {ns(a)} AND time < {ns(b)}"

    end = run[-1] + ROLLUP_15M_MS
    totals = {
        int(t): int(n)
        for s in query(f"SELECT count(value) {window(run[0], end)} GROUP BY time(15m) fill(none)")
        for t, n in s.get("values") or []
        if n
    }
    out: list[StatTable] = []
    group: list[int] = []  # buckets whose raw points are fetched together
    points = 0
    for b in [*run, end]:  # the end flushes the last group
        n = totals.get(b, 0)
        if group and (b == end or points + n > RAW_POINTS):
            raw = f"SELECT value {window(group[0], group[-1] + ROLLUP_15M_MS)} GROUP BY device, quantity"
            out.append(_stats_of_points(query(raw)))
            group, points = [], 0
        if n > RAW_POINTS:
            out.append(_dense_bucket(query, window(b, b + ROLLUP_15M_MS), b))
        elif n:
            group.append(b)
            points += n
    return concat(out)


def _stats_of_points(series: Series) -> StatTable:
    """The statistics of raw points grouped by device and quantity (each series ``time, value`` in
    time order), with numpy (a backfill's run is thousands of points)."""
    import numpy as np

    names: list[tuple[str, str]] = []
    parts = []
    for s in series:
        rows = s.get("values") or []
        if s.get("columns") != ["time", "value"] or not rows:
            continue
        tags = s.get("tags") or {}
        table = np.array(rows, dtype=np.float64)  # times in ms are below 2**53: exact; None → NaN
        table = table[~np.isnan(table[:, 1])]
        names.append((str(tags.get("device", "")), str(tags.get("quantity", ""))))
        parts.append(table)
    if not parts:
        return empty_table()
    sid = np.repeat(np.arange(len(parts), dtype=np.int64), [len(p) for p in parts])
    table = np.concatenate(parts)
    return table_of_points(names, sid, table[:, 0].astype(np.int64), table[:, 1], ROLLUP_15M_MS)


def _dense_bucket(query: Callable[[str], Series], window: str, b: int) -> StatTable:
    """The statistics of every series in the one bucket ``b``: aggregates, then each selector alone."""
    found: dict[str, dict[tuple[str, str], list[Any]]] = {}
    for name, select in (
        ("agg", "count(value), min(value), max(value), mean(value)"),
        ("first", "first(value)"),
        ("last", "last(value)"),
    ):
        for s in query(f"SELECT {select} {window} GROUP BY device, quantity"):
            tags = s.get("tags") or {}
            for values in s.get("values") or []:
                found.setdefault(name, {})[(str(tags.get("device", "")), str(tags.get("quantity", "")))] = values
    out = []
    for key, (_, count, lo, hi, mean) in found.get("agg", {}).items():
        first, last = found.get("first", {}).get(key), found.get("last", {}).get(key)
        if count and first is not None and last is not None:
            stat = IntervalStat(
                b,
                int(count),
                float(first[1]),
                float(last[1]),
                float(lo),
                float(hi),
                float(mean),
                int(first[0]),
                int(last[0]),
            )
            out.append((key, stat))
    return table_of_stats(out)
