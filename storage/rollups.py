"""Interval aggregation and rollup buckets (pure: no I/O, shared by every backend).

A rollup is the aggregate of the GOOD values of one (device, quantity) over one aligned bucket:
15 minutes (``ROLLUP_15M_MS``) and one UTC day (``ROLLUP_1D_MS``). Buckets are aligned on the Unix
epoch, so 15-min and daily buckets nest. Daily rollups are merged from 15-min ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from storage.base import IntervalStat

ROLLUP_15M_MS = 15 * 60 * 1000
ROLLUP_1D_MS = 24 * 3600 * 1000


def bucket_start(ts_ms: int, interval_ms: int) -> int:
    return ts_ms - ts_ms % interval_ms


def aggregate(points: Iterable[tuple[int, float]], interval_ms: int) -> list[IntervalStat]:
    """Aggregate ``(ts_ms, value)`` points sorted by time into aligned buckets, oldest first."""
    out: list[IntervalStat] = []
    current: list[tuple[int, float]] = []
    start = None
    for ts, value in points:
        b = bucket_start(ts, interval_ms)
        if start is not None and b != start:
            out.append(_stat(start, current))
            current = []
        start = b
        current.append((ts, value))
    if start is not None and current:
        out.append(_stat(start, current))
    return out


def _stat(start: int, pts: Sequence[tuple[int, float]]) -> IntervalStat:
    values = [v for _, v in pts]
    return IntervalStat(
        start_ms=start,
        count=len(values),
        first=values[0],
        last=values[-1],
        minimum=min(values),
        maximum=max(values),
        mean=sum(values) / len(values),
        first_ts_ms=pts[0][0],
        last_ts_ms=pts[-1][0],
    )


def merge(stats: Iterable[IntervalStat], interval_ms: int) -> list[IntervalStat]:
    """Merge finer aligned stats (sorted by start) into coarser aligned buckets of ``interval_ms``."""
    out: list[IntervalStat] = []
    group: list[IntervalStat] = []
    start = None
    for s in stats:
        b = bucket_start(s.start_ms, interval_ms)
        if start is not None and b != start:
            out.append(_merge_group(start, group))
            group = []
        start = b
        group.append(s)
    if start is not None and group:
        out.append(_merge_group(start, group))
    return out


def _merge_group(start: int, group: Sequence[IntervalStat]) -> IntervalStat:
    first = min(group, key=lambda s: s.first_ts_ms)
    last = max(group, key=lambda s: s.last_ts_ms)
    count = sum(s.count for s in group)
    return IntervalStat(
        start_ms=start,
        count=count,
        first=first.first,
        last=last.last,
        minimum=min(s.minimum for s in group),
        maximum=max(s.maximum for s in group),
        mean=sum(s.mean * s.count for s in group) / count,
        first_ts_ms=first.first_ts_ms,
        last_ts_ms=last.last_ts_ms,
    )


def rollup_source(start_ms: int, end_ms: int, interval_s: int) -> int | None:
    """Which rollup can answer an ``intervals`` query: ``ROLLUP_1D_MS``, ``ROLLUP_15M_MS``, or
    ``None`` (aggregate raw points) when the interval or the range is not aligned on one."""
    interval_ms = interval_s * 1000
    for size in (ROLLUP_1D_MS, ROLLUP_15M_MS):
        if interval_ms % size == 0 and start_ms % size == 0 and end_ms % size == 0:
            return size
    return None


def intervals_from(stats: Iterable[IntervalStat], interval_ms: int, source_ms: int | None) -> list[IntervalStat]:
    """Turn rollup rows (or raw-aggregated stats) of size ``source_ms`` into ``interval_ms`` buckets."""
    stats = list(stats)
    if source_ms == interval_ms:
        return stats
    return merge(stats, interval_ms)
