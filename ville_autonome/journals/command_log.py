"""The audit log of commands (docs/commands.md): who asked what of which device, when, and what became of it.

Durable on both backends, beside the readings and in the same store, through its own small seam
(:class:`CommandLog`) so that the store classes need nothing of it:

- :class:`SqliteCommandLog`: a ``command_log`` table in the embedded store's SQLite file (its own
  connection; WAL lets it share the file with the store);
- :class:`InfluxCommandLog`: a ``command_log`` measurement in the store's InfluxDB database, one
  point per command (tags ``device``, ``gateway``, ``command``; time = when it was issued), which a
  result re-writes with its fields (same series and time: an upsert).

``record`` writes a command as sent (or as the API refused it); ``settle`` adds its result, at
most once for a final state (a re-delivered result changes nothing); ``expire_unanswered`` marks
commands past their expiry without a result ``no_result``. Errors: ``storage.base.StoreError`` and
its subclasses, as every backend's. The connections, writes and bounded reads are
``journals.backends``'s, shared with the alarm log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.influx_wire.influxql import quote_ident, quote_string
from ville_autonome.influx_wire.line_protocol import line
from ville_autonome.journals.backends import (
    Fields,
    InfluxJournal,
    SqliteJournal,
    journal_beside,
    known_or_minus_one,
    none_if_negative,
    open_journal,
)
from ville_autonome.readings.commands import FINAL, CommandStatus

MEASUREMENT = "command_log"


@dataclass(frozen=True, slots=True)
class CommandRecord:
    id: str
    device: str
    gateway: str
    issued_by: str
    issued_ms: int
    expires_ms: int
    writes: list[dict[str, float | str]]
    status: CommandStatus
    detail: str = ""
    exception_code: int | None = None
    readback: dict[str, float] = field(default_factory=dict)
    done_ms: int | None = None


class CommandLog(Protocol):
    def record(self, rec: CommandRecord) -> None: ...
    def get(self, command_id: str) -> CommandRecord | None: ...
    def list(self, *, device: str | None = None, limit: int = 100) -> list[CommandRecord]: ...
    def close(self) -> None: ...


def settle(log: CommandLog, result: CommandRecord) -> CommandRecord | None:
    """Add a result to its command (``result`` carries the status, detail, read-back and time);
    ``None`` if the command is unknown or was sent to another gateway or device than the one that
    answers. A command already final keeps its first result."""
    rec = log.get(result.id)
    if rec is None or (rec.gateway, rec.device) != (result.gateway, result.device):
        return None
    if rec.status in FINAL:
        return rec
    done = replace(
        rec,
        status=result.status,
        detail=result.detail,
        exception_code=result.exception_code,
        readback=result.readback,
        done_ms=result.done_ms,
    )
    log.record(done)
    return done


def expire_unanswered(log: CommandLog, now_ms: int, grace_ms: int, *, device: str | None = None) -> None:
    """Commands still ``sent`` ``grace_ms`` after their expiry: ``no_result`` (the gateway may be offline)."""
    for rec in log.list(device=device, limit=1000):
        if rec.status is CommandStatus.SENT and now_ms >= rec.expires_ms + grace_ms:
            log.record(
                replace(rec, status=CommandStatus.NO_RESULT, detail="no answer from the gateway", done_ms=now_ms)
            )


def open_command_log(settings: StoreSettings) -> CommandLog:
    """The audit log in the configured store."""
    return open_journal(settings, SqliteCommandLog, InfluxCommandLog)


def command_log_for(store: object, settings: StoreSettings) -> CommandLog:
    """The audit log beside an open store (its file, or its server and database); for a store of
    another kind, or an in-memory one, the one ``settings`` name."""
    return journal_beside(store, settings, SqliteCommandLog, InfluxCommandLog, memory_of_its_own=False)


# ------------------------------------------------------------------ SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS command_log (
    id TEXT PRIMARY KEY, device TEXT NOT NULL, gateway TEXT NOT NULL, issued_by TEXT NOT NULL,
    issued_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, writes TEXT NOT NULL, status TEXT NOT NULL,
    detail TEXT NOT NULL, exception_code INTEGER, readback TEXT NOT NULL, done_ms INTEGER
);
CREATE INDEX IF NOT EXISTS command_log_device ON command_log (device, issued_ms);
"""
_INSERT = (
    "INSERT OR REPLACE INTO command_log (id, device, gateway, issued_by, issued_ms, expires_ms, writes, status, "
    "detail, exception_code, readback, done_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = (
    "SELECT id, device, gateway, issued_by, issued_ms, expires_ms, writes, status, detail, exception_code, "
    "readback, done_ms FROM command_log "
)
_GET = _SELECT + "WHERE id = ?"
_LIST = _SELECT + "ORDER BY issued_ms DESC, id LIMIT ?"
_LIST_DEVICE = _SELECT + "WHERE device = ? ORDER BY issued_ms DESC, id LIMIT ?"


