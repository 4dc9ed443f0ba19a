# ruff: noqa: S608  (InfluxQL built only from influx_wire.influxql quoting and integer times)
"""The rollup compiler's pass on InfluxDB: dirty marks (:mod:`influx_wire.marks`) → ``rollup_15m``
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
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from ville_autonome.influx_wire.influxql import ns, quote_ident, quote_string
from ville_autonome.influx_wire.line_protocol import line
from ville_autonome.influx_wire.marks import MARK_PERIOD_MS, MARKS, buckets_of, decode, period_of
from ville_autonome.influx_wire.rows import READINGS, day_of, quarters_of, rows_of, stat_line
from ville_autonome.influx_wire.stat_lines import StatPrefixes, stat_lines
from ville_autonome.readings.model import DeviceContext
from ville_autonome.series.rollup_table import RecentStats, StatTable, concat, empty_table, gather, whole_days
from ville_autonome.series.rollups import ROLLUP_1D_MS, ROLLUP_15M_MS, bucket_start
from ville_autonome.series.values import IntervalStat, RollupKey
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
WRITES_IN_FLIGHT = 2  # write requests queued behind the one being sent
RECENT_ROWS_MAX = 2_000_000  # 15-min stats of a pass kept for its day balances (~150 MB at most)
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
        self._prefixes = {m: StatPrefixes(m) for m in (ROLLUP_15M, ROLLUP_1D)}
        self.recent = RecentStats(RECENT_ROWS_MAX)  # the 15-min stats of the last pass (for the day balances)

    def run(self, budget_s: float | None, on_compiled: Callable[[Sequence[RollupKey]], None] | None) -> int:
        """One pass over the marks since the cursor; returns how many 15-min rollups were written."""
        started_ms = self.clock_ms()
        deadline = time.monotonic() + budget_s if budget_s is not None else None
        self.recent.clear()
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
        15-min rollups were written. Buckets older than the raw retention keep their rollup. The
        statistics stay numpy columns (:mod:`series.rollup_table`), the lines are built from them;
        the next run's statistics are read, and the writes go out, each on a thread of its own
        while a run is built; all done (or failed: raised here) before this returns."""
        cutoff = None
        if self.raw_retention_days is not None:
            now_ms = self.clock_ms()
            cutoff = bucket_start(now_ms - self.raw_retention_days * ROLLUP_1D_MS, ROLLUP_15M_MS)
        by_bucket: dict[int, dict[tuple[str, str], DeviceContext]] = {}
        for (device, quantity, b), ctx in keys.items():
            if cutoff is None or b >= cutoff:
                by_bucket.setdefault(b, {})[(device, quantity)] = ctx
        days: dict[int, dict[tuple[str, str], DeviceContext]] = {}
        tables: list[StatTable] = []
        raw = self.db.source(READINGS)
        prefix = self._prefixes[ROLLUP_15M]
        known: dict[tuple[int, str], str] = {}  # (id of a context in keys, quantity) → its prefix
        runs = bucket_runs(by_bucket)
        with Writes(self.db) as writes, ThreadPoolExecutor(1, thread_name_prefix="rollup-reads") as reads:

            def fetch(run: list[int]) -> Future[StatTable]:
                devices = _devices({d for b in run for d, _ in by_bucket[b]})
                return reads.submit(run_stats, self.db.query, raw, devices, run)

            ahead = fetch(runs[0]) if runs else None
            for i, run in enumerate(runs):
                found = ahead.result() if ahead is not None else None
                ahead = fetch(runs[i + 1]) if i + 1 < len(runs) else None  # read while this one is built
                names, sid, starts, prefixes = _expected(run, by_bucket, days, known, prefix)
                table = gather(found if found is not None else empty_table(), names, sid, starts)
                writes.put(stat_lines(prefixes, table.cols))
                tables.append(table)
            compiled = concat(tables)
            writes.flush()  # the days read the 15-min rollups stored
            if not writes.refused:  # kept only when it is what the store holds
                self.recent.add(compiled)
            writes.put(self._day_lines(days, compiled))
        return len(compiled)

    def _day_lines(self, days: Mapping[int, Mapping[tuple[str, str], DeviceContext]], compiled: StatTable) -> list[str]:
        """The ``rollup_1d`` lines of ``days`` (day → its series and their contexts): merged from
        the ``compiled`` columns where they hold the whole day, else by :meth:`_day_stats`."""
        whole, partial = whole_days(compiled)
        prefix = self._prefixes[ROLLUP_1D]
        names = [whole.names[i] for i in whole.sid.tolist()]
        lines = stat_lines(
            [prefix(days[day][k], k[1]) for k, day in zip(names, whole.cols["start_ms"].tolist(), strict=True)],
            whole.cols,
        )
        rest = {
            (*compiled.names[compiled.sid[i]], int(compiled.cols["start_ms"][i])): compiled.stat(i)
            for i in partial.nonzero()[0].tolist()
        }
        done = set(zip(names, whole.cols["start_ms"].tolist(), strict=True))
        for day, series in sorted(days.items()):
            left = {k: ctx for k, ctx in series.items() if (k, day) not in done}
            if left:
                merged = self._day_stats(day, left, rest)
                lines.extend(stat_line(ROLLUP_1D, left[k], k[1], s) for k, s in merged.items())
        return lines

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
            _log_refused(self.db.write_lines(lines[i : i + LINES_PER_WRITE], raw=raw))


