"""The statistics of 15-min rollup buckets, asked of InfluxDB a run of buckets at a time.

A backfill touches thousands of consecutive buckets: asking for each bucket alone cost three
queries per bucket (about 6 s per backfilled day of the Amiens scenario). Here a run of up to
:data:`RUN_BUCKETS` consecutive buckets holding at most :data:`RAW_POINTS` good points (sparse
data: a backfill at 15 min, a quiet device) costs one query of its raw points, every statistic
computed here. A denser run costs one aggregate query (count, min, max, mean grouped by
``time(15m)``; InfluxQL windows are aligned on the epoch, like :func:`storage.rollups.bucket_start`)
plus, for the first and last values with their own timestamps (which a ``GROUP BY time`` answer
replaces by the window's start):

- one query of the raw good points of every group of buckets holding at most
  :data:`RAW_POINTS` points between them (sparse data: a backfill at 15 min, a quiet device);
- two selector queries (``first``, ``last``) for a bucket holding more (dense live data), where a
  lone selector keeps its point's timestamp.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ville_autonome.storage.base import IntervalStat
from ville_autonome.storage.influxql import ns
from ville_autonome.storage.rollups import ROLLUP_15M_MS

RUN_BUCKETS = 96  # a day of 15-min buckets per aggregate query
# rows per answer kept under 10 000, the row limit older 1.x servers apply by default (max-row-limit)
MAX_ROWS = 10_000
RAW_POINTS = MAX_ROWS  # most raw points fetched by one query to find first and last values

Series = list[dict[str, Any]]
Key = tuple[str, str, int]  # device, quantity, bucket start (ms)


def bucket_runs(buckets: Iterable[int], series: int) -> list[list[int]]:
    """Sorted bucket starts cut into runs of consecutive buckets, each short enough for its
    aggregate answer (a row per bucket and series, for ``series`` series) to stay in MAX_ROWS."""
    most = max(1, min(RUN_BUCKETS, MAX_ROWS // max(series, 1)))
    runs: list[list[int]] = []
    for b in sorted(set(buckets)):
        if runs and b == runs[-1][-1] + ROLLUP_15M_MS and len(runs[-1]) < most:
            runs[-1].append(b)
        else:
            runs.append([b])
    return runs


def _series_key(s: dict[str, Any]) -> tuple[str, str]:
    tags = s.get("tags") or {}
    return str(tags.get("device", "")), str(tags.get("quantity", ""))


def run_stats(query: Callable[[str], Series], source: str, cond: str, run: list[int]) -> dict[Key, IntervalStat]:
    """Statistics of the good points of the series matching ``cond`` (an InfluxQL condition on
    tags, already quoted) in every bucket of ``run``; a series with no good point in a bucket has
    no entry. ``source`` is the quoted measurement of the raw readings."""

    def window(a: int, b: int) -> str:
        return _window(source, cond, a, b)

    sparse = _stats_of_points(
        query(f"SELECT value, device, quantity {window(run[0], run[-1] + ROLLUP_15M_MS)} LIMIT {RAW_POINTS + 1}")
    )
    if sparse is not None:
        return sparse
    aggregates = run_aggregates(query, source, cond, run)
    per_bucket: dict[int, int] = {}
    for (_, _, b), (count, *_) in aggregates.items():
        per_bucket[b] = per_bucket.get(b, 0) + count

    ends: dict[Key, tuple[int, float, int, float]] = {}  # first ts, first value, last ts, last value
    group: list[int] = []  # buckets whose raw points are fetched together
    points = 0
    for b in run:
        n = per_bucket.get(b, 0)
        if n == 0:
            continue
        if group and (n > RAW_POINTS or points + n > RAW_POINTS):  # a raw window never spans a dense bucket
            _ends_from_raw(query, window(group[0], group[-1] + ROLLUP_15M_MS), ends)
            group, points = [], 0
        if n > RAW_POINTS:
            _ends_from_selectors(query, window(b, b + ROLLUP_15M_MS), b, ends)
            continue
        group.append(b)
        points += n
    if group:
        _ends_from_raw(query, window(group[0], group[-1] + ROLLUP_15M_MS), ends)

    out: dict[Key, IntervalStat] = {}
    for key, (count, lo, hi, mean) in aggregates.items():
        e = ends.get(key)
        if e is None:
            continue
        out[key] = IntervalStat(
            start_ms=key[2],
            count=count,
            first=float(e[1]),
            last=float(e[3]),
            minimum=float(lo),
            maximum=float(hi),
            mean=float(mean),
            first_ts_ms=e[0],
            last_ts_ms=e[2],
        )
    return out


def _stats_of_points(series: Series) -> dict[Key, IntervalStat] | None:
    """The statistics of raw points ``(time, value, device, quantity)`` in time order, or ``None``
    if there are more than :data:`RAW_POINTS` of them (the answer was cut at one more). Grouped by
    series and bucket with numpy: a backfill's run is thousands of points."""
    import numpy as np

    if any(s.get("columns") != ["time", "value", "device", "quantity"] for s in series):
        return None  # not the answer asked for: the other way
    rows = [r for s in series for r in s.get("values") or [] if r[1] is not None]
    if sum(len(s.get("values") or []) for s in series) > RAW_POINTS:
        return None
    if not rows:
        return {}
    times, values, devices, quantities = zip(*rows, strict=True)  # the columns asked, in that order
    ids: dict[tuple[str, str], int] = {}
    sid = np.array([ids.setdefault(k, len(ids)) for k in zip(devices, quantities, strict=True)])
    ts = np.array(times, dtype=np.int64)
    v = np.array(values, dtype=np.float64)
    bucket = ts - ts % ROLLUP_15M_MS
    order = np.lexsort((ts, bucket, sid))
    sid, ts, v, bucket = sid[order], ts[order], v[order], bucket[order]
    head = np.ones(len(ts), dtype=bool)
    head[1:] = (sid[1:] != sid[:-1]) | (bucket[1:] != bucket[:-1])
    heads = np.flatnonzero(head)
    tails = np.append(heads[1:], len(ts)) - 1
    names = list(ids)
    columns = zip(
        sid[heads].tolist(),
        bucket[heads].tolist(),
        np.diff(np.append(heads, len(ts))).tolist(),
        v[heads].tolist(),
        v[tails].tolist(),
        np.minimum.reduceat(v, heads).tolist(),
        np.maximum.reduceat(v, heads).tolist(),
        (np.add.reduceat(v, heads) / np.diff(np.append(heads, len(ts)))).tolist(),
        ts[heads].tolist(),
        ts[tails].tolist(),
        strict=True,
    )
    return {(*names[i], b): IntervalStat(b, *stat) for i, b, *stat in columns}