def _from_row(row: Sequence[object]) -> CommandRecord:
    cid, device, gateway, by, issued, expires, writes, status, detail, code, readback, done = row
    return CommandRecord(
        id=str(cid),
        device=str(device),
        gateway=str(gateway),
        issued_by=str(by),
        issued_ms=int(issued),  # type: ignore[call-overload]
        expires_ms=int(expires),  # type: ignore[call-overload]
        writes=json.loads(str(writes)),
        status=CommandStatus(str(status)),
        detail=str(detail),
        exception_code=None if code is None else int(code),  # type: ignore[call-overload]
        readback=json.loads(str(readback)),
        done_ms=None if done is None else int(done),  # type: ignore[call-overload]
    )


class SqliteCommandLog(SqliteJournal):
    name = "command log"
    schema = _SCHEMA

    def record(self, rec: CommandRecord) -> None:
        values = (
            rec.id,
            rec.device,
            rec.gateway,
            rec.issued_by,
            rec.issued_ms,
            rec.expires_ms,
            json.dumps(rec.writes),
            str(rec.status),
            rec.detail,
            rec.exception_code,
            json.dumps(rec.readback),
            rec.done_ms,
        )
        with self._tx() as db:
            db.execute(_INSERT, values)

    def get(self, command_id: str) -> CommandRecord | None:
        rows = self._read(_GET, (command_id,))
        return _from_row(rows[0]) if rows else None

    def list(self, *, device: str | None = None, limit: int = 100) -> list[CommandRecord]:
        rows = self._read(_LIST_DEVICE, (device, limit)) if device else self._read(_LIST, (limit,))
        return [_from_row(r) for r in rows]


# ------------------------------------------------------------------ InfluxDB


class InfluxCommandLog(InfluxJournal):
    """Points of ``command_log`` in the store's database."""

    name = "command log"

    def record(self, rec: CommandRecord) -> None:
        fields: Fields = {
            "issued_by": rec.issued_by,
            "expires_ms": float(rec.expires_ms),
            "writes": json.dumps(rec.writes),
            "status": str(rec.status),
            "detail": rec.detail,
            "exception_code": known_or_minus_one(rec.exception_code),
            "readback": json.dumps(rec.readback),
            "done_ms": known_or_minus_one(rec.done_ms),
        }
        tags = {"device": rec.device, "gateway": rec.gateway, "command": rec.id}
        self._write([line(MEASUREMENT, tags, fields, rec.issued_ms)])

    def _select(self, where: str, limit: int) -> list[CommandRecord]:
        rows = self._rows(MEASUREMENT, where, "GROUP BY * ORDER BY time DESC LIMIT 1")  # one point per command
        out = self._read_each(
            rows,
            lambda tags, row: CommandRecord(
                id=tags.get("command", ""),
                device=tags.get("device", ""),
                gateway=tags.get("gateway", ""),
                issued_by=str(row.get("issued_by") or ""),
                issued_ms=int(row["time"]),
                expires_ms=int(row.get("expires_ms") or 0),
                writes=json.loads(row.get("writes") or "[]"),
                status=CommandStatus(row.get("status") or "sent"),
                detail=str(row.get("detail") or ""),
                exception_code=none_if_negative(row.get("exception_code")),
                readback=json.loads(row.get("readback") or "{}"),
                done_ms=none_if_negative(row.get("done_ms")),
            ),
        )
        out.sort(key=lambda r: (-r.issued_ms, r.id))
        return out[:limit]

    def get(self, command_id: str) -> CommandRecord | None:
        found = self._select(f" AND {quote_ident('command')} = {quote_string(command_id)}", 1)
        return found[0] if found else None

    def list(self, *, device: str | None = None, limit: int = 100) -> list[CommandRecord]:
        where = f" AND {quote_ident('device')} = {quote_string(device)}" if device else ""
        return self._select(where, limit)
