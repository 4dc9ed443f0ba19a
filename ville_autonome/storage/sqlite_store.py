"""The embedded store: one SQLite file in WAL mode, the zero-setup backend of ``make demo``.

Same behaviour as the InfluxDB backend (the parametrised suite in tests/storage runs both):
upsert on (device, quantity, ts_ms), a ``latest`` table maintained on write, 15-min and daily
rollups of GOOD values recomputed from raw points for the buckets a write touched, optional raw
retention (rollups are kept). WAL lets the API read while the ingest writes from another process.
One connection per store object, guarded by a lock (usable from several threads).

Errors: ``sqlite3.OperationalError`` / ``DatabaseError`` (locked, disk full, I/O) become
:class:`storage.base.StoreTransientError`; a point that cannot be stored for what it is
(non-finite value, non-integer time) is returned in ``WriteResult.rejected``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.storage.base import (
    CLOSE_REFRESH_BUDGET_S,
    WRITE_REFRESH_BUDGET_S,
    IntervalStat,
    LatestValue,
    SequenceGap,
    SeriesPoint,
    StoreTransientError,
    WriteResult,
)
from ville_autonome.storage.line_protocol import identifier_problem
from ville_autonome.storage.rollups import (
    ROLLUP_1D_MS,
    ROLLUP_15M_MS,
    STAT_FIELDS,
    IntervalColumns,
    aggregate,
    bucket_start,
    check_fields,
    columns_from,
    columns_from_rows,
    columns_from_stats,
    intervals_from,
    merge,
    merge_inputs,
    rollup_source,
)
from ville_autonome.storage.sequences import format_ranges, gaps_from, merge_ranges, parse_ranges, to_ranges

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    device TEXT NOT NULL, quantity TEXT NOT NULL, ts_ms INTEGER NOT NULL,
    value REAL, quality TEXT NOT NULL,
    district TEXT NOT NULL, site TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (device, quantity, ts_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    device TEXT NOT NULL, quantity TEXT NOT NULL, ts_ms INTEGER NOT NULL,
    value REAL, quality TEXT NOT NULL,
    district TEXT NOT NULL, site TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (device, quantity)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_15m (
    device TEXT NOT NULL, quantity TEXT NOT NULL, start_ms INTEGER NOT NULL,
    count INTEGER NOT NULL, first REAL, last REAL, minimum REAL, maximum REAL, mean REAL,
    first_ts_ms INTEGER, last_ts_ms INTEGER,
    PRIMARY KEY (device, quantity, start_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_1d (
    device TEXT NOT NULL, quantity TEXT NOT NULL, start_ms INTEGER NOT NULL,
    count INTEGER NOT NULL, first REAL, last REAL, minimum REAL, maximum REAL, mean REAL,
    first_ts_ms INTEGER, last_ts_ms INTEGER,
    PRIMARY KEY (device, quantity, start_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_health (
    device TEXT PRIMARY KEY, gateway TEXT NOT NULL, online INTEGER NOT NULL, last_seen_ms INTEGER,
    updated_ms INTEGER NOT NULL, last_quality TEXT NOT NULL, errors TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sequences (
    gateway TEXT NOT NULL, worker TEXT NOT NULL, received_ms INTEGER NOT NULL, ranges TEXT NOT NULL,
    PRIMARY KEY (gateway, worker, received_ms)
);
CREATE TABLE IF NOT EXISTS rollup_pending (
    device TEXT NOT NULL, quantity TEXT NOT NULL, bucket_ms INTEGER NOT NULL,
    PRIMARY KEY (device, quantity, bucket_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    service TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, updated_ms INTEGER NOT NULL,
    PRIMARY KEY (service, name)
);
"""

COMPACTED = "_compacted"  # the worker of compacted sequence records
log = logging.getLogger(__name__)

REFRESH_CHUNK = 500  # 15-min buckets recomputed per transaction
COMPACT_EVERY_MS = 60_000
COMPACT_AFTER_MS = 60_000  # records older than this are settled and folded

_STAT_COLUMNS = "start_ms, count, first, last, minimum, maximum, mean, first_ts_ms, last_ts_ms"


