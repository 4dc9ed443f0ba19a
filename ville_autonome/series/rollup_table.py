"""The statistics of many series at once as numpy columns (pure): what the rollup compiler
computes in a pass, kept as columns rather than an :class:`IntervalStat` per bucket (a year's
backfill is a million buckets).

A :class:`StatTable` row is one series (``names[sid]``, a (device, quantity)) at one aligned
bucket (``start_ms``) with every statistic of :data:`series.rollups.STAT_FIELDS`. The numbers are
exactly those of the per-bucket code: :func:`table_of_points` computes what the raw points give,
:func:`whole_days` merges days with :func:`series.rollups.merge_columns` (the numbers of
:func:`series.rollups.merge`, hence of ``influx_wire.rows.day_of``), and the empty bucket is
``influx_wire.rows.empty_stat``. numpy is imported inside the functions (module docstring of
:mod:`series.rollups`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from ville_autonome.series.rollups import INT_FIELDS, ROLLUP_1D_MS, STAT_FIELDS, merge_columns
from ville_autonome.series.values import IntervalColumns, IntervalStat

if TYPE_CHECKING:
    import numpy.typing as npt

Name = tuple[str, str]  # (device, quantity)
COLUMNS = ("start_ms", *STAT_FIELDS)


@dataclass(frozen=True, slots=True)
class StatTable:
    """Row ``i``: series ``names[sid[i]]`` over the bucket ``cols["start_ms"][i]``; ``cols`` holds
    :data:`COLUMNS` (times and counts int64, the rest float64)."""

    names: list[Name]
    sid: npt.NDArray[Any]
    cols: IntervalColumns

    def __len__(self) -> int:
        return int(self.sid.shape[0])

    def stat(self, i: int) -> IntervalStat:
        return IntervalStat(*(self.cols[c][i].item() for c in COLUMNS))


def _columns(values: dict[str, Any]) -> IntervalColumns:
    import numpy as np

    return {c: np.asarray(values[c], dtype=np.int64 if c in INT_FIELDS else np.float64) for c in COLUMNS}


def empty_table() -> StatTable:
    import numpy as np

    return StatTable([], np.zeros(0, dtype=np.int64), _columns({c: [] for c in COLUMNS}))


def table_of_stats(rows: Iterable[tuple[Name, IntervalStat]]) -> StatTable:
    """A table of ``(series, stat)`` pairs, in their order."""
    import numpy as np

    ids: dict[Name, int] = {}
    sid: list[int] = []
    values: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for name, s in rows:
        sid.append(ids.setdefault(name, len(ids)))
        for c in COLUMNS:
            values[c].append(getattr(s, c))
    return StatTable(list(ids), np.array(sid, dtype=np.int64), _columns(values))


def table_of_points(
    names: Sequence[Name], sid: npt.NDArray[Any], ts: npt.NDArray[Any], v: npt.NDArray[Any], interval_ms: int
) -> StatTable:
    """The statistics of raw points (point ``i``: series ``names[sid[i]]`` at ``ts[i]`` [ms, int64]
    of value ``v[i]``) in aligned buckets of ``interval_ms``; a row per series and bucket holding
    a point. The points of a series are taken in time order (equal times: in their given order)."""
    import numpy as np

    if not len(ts):
        return empty_table()
    bucket = ts - ts % interval_ms
    order = np.lexsort((ts, bucket, sid))
    sid, ts, v, bucket = sid[order], ts[order], v[order], bucket[order]
    head = np.ones(len(ts), dtype=bool)
    head[1:] = (sid[1:] != sid[:-1]) | (bucket[1:] != bucket[:-1])
    heads = np.flatnonzero(head)
    tails = np.append(heads[1:], len(ts)) - 1
    count = tails - heads + 1
    cols = {
        "start_ms": bucket[heads],
        "count": count.astype(np.int64),
        "first": v[heads],
        "last": v[tails],
        "minimum": np.minimum.reduceat(v, heads),
        "maximum": np.maximum.reduceat(v, heads),
        "mean": np.add.reduceat(v, heads) / count,
        "first_ts_ms": ts[heads],
        "last_ts_ms": ts[tails],
    }
    return StatTable(list(names), sid[heads], _columns(cols))


def concat(tables: Sequence[StatTable]) -> StatTable:
    """The rows of ``tables`` one after the other, their series named once."""
    import numpy as np

    if not tables:
        return empty_table()
    ids: dict[Name, int] = {}
    sids = []
    for t in tables:
        remap = np.array([ids.setdefault(n, len(ids)) for n in t.names] or [0], dtype=np.int64)
        sids.append(remap[t.sid])
    cols = {c: np.concatenate([t.cols[c] for t in tables]) for c in COLUMNS}
    return StatTable(list(ids), np.concatenate(sids), cols)


def gather(found: StatTable, names: Sequence[Name], sid: Sequence[int], start_ms: Sequence[int]) -> StatTable:
    """The rows ``(names[sid[i]], start_ms[i])`` taken from ``found`` (which must hold each
    (series, start) once at most), the empty bucket (``influx_wire.rows.empty_stat``) where it has none."""
    import numpy as np

    want_sid = np.array(sid, dtype=np.int64)
    want_start = np.array(start_ms, dtype=np.int64)
    n = want_sid.shape[0]
    empty = {
        "start_ms": want_start,
        "count": np.zeros(n, dtype=np.int64),
        "first_ts_ms": want_start,
        "last_ts_ms": want_start,
    }
    cols = {c: empty.get(c, np.zeros(n, dtype=np.float64)) for c in COLUMNS}
    if not n or not len(found):
        return StatTable(list(names), want_sid, _columns(cols))
    index = {name: i for i, name in enumerate(names)}
    remap = np.array([index.get(name, -1) for name in found.names], dtype=np.int64)
    have_sid = remap[found.sid]
    have_start = found.cols["start_ms"]
    lo = int(min(have_start.min(), want_start.min()))
    span = int(max(have_start.max(), want_start.max())) - lo + 1
    have_code = np.where(have_sid >= 0, have_sid * span + (have_start - lo), -1)
    want_code = want_sid * span + (want_start - lo)
    order = np.argsort(have_code, kind="stable")
    pos = np.searchsorted(have_code[order], want_code)
    pos = np.minimum(pos, len(order) - 1)
    hit = have_code[order][pos] == want_code
    rows = order[pos[hit]]
    out = {c: np.array(cols[c]) for c in COLUMNS}
    for c in COLUMNS:
        out[c][hit] = found.cols[c][rows]
    return StatTable(list(names), want_sid, _columns(out))


def whole_days(table: StatTable) -> tuple[StatTable, npt.NDArray[Any]]:
    """The days (UTC) of which ``table`` holds every 15-min bucket of a series, each merged from
    its quarters that hold data as ``influx_wire.rows.day_of`` merges them (a day whose quarters are
    all empty: the empty bucket); and a mask of the rows of ``table`` in the other days. ``table``
    holds each (series, start) once at most."""
    import numpy as np

    from ville_autonome.series.rollups import ROLLUP_15M_MS

    n = len(table)
    if not n:
        return empty_table(), np.zeros(0, dtype=bool)
    start = table.cols["start_ms"]
    day = start - start % ROLLUP_1D_MS
    order = np.lexsort((start, table.sid))
    s_sid, s_day = table.sid[order], day[order]
    head = np.ones(n, dtype=bool)
    head[1:] = (s_sid[1:] != s_sid[:-1]) | (s_day[1:] != s_day[:-1])
    heads = np.flatnonzero(head)
    sizes = np.diff(np.append(heads, n))
    whole_group = sizes == ROLLUP_1D_MS // ROLLUP_15M_MS
    in_whole = np.repeat(whole_group, sizes)  # per sorted row
    partial = np.zeros(n, dtype=bool)
    partial[order] = ~in_whole
    merged: list[tuple[Name, IntervalStat]] = []
    days_of: dict[int, list[int]] = {}
    for s, d in zip(s_sid[heads][whole_group].tolist(), s_day[heads][whole_group].tolist(), strict=True):
        days_of.setdefault(s, []).append(d)
    taken = order[in_whole & (table.cols["count"][order] > 0)]  # sorted by series, then start
    t_sid = table.sid[taken]
    for s, days in days_of.items():
        rows = taken[np.searchsorted(t_sid, s, "left") : np.searchsorted(t_sid, s, "right")]
        cols = merge_columns({c: table.cols[c][rows] for c in COLUMNS}, ROLLUP_1D_MS) if rows.size else None
        got = dict(zip(cols["start_ms"].tolist(), range(cols["start_ms"].shape[0]), strict=True)) if cols else {}
        for d in days:
            i = got.get(d)
            stat = IntervalStat(*(cols[c][i].item() for c in COLUMNS)) if cols and i is not None else _empty(d)
            merged.append((table.names[s], stat))
    return table_of_stats(merged), partial


def _empty(start_ms: int) -> IntervalStat:
    return IntervalStat(start_ms, 0, 0.0, 0.0, 0.0, 0.0, 0.0, start_ms, start_ms)


class RecentStats:
    """The 15-min statistics a compiler computed (and stored) since :meth:`clear`, at most
    ``max_rows`` of them (beyond: the later ones are not kept), answering for a series and a
    window only when it holds every bucket of it (the newest of a bucket computed twice); else
    the caller reads the store. What :meth:`columns` answers is what the store's rollups read back
    as: the buckets holding data, in time order (``influx_wire.rows.rollup_columns``)."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._tables: list[StatTable] = []
        self._rows = 0
        self._index: tuple[StatTable, dict[Name, tuple[int, int]]] | None = None

    def clear(self) -> None:
        self._tables, self._rows, self._index = [], 0, None

    def add(self, table: StatTable) -> None:
        if len(table) and self._rows + len(table) <= self.max_rows:
            self._tables.append(table)
            self._rows += len(table)
            self._index = None

    def columns(
        self, name: Name, start_ms: int, end_ms: int, fields: Sequence[str], interval_ms: int
    ) -> IntervalColumns | None:
        """``fields`` of ``name``'s buckets of ``interval_ms`` (15 min) in [start_ms, end_ms) that
        hold data, if every bucket there is known; None otherwise."""
        import numpy as np

        from ville_autonome.series.rollups import ROLLUP_15M_MS

        if interval_ms != ROLLUP_15M_MS or start_ms % interval_ms or end_ms % interval_ms or not self._tables:
            return None
        table, spans = self._indexed()
        span = spans.get(name)
        if span is None:
            return None
        start = table.cols["start_ms"][span[0] : span[1]]
        lo, hi = np.searchsorted(start, start_ms), np.searchsorted(start, end_ms)
        if hi - lo != (end_ms - start_ms) // interval_ms:
            return None
        rows = slice(span[0] + int(lo), span[0] + int(hi))
        keep = table.cols["count"][rows] > 0
        return {c: table.cols[c][rows][keep] for c in ("start_ms", *fields)}

    def _indexed(self) -> tuple[StatTable, dict[Name, tuple[int, int]]]:
        """Every table as one, sorted by series and start, the newest row of each bucket only;
        with each series' span of rows."""
        import numpy as np

        if self._index is None:
            table = concat(self._tables)
            self._tables = []  # memory: one copy of the statistics at a time, and a column
            start = table.cols["start_ms"]
            order = np.lexsort((np.arange(len(table)), start, table.sid))
            s_sid, s_start = table.sid[order], start[order]
            last = np.ones(len(order), dtype=bool)  # the newest of each (series, start)
            last[:-1] = (s_sid[1:] != s_sid[:-1]) | (s_start[1:] != s_start[:-1])
            order = order[last]
            del s_sid, s_start, start, last
            for c in COLUMNS:
                table.cols[c] = table.cols[c][order]
            table = StatTable(table.names, table.sid[order], table.cols)
            bounds = np.flatnonzero(np.diff(table.sid, prepend=-1, append=-1))
            spans = {table.names[int(table.sid[a])]: (a, b) for a, b in pairwise(bounds.tolist())}
            self._tables, self._index = [table], (table, spans)
        return self._index
