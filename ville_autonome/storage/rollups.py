"""Interval aggregation and rollup buckets (pure: no I/O, shared by every backend).

A rollup is the aggregate of the GOOD values of one (device, quantity) over one aligned bucket:
15 minutes (``ROLLUP_15M_MS``) and one UTC day (``ROLLUP_1D_MS``). Buckets are aligned on the Unix
epoch, so 15-min and daily buckets nest. Daily rollups are merged from 15-min ones.

The same stats also come as numpy columns (``storage.base.IntervalColumns``: ``start_ms`` and some
of :data:`STAT_FIELDS`, one entry per interval with data, oldest first), which a backend builds
without one Python object per interval (``Store.interval_columns``); :func:`merge_columns`
gives exactly the numbers of :func:`merge`. numpy is imported by those functions only, so that a
process that only writes (the ingest) does not load it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ville_autonome.storage.base import IntervalColumns, IntervalStat

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

ROLLUP_15M_MS = 15 * 60 * 1000
ROLLUP_1D_MS = 24 * 3600 * 1000

# the fields of an IntervalStat besides start_ms, in its order
STAT_FIELDS = ("count", "first", "last", "minimum", "maximum", "mean", "first_ts_ms", "last_ts_ms")
INT_FIELDS = frozenset({"start_ms", "count", "first_ts_ms", "last_ts_ms"})  # int64 columns; the rest float64


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


# ----------------------------------------------------------------- the same stats as columns


def check_fields(fields: Iterable[str]) -> tuple[str, ...]:
    """``fields`` as a tuple, each one of :data:`STAT_FIELDS` (``ValueError`` otherwise)."""
    out = tuple(fields)
    unknown = [f for f in out if f not in STAT_FIELDS]
    if unknown:
        raise ValueError(f"unknown interval fields {unknown!r} (known: {', '.join(STAT_FIELDS)})")
    return out


def merge_inputs(fields: Sequence[str]) -> tuple[str, ...]:
    """What :func:`merge_columns` needs to merge ``fields``: ``first`` is chosen by ``first_ts_ms``,
    ``last`` by ``last_ts_ms``, and ``mean`` is weighted by ``count``."""
    need = set(fields)
    if "first" in need:
        need.add("first_ts_ms")
    if "last" in need:
        need.add("last_ts_ms")
    if "mean" in need:
        need.add("count")
    return tuple(f for f in STAT_FIELDS if f in need)


def columns_from_stats(stats: Sequence[IntervalStat], fields: Sequence[str] = STAT_FIELDS) -> IntervalColumns:
    """``stats`` as columns: ``start_ms`` and ``fields``."""
    import numpy as np

    out: IntervalColumns = {}
    for name in ("start_ms", *check_fields(fields)):
        dtype = np.int64 if name in INT_FIELDS else np.float64
        out[name] = np.fromiter((getattr(s, name) for s in stats), dtype=dtype, count=len(stats))
    return out


def columns_from_rows(rows: Iterable[Sequence[float]], names: Sequence[str]) -> IntervalColumns:
    """Result rows of ``SELECT <names>`` (a cursor: read as it goes) as columns, without keeping a
    Python object per row; times and counts as int64, exactly."""
    import numpy as np

    table = np.fromiter(rows, dtype=[(name, np.int64 if name in INT_FIELDS else np.float64) for name in names])
    return {name: np.ascontiguousarray(table[name]) for name in names}


def _first_where(key: npt.NDArray[Any], group: npt.NDArray[np.intp], heads: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
    """Per run of ``group``, the index of its first element with the smallest ``key`` (what
    ``min(run, key=…)`` returns: the earliest of equal keys)."""
    import numpy as np

    return np.lexsort((key, group))[heads]  # lexsort is stable


def merge_columns(cols: IntervalColumns, interval_ms: int) -> IntervalColumns:
    """:func:`merge` on columns (sorted by ``start_ms``), with the same numbers: each run of stats in
    one ``interval_ms`` bucket gives its earliest ``first`` (by ``first_ts_ms``), its latest
    ``last`` (by ``last_ts_ms``; the earliest of equal times, as :func:`merge`), the extreme
    ``minimum``/``maximum`` (the earliest of equal values), the summed ``count``, and ``mean``
    weighted by count and summed in the same order by Python's ``sum``. ``cols`` must hold what
    :func:`merge_inputs` asks for its fields; the result has the same fields."""
    import numpy as np

    start = cols["start_ms"]
    if not start.size:
        return dict(cols)
    bucket = start - start % interval_ms  # numpy's % takes the divisor's sign, as Python's does
    is_head = np.ones(bucket.shape[0], dtype=bool)
    is_head[1:] = bucket[1:] != bucket[:-1]
    heads = np.flatnonzero(is_head)
    group = np.cumsum(is_head) - 1
    out: IntervalColumns = {"start_ms": bucket[heads]}
    for name in cols:
        if name == "start_ms":
            continue
        values = cols[name]
        if name == "count":
            out[name] = np.add.reduceat(values, heads)
        elif name in ("first", "first_ts_ms"):
            out[name] = values[_first_where(cols["first_ts_ms"], group, heads)]
        elif name in ("last", "last_ts_ms"):
            out[name] = values[_first_where(-cols["last_ts_ms"], group, heads)]
        elif name == "minimum":
            out[name] = values[_first_where(values, group, heads)]
        elif name == "maximum":
            out[name] = values[_first_where(-values, group, heads)]
        elif name == "mean":
            weighted = (values * cols["count"]).tolist()
            ends = [*heads[1:].tolist(), len(weighted)]
            sums = [sum(weighted[a:b]) for a, b in zip(heads.tolist(), ends, strict=True)]
            out[name] = np.array(sums, dtype=np.float64) / np.add.reduceat(cols["count"], heads)
    return out


def columns_from(cols: IntervalColumns, interval_ms: int, source_ms: int | None) -> IntervalColumns:
    """:func:`intervals_from` on columns."""
    if source_ms == interval_ms:
        return cols
    return merge_columns(cols, interval_ms)
