"""Device health, sequence records and service counters in the embedded store (tables
``device_health``, ``sequences``, ``counters``), and the translation of ``sqlite3`` errors into the
kinds of :mod:`storage.base`. Functions of an open connection; :class:`storage.sqlite_store.SqliteStore`
calls them under its lock."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

from ville_autonome.readings.health import DeviceHealth
from ville_autonome.storage.base import (
    SequenceGap,
    StoreAuthError,
    StoreError,
    StoreRejectedError,
    StoreTransientError,
)
from ville_autonome.storage.sequences import format_ranges, gaps_from, merge_ranges, parse_ranges, to_ranges

COMPACTED = "_compacted"  # the worker of compacted sequence records

# SQLite result codes (https://www.sqlite.org/rescode.html) by what the caller should do
_OPERATOR = ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH", "SQLITE_NOTADB", "SQLITE_CORRUPT")
_REFUSED = ("SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_TOOBIG", "SQLITE_RANGE")


def store_error(exc: sqlite3.Error, path: str) -> StoreError:
    """The kind of ``exc``: a file we may not write or that is not a database (an operator must
    act) → :class:`StoreAuthError`; a statement SQLite refuses for what it is →
    :class:`StoreRejectedError`; anything else (locked, busy, disk I/O, full) →
    :class:`StoreTransientError`."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    message = f"SQLite store {path}: {exc}"
    if name.startswith(_OPERATOR):
        return StoreAuthError(message)
    refused = name == "SQLITE_ERROR" or name.startswith(_REFUSED)  # SQLITE_ERROR: no such table, bad SQL
    if refused or isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError | sqlite3.DataError):
        return StoreRejectedError(message)
    return StoreTransientError(message)


def write_health(db: sqlite3.Connection, records: Sequence[DeviceHealth]) -> None:
    rows = [
        (h.device, h.gateway, int(h.online), h.last_seen_ms, h.updated_ms, h.last_quality, json.dumps(h.errors))
        for h in records
    ]
    db.executemany(
        "INSERT INTO device_health VALUES (?,?,?,?,?,?,?) ON CONFLICT (device) DO UPDATE SET "
        "gateway=excluded.gateway, online=excluded.online, last_seen_ms=excluded.last_seen_ms, "
        "updated_ms=excluded.updated_ms, last_quality=excluded.last_quality, errors=excluded.errors",
        rows,
    )


def health(db: sqlite3.Connection) -> list[DeviceHealth]:
    out = []
    for device, gateway, online, last_seen, updated, quality, errors in db.execute(
        "SELECT * FROM device_health ORDER BY device"
    ):
        try:
            counts = {str(k): int(v) for k, v in json.loads(errors).items()}
        except (TypeError, ValueError, AttributeError):
            continue  # not ours: skipped, like InfluxDB rows that are not whole
        out.append(DeviceHealth(device, gateway, bool(online), last_seen, updated, quality, counts))
    return out


def record_sequences(db: sqlite3.Connection, gateway: str, seqs: Sequence[int], worker: str, received_ms: int) -> None:
    db.execute(
        "INSERT INTO sequences VALUES (?,?,?,?) ON CONFLICT (gateway, worker, received_ms) DO UPDATE SET "
        "ranges = ranges || ',' || excluded.ranges",
        (gateway, worker, received_ms, format_ranges(to_ranges(seqs))),
    )


def compact_sequences(db: sqlite3.Connection, watermark_ms: int) -> None:
    """Fold each gateway's records up to ``watermark_ms`` into one (worker ``_compacted``), so the
    table stays small; a union is a union, so this is safe with several workers."""
    db.execute("BEGIN IMMEDIATE")
    gateways = [
        r[0] for r in db.execute("SELECT DISTINCT gateway FROM sequences WHERE received_ms <= ?", (watermark_ms,))
    ]
    for gw in gateways:
        cond = "gateway=? AND (worker=? OR received_ms <= ?)"
        args = (gw, COMPACTED, watermark_ms)
        texts = [r[0] for r in db.execute(f"SELECT ranges FROM sequences WHERE {cond}", args)]  # noqa: S608
        merged = merge_ranges([rg for t in texts for rg in parse_ranges(t)])
        db.execute(f"DELETE FROM sequences WHERE {cond}", args)  # noqa: S608
        db.execute("INSERT INTO sequences VALUES (?,?,?,?)", (gw, COMPACTED, watermark_ms, format_ranges(merged)))
    db.execute("COMMIT")


def gaps(db: sqlite3.Connection, gateway: str | None) -> list[SequenceGap]:
    if gateway is None:
        return gaps_from(db.execute("SELECT gateway, ranges FROM sequences").fetchall())
    return gaps_from(db.execute("SELECT gateway, ranges FROM sequences WHERE gateway=?", (gateway,)).fetchall())


def write_counters(db: sqlite3.Connection, service: str, counters: Mapping[str, float], now_ms: int) -> None:
    db.executemany(
        "INSERT INTO counters VALUES (?,?,?,?) ON CONFLICT (service, name) DO UPDATE SET "
        "value=excluded.value, updated_ms=excluded.updated_ms",
        [(service, k, float(v), now_ms) for k, v in counters.items()],
    )


def counters(db: sqlite3.Connection) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for service, name, value in db.execute("SELECT service, name, value FROM counters"):
        out.setdefault(service, {})[name] = value
    return out
