"""Dirty marks on InfluxDB, as points (pure: the store posts them): what a write tells the rollup compiler it touched.

Each write batch leaves one mark, a point of ``rollup_marks`` in the same request as its raw
points, after them (readable once that request has ended, as they are; the compiler reads marks
only a settling time behind now, longer than a request may take): tag ``writer`` (one id per store
object), time in whole milliseconds from the writer's own forward-only clock (no two marks
collide; milliseconds, the readings' precision, so that one request carries both), and two fields:
``dirty``, the (device, quantity, bucket) it had not marked yet this marking period of
:data:`MARK_PERIOD_MS`, as JSON ``[[district, site, device, role, source, quantity, "5-9,11"], …]``
(bucket index = start / 15 min); ``again``, the buckets (ranges) of what it had marked already
this period, which the compiler takes from the period's earlier marks. A live ingest re-touches
the open bucket every second: its marks stay a few bytes. A text past :data:`MAX_TEXT` is cut
into several points; a writer remembers at most :data:`MAX_REMEMBERED` keys per period.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping

import msgspec

from ville_autonome.influx_wire.line_protocol import format_string_field, series_key
from ville_autonome.readings.model import DeviceContext
from ville_autonome.series.rollups import ROLLUP_15M_MS
from ville_autonome.series.sequences import format_ranges, parse_ranges, to_ranges
from ville_autonome.series.values import RollupKey

MARKS = "rollup_marks"
MARK_PERIOD_MS = 10_000
MAX_TEXT = 60_000  # bytes of one mark's text: InfluxDB 1.x stores string fields up to 64 KiB
MAX_REMEMBERED = 100_000  # (device, quantity, bucket) a writer remembers within one period

_DECODE = msgspec.json.Decoder(list[tuple[str, str, str, str, str, str, str]])


def period_of(ts_ns: int) -> int:
    """Start (ms) of the marking period holding ``ts_ns``."""
    ts_ms = ts_ns // 1_000_000
    return ts_ms - ts_ms % MARK_PERIOD_MS


def encode(touched: Mapping[RollupKey, DeviceContext]) -> list[str]:
    """The ``dirty`` texts of ``touched``: one per :data:`MAX_TEXT` bytes at most."""
    per_series: dict[tuple[DeviceContext, str], list[int]] = {}
    for (_, quantity, bucket), ctx in touched.items():
        per_series.setdefault((ctx, quantity), []).append(bucket // ROLLUP_15M_MS)
    texts: list[str] = []
    entries: list[bytes] = []
    size = 0
    for (c, quantity), buckets in per_series.items():
        ranges = format_ranges(to_ranges(buckets))
        entry = msgspec.json.encode([c.district, c.site, c.device, c.role, c.source, quantity, ranges])
        if entries and size + len(entry) + 1 > MAX_TEXT:
            texts.append("[" + b",".join(entries).decode() + "]")
            entries, size = [], 0
        entries.append(entry)
        size += len(entry) + 1
    texts.append("[" + b",".join(entries).decode() + "]")
    return texts


def decode(text: str) -> dict[RollupKey, DeviceContext]:
    """Inverse of one :func:`encode` text; raises ``ValueError`` for anything else."""
    try:
        entries = _DECODE.decode(text)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a rollup mark: {exc}") from exc
    out: dict[RollupKey, DeviceContext] = {}
    for district, site, device, role, source, quantity, ranges in entries:
        ctx = DeviceContext(district, site, device, role, source)
        for lo, hi in parse_ranges(ranges):
            for index in range(lo, hi + 1):
                out[(device, quantity, index * ROLLUP_15M_MS)] = ctx
    return out


def buckets_of(again: str) -> set[int]:
    """The bucket starts (ms) of an ``again`` text; raises ``ValueError`` for anything else."""
    return {i * ROLLUP_15M_MS for lo, hi in parse_ranges(again) for i in range(lo, hi + 1)}


class MarkWriter:
    """The marks of one store object (one writer): its id, its clock, what it marked this period."""

    def __init__(self, *, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.clock_ns = clock_ns
        self.writer = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._clock_ms = 0
        self._period = -1
        self._marked: set[RollupKey] = set()

    def lines(self, touched: Mapping[RollupKey, DeviceContext]) -> tuple[int, list[RollupKey], list[str]]:
        """``(period, keys, lines)``: the lines (ms precision) of the mark of ``touched`` and the
        keys it marks new; call :meth:`written` once the lines are stored."""
        if not touched:
            return -1, [], []
        with self._lock:
            now = max(self.clock_ns() // 1_000_000, self._clock_ms + 1)
            period = now - now % MARK_PERIOD_MS
            if period != self._period or len(self._marked) > MAX_REMEMBERED:
                self._period, self._marked = period, set()
            new = {k: ctx for k, ctx in touched.items() if k not in self._marked}
            again = format_ranges(to_ranges({b // ROLLUP_15M_MS for _, _, b in touched.keys() - new.keys()}))
            texts = encode(new)
            self._clock_ms = now + len(texts)
        prefix = series_key(MARKS, (("writer", self.writer),))
        lines = [
            f"{prefix} dirty={format_string_field(t)},again={format_string_field(again if i == 0 else '')} {now + i}"
            for i, t in enumerate(texts)
        ]
        return period, list(new), lines

    def written(self, period: int, keys: list[RollupKey]) -> None:
        """``keys`` are durably marked in ``period``: a later write of them this period says ``again``."""
        with self._lock:
            if period == self._period:
                self._marked.update(keys)