class Writes:
    """Rollup lines written in order on a thread of their own, :data:`LINES_PER_WRITE` a request,
    at most :data:`WRITES_IN_FLIGHT` requests waiting: InfluxDB stores one request while the
    compiler computes the next. :meth:`flush` waits for every one and raises the first failure
    (a :class:`storage.base.StoreError`); leaving the ``with`` block flushes, or after an error
    waits for the requests already sent."""

    def __init__(self, db: InfluxRecords) -> None:
        self.db = db
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollup-writes")
        self._pending: deque[Future[None]] = deque()
        self.refused = 0  # lines the server refused (logged)

    def __enter__(self) -> Writes:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self.flush()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=kind is not None)

    def put(self, lines: list[str]) -> None:
        for i in range(0, len(lines), LINES_PER_WRITE):
            self._pending.append(self._pool.submit(self._write, lines[i : i + LINES_PER_WRITE]))
            while len(self._pending) > WRITES_IN_FLIGHT:
                self._pending.popleft().result()

    def flush(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def _write(self, lines: list[str]) -> None:
        refused = self.db.write_lines(list(enumerate(lines)), raw=False)
        self.refused += len(refused)
        _log_refused(refused)


def _log_refused(refused: Mapping[int, str]) -> None:
    if refused:
        log.error("InfluxDB refused %d rollup points, e.g. %s", len(refused), next(iter(refused.values())))


def _expected(
    run: list[int],
    by_bucket: Mapping[int, Mapping[tuple[str, str], DeviceContext]],
    days: dict[int, dict[tuple[str, str], DeviceContext]],
    known: dict[tuple[int, str], str],
    prefix: StatPrefixes,
) -> tuple[list[tuple[str, str]], list[int], list[int], list[str]]:
    """The rollups ``run`` compiles, one per (series, bucket) marked: the series named, each
    rollup's series index, bucket start and line prefix (``known``: by context object and
    quantity, for this compile); each series noted in ``days`` under its day."""
    names: dict[tuple[str, str], int] = {}
    sid: list[int] = []
    starts: list[int] = []
    prefixes: list[str] = []
    for b in run:
        series = by_bucket[b]
        days.setdefault(b - b % ROLLUP_1D_MS, {}).update(series)
        for (device, quantity), ctx in series.items():
            sid.append(names.setdefault((device, quantity), len(names)))
            p = known.get((id(ctx), quantity))
            if p is None:
                p = known[(id(ctx), quantity)] = prefix(ctx, quantity)
            prefixes.append(p)
        starts.extend([b] * len(series))
    return list(names), sid, starts, prefixes


def _devices(devices: set[str]) -> str:
    """A condition on ``devices`` followed by ``AND``, or nothing when they are many (a long OR
    costs InfluxDB more than reading the other devices too)."""
    if len(devices) > MAX_DEVICES_NAMED:
        return ""
    return "(" + " OR ".join(f"device = {quote_string(d)}" for d in sorted(devices)) + ") AND"
