# ruff: noqa: S608  (InfluxQL built only from storage.influxql quoting and integer times)
"""The rollup compiler's pass on InfluxDB: dirty marks → ``rollup_15m`` and ``rollup_1d``.

Only the compiler (``ville-autonome rollups``) runs this; writers only leave marks
(:mod:`storage.influx_marks`). A pass reads the marks in time order from a durable cursor
(``rollup_cursor``: the point's time is the cursor), :data:`MARKS_PER_CHUNK` at a time, and for
each chunk recomputes the marked buckets from the raw GOOD points (:mod:`storage.influx_rollup_stats`),
writes their 15-min rollups, re-merges their days from ``rollup_15m``, calls ``on_compiled``, and
only then moves the cursor. So a compiler killed anywhere redoes, after its restart, at most the
marks since the cursor, and rollups are recomputed, never incremented: nothing is lost and nothing
counted twice.

The cursor only moves to ``now - settle``: a mark becomes readable when its writer's request ends
(within the store's timeout) and writers' clocks may be a little apart (:data:`CLOCK_SKEW_MS`);
a writer marks a bucket once per marking period, so a mark must also be compiled once more after
its period is over (``settle`` covers all three). Marks compiled after their period ended are
remembered in memory and not compiled again in later passes; the others are, until they are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ville_autonome.readings.model import DeviceContext
from ville_autonome.storage.base import RollupKey
from ville_autonome.storage.influx_marks import MARK_PERIOD_MS, MARKS, decode, period_of
from ville_autonome.storage.influx_rollup_stats import bucket_runs, run_stats
from ville_autonome.storage.influx_rows import READINGS, day_stats, empty_stat, stat_line
from ville_autonome.storage.influxql import ns, quote_ident, quote_string
from ville_autonome.storage.line_protocol import line
from ville_autonome.storage.rollups import ROLLUP_1D_MS, ROLLUP_15M_MS, bucket_start

log = logging.getLogger(__name__)

ROLLUP_15M = "rollup_15m"
ROLLUP_1D = "rollup_1d"
CURSOR = "rollup_cursor"
STAT_COLUMNS = ("count", "first", "last", "minimum", "maximum", "mean", "first_ts", "last_ts")
MARKS_PER_CHUNK = 20  # marks compiled at a time (a mark holds what one write batch touched)
CLOCK_SKEW_MS = 5_000  # how far the clocks of writers and compiler may be apart (NTP does better)
LINES_PER_WRITE = 5000


class InfluxDb(Protocol):
    """What the pass needs of the store."""

    def query(self, q: str, *, epoch: str = "ms") -> list[dict[str, Any]]: ...

    def write_lines(
        self, lines: Sequence[tuple[int, str]], *, raw: bool = True, precision: str = "ms"
    ) -> dict[int, str]: ...

    def source(self, measurement: str) -> str: ...


class InfluxRollupCompiler:
    """The compiler's state on one InfluxDB: its cursor and the marks it has compiled for good."""

    def __init__(self, db: InfluxDb, *, settle_ms: int, raw_retention_days: int | None) -> None:
        self.db = db
        self.settle_ms = max(settle_ms, MARK_PERIOD_MS + CLOCK_SKEW_MS)
        self.raw_retention_days = raw_retention_days
        self.clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)
        self._cursor_ms: int | None = None
        self._final: set[tuple[str, int]] = set()  # (writer, time ns) of marks compiled after their period

    def run(self, budget_s: float | None, on_compiled: Callable[[Sequence[RollupKey]], None] | None) -> int:
        """One pass over the marks since the cursor (see the module docstring); returns how many
        15-min rollups were written."""
        started_ms = self.clock_ms()
        deadline = time.monotonic() + budget_s if budget_s is not None else None
        if self._cursor_ms is None:
            self._cursor_ms = self._load_cursor()
        settled_ms = started_ms - self.settle_ms
        seen: set[tuple[str, int]] = set()
        after_ns = self._cursor_ms * 1_000_000
        written = 0
        while True:
            rows = self._marks(after_ns)
            todo = [(w, ts, text) for w, ts, text in rows if (w, ts) not in self._final and (w, ts) not in seen]
            keys: dict[RollupKey, DeviceContext] = {}
            for w, ts, text in todo:
                try:
                    keys.update(decode(text))
                except ValueError as exc:
                    log.error("rollup mark of writer %s at %d ns unreadable, skipped: %s", w, ts, exc)
            if keys:
                written += self._compile(keys)
                if on_compiled is not None:
                    on_compiled(sorted(keys))
            for w, ts, _ in todo:
                seen.add((w, ts))
                if period_of(ts) + MARK_PERIOD_MS + CLOCK_SKEW_MS <= started_ms:
                    self._final.add((w, ts))
            full = len(rows) >= MARKS_PER_CHUNK
            self._advance(min(rows[-1][1] // 1_000_000, settled_ms) if full else settled_ms)
            if not full or (deadline is not None and time.monotonic() >= deadline):
                return written
            after_ns = max(rows[-1][1], after_ns + 1)

    def _load_cursor(self) -> int:
        rows = self.db.query(f"SELECT last(done) FROM {self.db.source(CURSOR)}")
        values = rows[0].get("values") if rows else None
        return int(values[0][0]) if values else 0

    def _advance(self, cursor_ms: int) -> None:
        """Every mark before ``cursor_ms`` is compiled for good: say so durably."""
        if self._cursor_ms is not None and cursor_ms <= self._cursor_ms:
            return
        self._write([(0, line(CURSOR, {}, {"done": 1.0}, cursor_ms))], raw=False)
        self._cursor_ms = cursor_ms
        self._final = {k for k in self._final if k[1] >= cursor_ms * 1_000_000}

    def _marks(self, after_ns: int) -> list[tuple[str, int, str]]:
        """The next :data:`MARKS_PER_CHUNK` marks from ``after_ns`` on: (writer, time ns, text)."""
        q = (
            f"SELECT dirty, writer FROM {self.db.source(MARKS)} WHERE time >= {after_ns} "
            f"ORDER BY time ASC LIMIT {MARKS_PER_CHUNK}"
        )
        out = []
        for series in self.db.query(q, epoch="ns"):
            cols = series.get("columns") or []
            for values in series.get("values") or []:
                row = dict(zip(cols, values, strict=False))
                if isinstance(row.get("dirty"), str) and isinstance(row.get("time"), int):
                    out.append((str(row.get("writer") or ""), row["time"], row["dirty"]))
        return sorted(out, key=lambda m: m[1])

    def _compile(self, keys: Mapping[RollupKey, DeviceContext]) -> int:
        """Recompute the 15-min rollups of ``keys`` and the days they belong to; returns how many
        15-min rollups were written. Buckets older than the raw retention keep their rollup."""
        cutoff = None
        if self.raw_retention_days is not None:
            now_ms = self.clock_ms()
            cutoff = bucket_start(now_ms - self.raw_retention_days * ROLLUP_1D_MS, ROLLUP_15M_MS)
        by_bucket: dict[int, dict[tuple[str, str], DeviceContext]] = {}
        for (device, quantity, b), ctx in keys.items():
            if cutoff is None or b >= cutoff:
                by_bucket.setdefault(b, {})[(device, quantity)] = ctx
        days: dict[int, dict[tuple[str, str], DeviceContext]] = {}
        raw = self.db.source(READINGS)
        written = 0
        for run in bucket_runs(by_bucket, len({k for ks in by_bucket.values() for k in ks})):
            cond = _devices({d for b in run for d, _ in by_bucket[b]})
            found = run_stats(self.db.query, raw, cond, run)
            lines: list[tuple[int, str]] = []
            for b in run:
                for (device, quantity), ctx in by_bucket[b].items():
                    stat = found.get((device, quantity, b)) or empty_stat(b)
                    lines.append((len(lines), stat_line(ROLLUP_15M, ctx, quantity, stat)))
                    days.setdefault(bucket_start(b, ROLLUP_1D_MS), {})[(device, quantity)] = ctx
            self._write(lines)
            written += len(lines)
        for day, series in sorted(days.items()):
            merged = self._day_stats(day, series)
            self._write([(i, stat_line(ROLLUP_1D, series[k], k[1], s)) for i, (k, s) in enumerate(merged.items())])
        return written

    def _day_stats(self, day: int, series: Mapping[tuple[str, str], DeviceContext]) -> dict[tuple[str, str], Any]:
        """The day ``day`` of each of ``series``, merged from its 15-min rollups."""
        fields = ", ".join(quote_ident(f) for f in STAT_COLUMNS)
        q = (
            f"SELECT {fields} FROM {self.db.source(ROLLUP_15M)} WHERE ({_devices({d for d, _ in series})}) "
            f"AND time >= {ns(day)} AND time < {ns(day + ROLLUP_1D_MS)} GROUP BY device, quantity"
        )
        rows = [
            (s.get("tags") or {}, dict(zip(s["columns"], v, strict=False)))
            for s in self.db.query(q)
            for v in s.get("values") or []
        ]
        return day_stats(rows, day, series)

    def _write(self, lines: list[tuple[int, str]], *, raw: bool = False) -> None:
        for i in range(0, len(lines), LINES_PER_WRITE):
            refused = self.db.write_lines(lines[i : i + LINES_PER_WRITE], raw=raw)
            if refused:
                log.error("InfluxDB refused %d rollup points, e.g. %s", len(refused), next(iter(refused.values())))


def _devices(devices: set[str]) -> str:
    return " OR ".join(f"device = {quote_string(d)}" for d in sorted(devices))