def _window(source: str, cond: str, start: int, end: int) -> str:
    return f"FROM {source} WHERE ({cond}) AND quality = 'good' AND time >= {ns(start)} AND time < {ns(end)}"


def run_aggregates(
    query: Callable[[str], Series], source: str, cond: str, run: list[int]
) -> dict[Key, tuple[int, float, float, float]]:
    """Count, minimum, maximum and mean of the good points of each series and bucket of ``run``
    (one query); a series with no good point in a bucket has no entry."""
    out: dict[Key, tuple[int, float, float, float]] = {}
    grouped = f"SELECT count(value), min(value), max(value), mean(value) {_window(source, cond, run[0], run[-1] + ROLLUP_15M_MS)}"
    for s in query(f"{grouped} GROUP BY time(15m), device, quantity fill(none)"):
        device, quantity = _series_key(s)
        cols = s["columns"]
        for values in s.get("values") or []:
            row = dict(zip(cols, values, strict=True))
            if row.get("count"):
                out[(device, quantity, int(row["time"]))] = (
                    int(row["count"]),
                    float(row["min"]),
                    float(row["max"]),
                    float(row["mean"]),
                )
    return out


def _ends_from_raw(query: Callable[[str], Series], window: str, ends: dict[Key, tuple[int, float, int, float]]) -> None:
    """First and last good points of each series and bucket, from the raw points of ``window``."""
    for s in query(f"SELECT value {window} GROUP BY device, quantity"):
        device, quantity = _series_key(s)
        cols = s["columns"]
        t_col, v_col = cols.index("time"), cols.index("value")
        for values in s.get("values") or []:
            ts, value = int(values[t_col]), values[v_col]
            if value is None:
                continue
            key = (device, quantity, ts - ts % ROLLUP_15M_MS)
            e = ends.get(key)
            if e is None:
                ends[key] = (ts, value, ts, value)
            elif ts < e[0]:
                ends[key] = (ts, value, e[2], e[3])
            elif ts >= e[2]:
                ends[key] = (e[0], e[1], ts, value)


def _ends_from_selectors(
    query: Callable[[str], Series], window: str, b: int, ends: dict[Key, tuple[int, float, int, float]]
) -> None:
    """First and last good points of each series in the one bucket ``b`` (a lone selector keeps
    its point's own timestamp)."""
    firsts: dict[tuple[str, str], tuple[int, float]] = {}
    for s in query(f"SELECT first(value) {window} GROUP BY device, quantity"):
        for values in s.get("values") or []:
            firsts[_series_key(s)] = (int(values[0]), values[1])
    for s in query(f"SELECT last(value) {window} GROUP BY device, quantity"):
        device, quantity = _series_key(s)
        first = firsts.get((device, quantity))
        for values in s.get("values") or []:
            if first is not None:
                ends[(device, quantity, b)] = (first[0], first[1], int(values[0]), values[1])
