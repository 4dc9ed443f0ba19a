"""The embedded store: one SQLite file in WAL mode, the zero-setup backend of ``make demo``.

Same behaviour as the InfluxDB backend (the parametrised suite in tests/storage runs both):
upsert on (device, quantity, ts_ms), a ``latest`` table maintained on write, dirty marks written
in the same transaction as the raw points and compiled into 15-min and daily rollups by the one
rollup compiler (:mod:`storage.sqlite_rollups`), optional raw retention (rollups are kept). WAL
lets the API and the compiler read while the ingest writes from another process. One connection
per store object, guarded by a lock (usable from several threads).

Errors: ``sqlite3`` errors become the kinds of :mod:`storage.base` (:func:`store_error`);
a point that cannot be stored for what it is (non-finite value, non-integer time) is returned in
``WriteResult.rejected``.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from ville_autonome.influx_wire.line_protocol import identifier_problem
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.series.rollups import (
    ROLLUP_1D_MS,
    ROLLUP_15M_MS,
    STAT_FIELDS,
    aggregate,
    bucket_start,
    check_fields,
    columns_from,
    columns_from_rows,
    columns_from_stats,
    merge_inputs,
    rollup_source,
    stats_from_columns,
)
from ville_autonome.series.values import (
    IntervalColumns,
    IntervalStat,
    LatestValue,
    RollupKey,
    SequenceGap,
    SequenceNote,
    SeriesPoint,
)
from ville_autonome.storage import sqlite_rollups as compiler
from ville_autonome.storage import sqlite_sequences
from ville_autonome.storage.base import (
    Encoded,
    StoreAuthError,
    StoreError,
    StoreRejectedError,
    StoreTransientError,
    WriteResult,
)
from ville_autonome.storage.sqlite_balances import SqliteBalances
from ville_autonome.storage.sqlite_schema import open_store_file

T = TypeVar("T")


log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600.0


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqliteStore:
    """:class:`storage.base.Store` in one SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        raw_retention_days: int | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.raw_retention_days = raw_retention_days
        self._lock = threading.Lock()
        self._last_retention = -RETENTION_EVERY_S
        self._last_compaction = 0
        try:
            self._db = open_store_file(self.path, timeout_s)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    # ------------------------------------------------------------------ plumbing

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return fn(self._db)
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise store_error(exc, self.path) from exc

    def ping(self) -> str:
        return self._run(lambda db: "sqlite " + str(db.execute("SELECT sqlite_version()").fetchone()[0]))

    # ------------------------------------------------------------------ readings

    def encode(self, points: Sequence[StoredReading]) -> Encoded:
        return Encoded(points)  # nothing to prepare: the rows are bound in the transaction

    def write(
        self, points: Sequence[StoredReading], *, sequences: Sequence[SequenceNote] = (), encoded: Encoded | None = None
    ) -> WriteResult:
        rejected: dict[int, str] = {}
        rows = []
        for i, p in enumerate(points):
            reason = _reject_reason(p)
            if reason:
                rejected[i] = reason
                continue
            c = p.context
            rows.append((c.device, p.quantity, p.ts_ms, p.value, str(p.quality), c.district, c.site, c.role, c.source))

        notes = [n for n in sequences if n.seqs]

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
            # the dirty marks, in the same transaction: a new id even for a bucket already marked
            db.executemany("INSERT OR REPLACE INTO rollup_marks (device, quantity, bucket_ms) VALUES (?,?,?)", touched)
            sqlite_sequences.record(db, notes)  # the envelopes, with their readings
            db.execute("COMMIT")

        if rows or notes:
            self._run(tx)
        if notes:
            self._compact_when_due(max(n.received_ms for n in notes))
        return WriteResult(written=len(rows), rejected=rejected)

    def latest(self, *, since_ms: int | None = None) -> list[LatestValue]:
        sql = "SELECT district, site, device, role, source, quantity, ts_ms, value, quality FROM latest"
        args: tuple[int, ...] = ()
        if since_ms is not None:
            sql += " WHERE ts_ms >= ?"
            args = (since_ms,)
        rows = self._run(lambda db: db.execute(sql + " ORDER BY device, quantity", args).fetchall())
        return [
            LatestValue(DeviceContext(r[0], r[1], r[2], r[3], r[4]), r[5], r[6], r[7], _QUALITIES[r[8]])
            for r in rows
            if r[8] in _QUALITIES  # a row not ours is skipped, as on InfluxDB
        ]

    def series(self, device: str, quantity: str, start_ms: int, end_ms: int, *, limit: int) -> list[SeriesPoint]:
        rows = self._run(
            lambda db: db.execute(
                "SELECT ts_ms, value, quality FROM readings WHERE device=? AND quantity=? AND ts_ms>=? AND ts_ms<? "
                "ORDER BY ts_ms LIMIT ?",
                (device, quantity, start_ms, end_ms, limit),
            ).fetchall()
        )
        return [SeriesPoint(r[0], r[1], _QUALITIES[r[2]]) for r in rows if r[2] in _QUALITIES]

    def intervals(self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int) -> list[IntervalStat]:
        return stats_from_columns(self.interval_columns(device, quantity, start_ms, end_ms, interval_s))

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
        """:meth:`intervals` as numpy columns, read straight from the cursor (a city-year at 15 min
        is a million rollup rows)."""
        fields = check_fields(fields)
        interval_ms = interval_s * 1000
        source = rollup_source(start_ms, end_ms, interval_s)
        if source is None:  # no rollup fits (interval or range not aligned on one): the raw good points
            rows = self._run(
                lambda db: db.execute(
                    "SELECT ts_ms, value FROM readings WHERE device=? AND quantity=? AND ts_ms>=? AND ts_ms<? "
                    "AND quality='good' AND value IS NOT NULL ORDER BY ts_ms",
                    (device, quantity, start_ms, end_ms),
                ).fetchall()
            )
            return columns_from_stats(aggregate(rows, interval_ms), fields)
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

    def refresh_rollups(
        self,
        *,
        budget_s: float | None = None,
        on_compiled: Callable[[Sequence[RollupKey]], None] | None = None,
    ) -> int:
        """Compile the marks present when called (:func:`storage.sqlite_rollups.compile_marks`)."""
        cutoff = None
        if self.raw_retention_days is not None:
            cutoff = bucket_start(_now_ms() - self.raw_retention_days * ROLLUP_1D_MS, ROLLUP_15M_MS)
        written = compiler.compile_marks(self._run, cutoff, budget_s, on_compiled)
        if cutoff is not None and time.monotonic() - self._last_retention >= RETENTION_EVERY_S:
            self._run(lambda db: db.execute("DELETE FROM readings WHERE ts_ms < ?", (cutoff,)))
            self._last_retention = time.monotonic()
        return written

    def recent_columns(
        self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int, fields: Sequence[str]
    ) -> IntervalColumns | None:
        return None  # its reads cost little: nothing kept

    def balance_table(self) -> SqliteBalances:
        """The per-device day balances (:mod:`storage.sqlite_balances`)."""
        return SqliteBalances(self._run)

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
        out = []
        for device, gateway, online, seen, updated, quality, errors in self._run(
            lambda db: db.execute("SELECT * FROM device_health ORDER BY device").fetchall()
        ):
            try:
                counts = {str(k): int(v) for k, v in json.loads(errors).items()}
            except (TypeError, ValueError, AttributeError):
                continue  # not ours: skipped, as InfluxDB rows that are not whole
            out.append(DeviceHealth(device, gateway, bool(online), seen, updated, quality, counts))
        return out

    def record_sequences(self, gateway: str, seqs: Sequence[int], *, worker: str, received_ms: int) -> None:
        if not seqs:
            return
        self._run(lambda db: sqlite_sequences.record(db, [SequenceNote(gateway, tuple(seqs), worker, received_ms)]))
        self._compact_when_due(received_ms)

    def _compact_when_due(self, received_ms: int) -> None:
        if received_ms - self._last_compaction >= sqlite_sequences.COMPACT_EVERY_MS:
            self._last_compaction = received_ms
            self.compact_sequences(received_ms - sqlite_sequences.COMPACT_AFTER_MS)

    def compact_sequences(self, watermark_ms: int) -> None:
        """Fold each gateway's records up to ``watermark_ms`` into one, so the table stays small."""
        self._run(lambda db: sqlite_sequences.compact(db, watermark_ms))

    def gaps(self, gateway: str | None = None) -> list[SequenceGap]:
        return self._run(lambda db: sqlite_sequences.gaps(db, gateway))

    def write_service_stats(self, service: str, stats: Mapping[str, float]) -> None:
        rows = [(service, k, float(v), _now_ms()) for k, v in stats.items()]
        self._run(
            lambda db: db.executemany(
                "INSERT INTO counters VALUES (?,?,?,?) ON CONFLICT (service, name) DO UPDATE SET "
                "value=excluded.value, updated_ms=excluded.updated_ms",
                rows,
            )
        )

    def service_stats(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for service, name, value in self._run(
            lambda db: db.execute("SELECT service, name, value FROM counters").fetchall()
        ):
            out.setdefault(service, {})[name] = value
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()


_QUALITIES = {q.value: q for q in Quality}
# SQLite result codes (https://www.sqlite.org/rescode.html) by what the caller should do
_OPERATOR = ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH", "SQLITE_NOTADB", "SQLITE_CORRUPT")
_REFUSED = ("SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_TOOBIG", "SQLITE_RANGE")


def store_error(exc: sqlite3.Error, path: str) -> StoreError:
    """The kind of ``exc``: a file we may not write or that is not a database (an operator must
    act) → :class:`StoreAuthError`; a statement SQLite refuses for what it is (``SQLITE_ERROR``: no
    such table, bad SQL) → :class:`StoreRejectedError`; the rest (locked, busy, disk I/O, full) →
    :class:`StoreTransientError`."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    message = f"SQLite store {path}: {exc}"
    if name.startswith(_OPERATOR):
        return StoreAuthError(message)
    if (
        name == "SQLITE_ERROR"
        or name.startswith(_REFUSED)
        or isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError | sqlite3.DataError)
    ):
        return StoreRejectedError(message)
    return StoreTransientError(message)


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
