"""Rollup points as line protocol from numpy columns (pure): the lines
:func:`influx_wire.rows.stat_line` writes, character for character, for a whole
:class:`series.rollup_table.StatTable` at once (a year's backfill compiles a million of them; one
``stat_line`` call per bucket was most of the compiler's time).

Every statistic is a float field written with ``repr`` (the shortest text that reads back as the
same float: the stored numbers are those of the columns), times and counts included, as
``stat_line`` writes them."""

from __future__ import annotations

from collections.abc import Sequence

from ville_autonome.influx_wire.line_protocol import LineProtocolError, series_key
from ville_autonome.influx_wire.rows import series_tags
from ville_autonome.readings.model import DeviceContext
from ville_autonome.series.rollups import STAT_FIELDS
from ville_autonome.series.values import IntervalColumns

_MAX_PREFIXES = 100_000


class StatPrefixes:
    """The escaped ``measurement,tag=value,…`` prefix of each (context, quantity), cached by
    (device, quantity) and checked against the whole context (an identity test, most often)."""

    def __init__(self, measurement: str) -> None:
        self.measurement = measurement
        self._cache: dict[tuple[str, str], tuple[DeviceContext, str]] = {}

    def __call__(self, ctx: DeviceContext, quantity: str) -> str:
        cached = self._cache.get((ctx.device, quantity))
        if cached is not None and (cached[0] is ctx or cached[0] == ctx):
            return cached[1]
        prefix = series_key(self.measurement, tuple(series_tags(ctx, quantity).items()))
        if len(self._cache) >= _MAX_PREFIXES:
            self._cache.clear()
        self._cache[(ctx.device, quantity)] = (ctx, prefix)
        return prefix


def stat_lines(prefixes: Sequence[str], cols: IntervalColumns) -> list[str]:
    """Line ``i``: the rollup point of ``prefixes[i]`` (:class:`StatPrefixes`) over the bucket
    ``cols["start_ms"][i]``, ``cols`` holding every one of ``STAT_FIELDS``. Raises
    :class:`influx_wire.line_protocol.LineProtocolError` when a statistic is not finite, as
    ``stat_line`` does."""
    import numpy as np

    start = cols["start_ms"]
    fields = [cols[f].astype(np.float64) for f in STAT_FIELDS]
    if fields and start.size:
        finite = np.logical_and.reduce([np.isfinite(f) for f in fields])
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise LineProtocolError(f"rollup {prefixes[i]!r} at {int(start[i])}: a statistic is not finite")
    return [
        f"{p} count={n!r},first={first!r},last={last!r},minimum={lo!r},maximum={hi!r},mean={mean!r},"
        f"first_ts={a!r},last_ts={z!r} {t}"
        for p, t, n, first, last, lo, hi, mean, a, z in zip(
            prefixes, start.tolist(), *(f.tolist() for f in fields), strict=True
        )
    ]
