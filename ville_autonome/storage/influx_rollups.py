# ruff: noqa: S608  (InfluxQL built only from influx_wire.influxql quoting and integer times)
"""The rollup compiler's pass on InfluxDB: dirty marks (:mod:`storage.influx_marks`) → ``rollup_15m``
and ``rollup_1d``.

A pass reads the marks in time order from a durable cursor (``rollup_cursor``: its time is the
cursor), a chunk at a time: recomputes from the raw GOOD points the buckets they name (new keys,
and the keys of ``again`` buckets among the earlier marks of the same writer and period), writes
their 15-min rollups, re-merges their days, calls ``on_compiled``, and only then moves the
cursor. Recomputed, never incremented: a compiler killed anywhere redoes the marks since its
cursor and loses nothing, counts nothing twice. The cursor stays ``settle`` behind now: a mark is
readable once its writer's request ends (within the store's timeout), and clocks may be
:data:`CLOCK_SKEW_MS` apart; marks read again in that window are compiled once. At start it also
reads the marking period before its cursor, for the marks an ``again`` refers to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

from ville_autonome.influx_wire.influxql import ns, quote_ident, quote_string
from ville_autonome.influx_wire.line_protocol import line
from ville_autonome.influx_wire.rows import READINGS, day_of, empty_stat, quarters_of, rows_of, stat_line
from ville_autonome.readings.model import DeviceContext
from ville_autonome.series.rollups import ROLLUP_1D_MS, ROLLUP_15M_MS, bucket_start
from ville_autonome.series.values import IntervalStat
from ville_autonome.storage.base import RollupKey
from ville_autonome.storage.influx_marks import MARK_PERIOD_MS, MARKS, buckets_of, decode, period_of
from ville_autonome.storage.influx_records import InfluxRecords
from ville_autonome.storage.influx_rollup_stats import bucket_runs, run_stats

log = logging.getLogger(__name__)

ROLLUP_15M = "rollup_15m"
ROLLUP_1D = "rollup_1d"
CURSOR = "rollup_cursor"
STAT_COLUMNS = ("count", "first", "last", "minimum", "maximum", "mean", "first_ts", "last_ts")
MARKS_PER_CHUNK = 20  # marks compiled at a time (a mark holds what one write batch touched)
CLOCK_SKEW_MS = 5_000  # how far the clocks of writers and compiler may be apart (NTP does better)
LINES_PER_WRITE = 5000
MAX_DEVICES_NAMED = 50  # devices named in a query's condition; more: none named


Union = dict[int, dict[tuple[str, str], DeviceContext]]  # bucket → series → context


class InfluxRollupCompiler:
    """The compiler's state on one InfluxDB (``db``: the store): its cursor, the marks compiled
    since, what each writer marked in each recent period."""

    def __init__(self, db: InfluxRecords, *, settle_ms: int, raw_retention_days: int | None) -> None:
        self.db = db
        self.settle_ms = max(settle_ms, CLOCK_SKEW_MS)
        self.raw_retention_days = raw_retention_days
        self.clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)
        self._cursor_ms: int | None = None
        self._done: set[tuple[str, int]] = set()  # (writer, time ns) of the marks compiled since the cursor
        self._unions: dict[tuple[str, int], Union] = {}  # (writer, period) → what it marked new then
        self._live: dict[RollupKey, dict[int, IntervalStat]] = {}  # (device, quantity, day) → its 15-min stats

    def run(self, budget_s: float | None, on_compiled: Callable[[Sequence[RollupKey]], None] | None) -> int:
        """One pass over the marks since the cursor; returns how many 15-min rollups were written."""
        started_ms = self.clock_ms()
        deadline = time.monotonic() + budget_s if budget_s is not None else None
        if self._cursor_ms is None:
            self._cursor_ms = self._load_cursor()
            after_ns = max(self._cursor_ms - MARK_PERIOD_MS, 0) * 1_000_000
        else:
            after_ns = self._cursor_ms * 1_000_000
        written = 0
        while True:
            rows = self._marks(after_ns)
            keys: dict[RollupKey, DeviceContext] = {}
            done = []
            for writer, ts, dirty, again in rows:
                if (writer, ts) not in self._done:
                    keys.update(self._named(writer, ts, dirty, again))
                    done.append((writer, ts))
            if keys:
                written += self._compile(keys)
                if on_compiled is not None:
                    on_compiled(sorted(keys))
            self._done.update(done)
            full = len(rows) >= MARKS_PER_CHUNK
            self._advance(
                min(rows[-1][1] // 1_000_000, started_ms - self.settle_ms) if full else started_ms - self.settle_ms
            )
            if not full or (deadline is not None and time.monotonic() >= deadline):
                return written
            after_ns = max(rows[-1][1], after_ns + 1)

    def _named(self, writer: str, ts: int, dirty: str, again: str) -> dict[RollupKey, DeviceContext]:
        """The keys a mark names: its new ones (added to its period's union) and its ``again``
        buckets' in that union; none for a mark before the cursor (read at start for the union)."""
        try:
            new, buckets = decode(dirty), buckets_of(again)
        except ValueError as exc:
            log.error("rollup mark of writer %s at %d ns unreadable, skipped: %s", writer, ts, exc)
            return {}
        union = self._unions.setdefault((writer, period_of(ts)), {})
        for (device, quantity, b), ctx in new.items():
            union.setdefault(b, {})[(device, quantity)] = ctx
        if self._cursor_ms is not None and ts < self._cursor_ms * 1_000_000:
            return {}
        for b in buckets:
            new.update({(device, quantity, b): ctx for (device, quantity), ctx in union.get(b, {}).items()})
        return new

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
        self._done = {k for k in self._done if k[1] >= cursor_ms * 1_000_000}
        self._unions = {k: u for k, u in self._unions.items() if k[1] + MARK_PERIOD_MS > cursor_ms}
        self._live = {k: q for k, q in self._live.items() if k[2] + 2 * ROLLUP_1D_MS > cursor_ms}

    def _marks(self, after_ns: int) -> list[tuple[str, int, str, str]]:
        """The next :data:`MARKS_PER_CHUNK` marks from ``after_ns`` on: (writer, time ns, dirty, again)."""
        q = (
            f"SELECT dirty, again, writer FROM {self.db.source(MARKS)} WHERE time >= {after_ns} "
            f"ORDER BY time ASC LIMIT {MARKS_PER_CHUNK}"
        )
        out = []
        for series in self.db.query(q, epoch="ns"):
            cols = series.get("columns") or []
            for values in series.get("values") or []:
                row = dict(zip(cols, values, strict=False))
                if isinstance(row.get("dirty"), str) and isinstance(row.get("time"), int):
                    out.append((str(row.get("writer") or ""), row["time"], row["dirty"], str(row.get("again") or "")))
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
        stats: dict[RollupKey, IntervalStat] = {}
        raw = self.db.source(READINGS)
        for run in bucket_runs(by_bucket):
            found = run_stats(self.db.query, raw, _devices({d for b in run for d, _ in by_bucket[b]}), run)
            found = {k: v for k, v in found.items() if k[:2] in by_bucket.get(k[2], {})}
            lines: list[tuple[int, str]] = []
            for b in run:
                for (device, quantity), ctx in by_bucket[b].items():
                    stat = stats[(device, quantity, b)] = found.get((device, quantity, b)) or empty_stat(b)
                    lines.append((len(lines), stat_line(ROLLUP_15M, ctx, quantity, stat)))
                    days.setdefault(bucket_start(b, ROLLUP_1D_MS), {})[(device, quantity)] = ctx
            self._write(lines)
        for day, series in sorted(days.items()):
            merged = self._day_stats(day, series, stats)
            self._write([(i, stat_line(ROLLUP_1D, series[k], k[1], s)) for i, (k, s) in enumerate(merged.items())])
        return len(stats)

    def _day_stats(
        self, day: int, series: Mapping[tuple[str, str], DeviceContext], compiled: Mapping[RollupKey, IntervalStat]
    ) -> dict[tuple[str, str], IntervalStat]:
        """The day ``day`` of each of ``series``, merged from its 15-min rollups: those just
        ``compiled`` where they cover the whole day (a backfill); else those stored, read once per
        series and day for the live days (today and yesterday, then kept up to date here: this is
        the one writer of rollups), every time for an older day."""
        quarters = range(day, day + ROLLUP_1D_MS, ROLLUP_15M_MS)
        live = day + 2 * ROLLUP_1D_MS > self.clock_ms()
        whole = {k for k in series if all((*k, b) in compiled for b in quarters)}
        out = {k: day_of([compiled[(*k, b)] for b in quarters], day) for k in whole}
        unknown = [k for k in series if k not in whole and not (live and (*k, day) in self._live)]
        if unknown:
            fields = ", ".join(quote_ident(f) for f in STAT_COLUMNS)
            q = (
                f"SELECT {fields} FROM {self.db.source(ROLLUP_15M)} WHERE {_devices({d for d, _ in unknown})} "
                f"time >= {ns(day)} AND time < {ns(day + ROLLUP_1D_MS)} GROUP BY device, quantity"
            )
            stored = quarters_of(rows_of(self.db.query(q)))
            if not live:
                return out | {k: day_of(stored.get(k, {}).values(), day) for k in unknown}
            self._live.update({(*k, day): stored.get(k, {}) for k in unknown})
        for k in series:
            if k not in whole:
                known = self._live[(*k, day)]
                known.update({b: compiled[(*k, b)] for b in quarters if (*k, b) in compiled})
                out[k] = day_of(known.values(), day)
        return out

    def _write(self, lines: list[tuple[int, str]], *, raw: bool = False) -> None:
        for i in range(0, len(lines), LINES_PER_WRITE):
            refused = self.db.write_lines(lines[i : i + LINES_PER_WRITE], raw=raw)
            if refused:
                log.error("InfluxDB refused %d rollup points, e.g. %s", len(refused), next(iter(refused.values())))


def _devices(devices: set[str]) -> str:
    """A condition on ``devices`` followed by ``AND``, or nothing when they are many (a long OR
    costs InfluxDB more than reading the other devices too)."""
    if len(devices) > MAX_DEVICES_NAMED:
        return ""
    return "(" + " OR ".join(f"device = {quote_string(d)}" for d in sorted(devices)) + ") AND"