def _stat_row(row: Sequence[object]) -> IntervalStat:
    start, count, first, last, lo, hi, mean, fts, lts = row
    return IntervalStat(
        start_ms=int(start),  # type: ignore[call-overload]
        count=int(count),  # type: ignore[call-overload]
        first=float(first),  # type: ignore[arg-type]
        last=float(last),  # type: ignore[arg-type]
        minimum=float(lo),  # type: ignore[arg-type]
        maximum=float(hi),  # type: ignore[arg-type]
        mean=float(mean),  # type: ignore[arg-type]
        first_ts_ms=int(fts),  # type: ignore[call-overload]
        last_ts_ms=int(lts),  # type: ignore[call-overload]
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqliteStore:
    """:class:`storage.base.Store` in one SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        raw_retention_days: int | None = None,
        rollup_refresh_s: float = 30.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.raw_retention_days = raw_retention_days
        self.rollup_refresh_s = rollup_refresh_s
        self._lock = threading.Lock()
        self._dirty: set[tuple[str, str, int]] = set()
        self._last_refresh = time.monotonic()
        self._last_retention = 0.0
        self._last_compaction = 0
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout_s, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            # buckets written but not rolled up when the last writer stopped (killed): do them
            pending = self._db.execute("SELECT device, quantity, bucket_ms FROM rollup_pending").fetchall()
        except sqlite3.Error as exc:
            raise StoreTransientError(f"SQLite store {self.path}: {exc}") from exc
        if pending:
            self._dirty.update((d, q, int(b)) for d, q, b in pending)
            self._last_refresh = 0.0

    # ------------------------------------------------------------------ plumbing

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return fn(self._db)
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreTransientError(f"SQLite store {self.path}: {exc}") from exc

    def ping(self) -> str:
        return self._run(lambda db: "sqlite " + str(db.execute("SELECT sqlite_version()").fetchone()[0]))

    # ------------------------------------------------------------------ readings

    def write(self, points: Sequence[StoredReading]) -> WriteResult:
        rejected: dict[int, str] = {}
        rows = []
        for i, p in enumerate(points):
            reason = _reject_reason(p)
            if reason:
                rejected[i] = reason
                continue
            c = p.context
            rows.append((c.device, p.quantity, p.ts_ms, p.value, str(p.quality), c.district, c.site, c.role, c.source))

        def tx(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO readings VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (device, quantity, ts_ms) DO UPDATE SET "
                "value=excluded.value, quality=excluded.quality, district=excluded.district, site=excluded.site, "
                "role=excluded.role, source=excluded.source",
                rows,
            )
            db.executemany(
                "INSERT INTO latest VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (device, quantity) DO UPDATE SET "
                "ts_ms=excluded.ts_ms, value=excluded.value, quality=excluded.quality, district=excluded.district, "
                "site=excluded.site, role=excluded.role, source=excluded.source WHERE excluded.ts_ms >= latest.ts_ms",
                rows,
            )
            touched = {(r[0], r[1], bucket_start(r[2], ROLLUP_15M_MS)) for r in rows}
            # durable in the same transaction: a writer killed before its refresh loses no rollup
            db.executemany("INSERT OR IGNORE INTO rollup_pending VALUES (?,?,?)", touched)
            db.execute("COMMIT")
            self._dirty.update(touched)

        if rows:
            self._run(tx)
            if time.monotonic() - self._last_refresh >= self.rollup_refresh_s:
                self.refresh_rollups(budget_s=WRITE_REFRESH_BUDGET_S)
        return WriteResult(written=len(rows), rejected=rejected)

    def latest(self, *, since_ms: int | None = None) -> list[LatestValue]:
        sql = "SELECT district, site, device, role, source, quantity, ts_ms, value, quality FROM latest"
        args: tuple[int, ...] = ()
        if since_ms is not None:
            sql += " WHERE ts_ms >= ?"
            args = (since_ms,)
        rows = self._run(lambda db: db.execute(sql + " ORDER BY device, quantity", args).fetchall())
        return [LatestValue(DeviceContext(r[0], r[1], r[2], r[3], r[4]), r[5], r[6], r[7], Quality(r[8])) for r in rows]

    def series(self, device: str, quantity: str, start_ms: int, end_ms: int, *, limit: int) -> list[SeriesPoint]:
        rows = self._run(
            lambda db: db.execute(
                "SELECT ts_ms, value, quality FROM readings WHERE device=? AND quantity=? AND ts_ms>=? AND ts_ms<? "
                "ORDER BY ts_ms LIMIT ?",
                (device, quantity, start_ms, end_ms, limit),
            ).fetchall()
        )
        return [SeriesPoint(r[0], r[1], Quality(r[2])) for r in rows]

    def intervals(self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int) -> list[IntervalStat]:
        interval_ms = interval_s * 1000
        source = rollup_source(start_ms, end_ms, interval_s)
        if source is None:
            rows = self._run(
                lambda db: db.execute(
                    "SELECT ts_ms, value FROM readings WHERE device=? AND quantity=? AND ts_ms>=? AND ts_ms<? "
                    "AND quality='good' AND value IS NOT NULL ORDER BY ts_ms",
                    (device, quantity, start_ms, end_ms),
                ).fetchall()
            )
            return aggregate(rows, interval_ms)
        self.refresh_rollups()
        table = "rollup_1d" if source == ROLLUP_1D_MS else "rollup_15m"
        rows = self._run(
            lambda db: db.execute(
                f"SELECT {_STAT_COLUMNS} FROM {table} WHERE device=? AND quantity=? AND start_ms>=? AND start_ms<? "  # noqa: S608 (fixed names)
                "ORDER BY start_ms",
                (device, quantity, start_ms, end_ms),
            ).fetchall()
        )
        return intervals_from([_stat_row(r) for r in rows], interval_ms, source)

    def interval_columns(
        self,
        device: str,
        quantity: str,
        start_ms: int,
        end_ms: int,
        interval_s: int,
        *,
        fields: Sequence[str] = STAT_FIELDS,
    ) -> IntervalColumns:
        """:meth:`intervals` as numpy columns: ``start_ms`` and ``fields`` (of
        ``storage.rollups.STAT_FIELDS``), the same numbers, without one Python object per interval
        (a city-year at 15 min is a million rollup rows). Not part of the Store protocol: readers
        check for it and use :meth:`intervals` on other backends."""
        fields = check_fields(fields)
        interval_ms = interval_s * 1000
        source = rollup_source(start_ms, end_ms, interval_s)
        if source is None:  # no rollup fits (interval or range not aligned on one): raw points, as intervals()
            return columns_from_stats(self.intervals(device, quantity, start_ms, end_ms, interval_s), fields)
        self.refresh_rollups()
        table = "rollup_1d" if source == ROLLUP_1D_MS else "rollup_15m"
        names = ("start_ms", *(fields if source == interval_ms else merge_inputs(fields)))
        sql = (
            f"SELECT {', '.join(names)} FROM {table} WHERE device=? AND quantity=? AND start_ms>=? AND start_ms<? "  # noqa: S608 (names checked against STAT_FIELDS)
            "ORDER BY start_ms"
        )
        # straight from the cursor into numpy: no list of a million row tuples
        stored = self._run(lambda db: columns_from_rows(db.execute(sql, (device, quantity, start_ms, end_ms)), names))
        cols = columns_from(stored, interval_ms, source)
        return {name: cols[name] for name in ("start_ms", *fields)}

    def refresh_rollups(self, *, budget_s: float | None = None) -> int:
        deadline = time.monotonic() + budget_s if budget_s is not None else None
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            self._last_refresh = time.monotonic()
        if not dirty:
            return 0
        cutoff = None
        if self.raw_retention_days is not None:
            cutoff = bucket_start(_now_ms() - self.raw_retention_days * ROLLUP_1D_MS, ROLLUP_15M_MS)

        def tx(chunk: list[tuple[str, str, int]], db: sqlite3.Connection) -> int:
            db.execute("BEGIN IMMEDIATE")
            days: set[tuple[str, str, int]] = set()
            done = 0
            for device, qty, b in chunk:
                if cutoff is not None and b < cutoff:
                    continue  # raw points of this bucket are past retention: keep its rollup as it is
                _put_stats(db, "rollup_15m", device, qty, b, _bucket_stats(db, device, qty, b))
                days.add((device, qty, bucket_start(b, ROLLUP_1D_MS)))
                done += 1
            for device, qty, d in days:
                rows = db.execute(
                    f"SELECT {_STAT_COLUMNS} FROM rollup_15m WHERE device=? AND quantity=? AND start_ms>=? "  # noqa: S608
                    "AND start_ms<? ORDER BY start_ms",
                    (device, qty, d, d + ROLLUP_1D_MS),
                ).fetchall()
                _put_stats(db, "rollup_1d", device, qty, d, merge([_stat_row(r) for r in rows], ROLLUP_1D_MS))
            db.executemany("DELETE FROM rollup_pending WHERE device=? AND quantity=? AND bucket_ms=?", chunk)
            db.execute("COMMIT")
            return done

        # in chunks, each its own transaction, so that readers are not kept waiting by a large backfill
        pending = sorted(dirty)
        done = 0
        try:
            while pending:
                if done and deadline is not None and time.monotonic() >= deadline:
                    # the rest keeps its rollup_pending rows: the next refresh (or start) does it
                    with self._lock:
                        self._dirty.update(pending)
                    log.info("%d rollup buckets left for the next refresh (budget %.1f s)", len(pending), budget_s)
                    break
                chunk, pending = pending[:REFRESH_CHUNK], pending[REFRESH_CHUNK:]
                done += self._run(functools.partial(tx, chunk))
        except StoreTransientError:
            with self._lock:
                self._dirty.update(chunk, pending)  # try again next time
            raise
        if cutoff is not None and time.monotonic() - self._last_retention > 3600:
            self._run(lambda db: db.execute("DELETE FROM readings WHERE ts_ms < ?", (cutoff,)))
            self._last_retention = time.monotonic()
        return done

    # ------------------------------------------------------------------ health, sequences, counters

    def write_health(self, records: Sequence[DeviceHealth]) -> None:
        rows = [
            (h.device, h.gateway, int(h.online), h.last_seen_ms, h.updated_ms, h.last_quality, json.dumps(h.errors))
            for h in records
        ]
        self._run(
            lambda db: db.executemany(
                "INSERT INTO device_health VALUES (?,?,?,?,?,?,?) ON CONFLICT (device) DO UPDATE SET "
                "gateway=excluded.gateway, online=excluded.online, last_seen_ms=excluded.last_seen_ms, "
                "updated_ms=excluded.updated_ms, last_quality=excluded.last_quality, errors=excluded.errors",
                rows,
            )
        )

    def health(self) -> list[DeviceHealth]:
        rows = self._run(lambda db: db.execute("SELECT * FROM device_health ORDER BY device").fetchall())
        return [
            DeviceHealth(
                device=r[0],
                gateway=r[1],
                online=bool(r[2]),
                last_seen_ms=r[3],
                updated_ms=r[4],
                last_quality=r[5],
                errors={str(k): int(v) for k, v in json.loads(r[6]).items()},
            )
            for r in rows
        ]

    def record_sequences(self, gateway: str, seqs: Sequence[int], *, worker: str, received_ms: int) -> None:
        if not seqs:
            return
        text = format_ranges(to_ranges(seqs))
        self._run(
            lambda db: db.execute(
                "INSERT INTO sequences VALUES (?,?,?,?) ON CONFLICT (gateway, worker, received_ms) DO UPDATE SET "
                "ranges = ranges || ',' || excluded.ranges",
                (gateway, worker, received_ms, text),
            )
        )
        if received_ms - self._last_compaction >= COMPACT_EVERY_MS:
            self._last_compaction = received_ms
            self.compact_sequences(received_ms - COMPACT_AFTER_MS)

    def compact_sequences(self, watermark_ms: int) -> None:
        """Fold each gateway's records up to ``watermark_ms`` into one (worker ``_compacted``), so
        the table stays small; a union is a union, so this is safe with several workers."""

        def tx(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            gateways = [
                r[0]
                for r in db.execute("SELECT DISTINCT gateway FROM sequences WHERE received_ms <= ?", (watermark_ms,))
            ]
            for gw in gateways:
                cond = "gateway=? AND (worker=? OR received_ms <= ?)"
                args = (gw, COMPACTED, watermark_ms)
                texts = [r[0] for r in db.execute(f"SELECT ranges FROM sequences WHERE {cond}", args)]  # noqa: S608
                merged = merge_ranges([rg for t in texts for rg in parse_ranges(t)])
                db.execute(f"DELETE FROM sequences WHERE {cond}", args)  # noqa: S608
                db.execute(
                    "INSERT INTO sequences VALUES (?,?,?,?)", (gw, COMPACTED, watermark_ms, format_ranges(merged))
                )
            db.execute("COMMIT")

        self._run(tx)

    def gaps(self, gateway: str | None = None) -> list[SequenceGap]:
        sql, args = "SELECT gateway, ranges FROM sequences", ()
        if gateway is not None:
            sql, args = sql + " WHERE gateway=?", (gateway,)  # type: ignore[assignment]
        rows = self._run(lambda db: db.execute(sql, args).fetchall())
        return gaps_from(rows)

    def write_counters(self, service: str, counters: Mapping[str, float]) -> None:
        now = _now_ms()
        rows = [(service, k, float(v), now) for k, v in counters.items()]
        self._run(
            lambda db: db.executemany(
                "INSERT INTO counters VALUES (?,?,?,?) ON CONFLICT (service, name) DO UPDATE SET "
                "value=excluded.value, updated_ms=excluded.updated_ms",
                rows,
            )
        )

    def counters(self) -> dict[str, dict[str, float]]:
        rows = self._run(lambda db: db.execute("SELECT service, name, value FROM counters").fetchall())
        out: dict[str, dict[str, float]] = {}
        for service, name, value in rows:
            out.setdefault(service, {})[name] = value
        return out

    def close(self) -> None:
        try:
            self.refresh_rollups(budget_s=CLOSE_REFRESH_BUDGET_S)
        finally:
            with self._lock:
                self._db.close()


_GOOD = "device=? AND quantity=? AND ts_ms>=? AND ts_ms<? AND quality='good' AND value IS NOT NULL"


def _bucket_stats(db: sqlite3.Connection, device: str, qty: str, b: int) -> list[IntervalStat]:
    """Aggregates of GOOD values in the 15-min bucket ``b``, by SQL over the primary-key index."""
    args = (device, qty, b, b + ROLLUP_15M_MS)
    n, lo, hi, mean, t1, t2 = db.execute(
        f"SELECT COUNT(*), MIN(value), MAX(value), AVG(value), MIN(ts_ms), MAX(ts_ms) FROM readings WHERE {_GOOD}",  # noqa: S608
        args,
    ).fetchone()
    if not n:
        return []
    first = db.execute("SELECT value FROM readings WHERE device=? AND quantity=? AND ts_ms=?", (device, qty, t1))
    last = db.execute("SELECT value FROM readings WHERE device=? AND quantity=? AND ts_ms=?", (device, qty, t2))
    return [IntervalStat(b, n, first.fetchone()[0], last.fetchone()[0], lo, hi, mean, t1, t2)]


def _put_stats(
    db: sqlite3.Connection, table: str, device: str, qty: str, start: int, stats: list[IntervalStat]
) -> None:
    if not stats:
        db.execute(f"DELETE FROM {table} WHERE device=? AND quantity=? AND start_ms=?", (device, qty, start))  # noqa: S608
        return
    s = stats[0]
    db.execute(
        f"INSERT OR REPLACE INTO {table} (device, quantity, {_STAT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
        (device, qty, s.start_ms, s.count, s.first, s.last, s.minimum, s.maximum, s.mean, s.first_ts_ms, s.last_ts_ms),
    )


def _reject_reason(p: StoredReading) -> str | None:
    if isinstance(p.ts_ms, bool) or not isinstance(p.ts_ms, int):
        return f"timestamp {p.ts_ms!r} is not integer milliseconds"
    if p.value is not None and not math.isfinite(p.value):
        return f"field value {p.value!r} is not finite"
    c = p.context
    for text in (c.district, c.site, c.role, c.source):
        problem = identifier_problem(text)
        if problem:
            return f"tag value {problem}"
    for kind, text in (("device", c.device), ("quantity", p.quantity)):
        problem = identifier_problem(text) if text else f"empty {kind}"
        if problem:
            return f"tag value {problem}"
    return None
