"""Interval aggregation and rollup buckets (pure, shared by every backend).

A rollup aggregates the GOOD values of one (device, quantity) over an aligned bucket of 15 min or
one UTC day (aligned on the epoch: they nest; days are merged from 15-min ones). The same stats
come as numpy columns (``series.values.IntervalColumns``, oldest first), :func:`merge_columns`
giving exactly the numbers of :func:`merge`; numpy is imported inside those functions only, so
that a process that only writes (the ingest) does not load it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any

from ville_autonome.series.values import IntervalColumns, IntervalStat

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
    return [_stat(b, list(g)) for b, g in groupby(points, key=lambda p: bucket_start(p[0], interval_ms))]


def _stat(start: int, pts: Sequence[tuple[int, float]]) -> IntervalStat:
    values = [v for _, v in pts]
    n = len(values)  # start, count, first, last, minimum, maximum, mean, first_ts_ms, last_ts_ms:
    return IntervalStat(
        start, n, values[0], values[-1], min(values), max(values), sum(values) / n, pts[0][0], pts[-1][0]
    )


def merge(stats: Iterable[IntervalStat], interval_ms: int) -> list[IntervalStat]:
    """Merge finer aligned stats (sorted by start) into coarser aligned buckets of ``interval_ms``."""
    return [_merge_group(b, list(g)) for b, g in groupby(stats, key=lambda s: bucket_start(s.start_ms, interval_ms))]


def _merge_group(start: int, group: Sequence[IntervalStat]) -> IntervalStat:
    first = min(group, key=lambda s: s.first_ts_ms)
    last = max(group, key=lambda s: s.last_ts_ms)
    count = sum(s.count for s in group)
    lo, hi = min(s.minimum for s in group), max(s.maximum for s in group)
    mean = sum(s.mean * s.count for s in group) / count
    return IntervalStat(start, count, first.first, last.last, lo, hi, mean, first.first_ts_ms, last.last_ts_ms)


def rollup_source(start_ms: int, end_ms: int, interval_s: int) -> int | None:
    """Which rollup can answer an ``intervals`` query: ``ROLLUP_1D_MS``, ``ROLLUP_15M_MS``, or
    ``None`` (aggregate raw points) when the interval or the range is not aligned on one."""
    interval_ms = interval_s * 1000
    for size in (ROLLUP_1D_MS, ROLLUP_15M_MS):
        if interval_ms % size == 0 and start_ms % size == 0 and end_ms % size == 0:
            return size
    return None


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


def stats_from_columns(cols: IntervalColumns) -> list[IntervalStat]:
    """Columns of every one of :data:`STAT_FIELDS` back as stats: ``Store.intervals`` from ``Store.interval_columns``."""
    return [IntervalStat(*row) for row in zip(*(cols[n].tolist() for n in ("start_ms", *STAT_FIELDS)), strict=True)]


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
    """:func:`merge` on columns sorted by ``start_ms``, the same numbers (ties and summing order
    too); ``cols`` holds what :func:`merge_inputs` asks for its fields."""
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
    """Columns of rollups of ``source_ms`` as ``interval_ms`` intervals."""
    return cols if source_ms == interval_ms else merge_columns(cols, interval_ms)
