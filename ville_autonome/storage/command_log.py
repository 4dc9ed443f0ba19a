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
its subclasses, as every backend's.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.commands import FINAL, CommandStatus
from ville_autonome.storage.base import StoreTransientError
from ville_autonome.storage.influx_http import InfluxHttp
from ville_autonome.storage.influx_store import InfluxStore
from ville_autonome.storage.influxql import ns, quote_ident, quote_string
from ville_autonome.storage.line_protocol import join_lines, line
from ville_autonome.storage.sqlite_store import SqliteStore

MEASUREMENT = "command_log"
HORIZON_MS = 400 * 86_400_000  # how far back an Influx query looks (every query is bounded)


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
    if settings.backend == "sqlite":
        return SqliteCommandLog(settings.path, timeout_s=settings.timeout_s)
    http = InfluxHttp(
        settings.url,
        timeout_s=settings.timeout_s,
        token=settings.token.get_secret_value() if settings.token else None,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
    )
    http.ping()
    return InfluxCommandLog(http, settings.database, org=settings.org, rp=settings.retention_policy, owns_http=True)


def command_log_for(store: object, settings: StoreSettings) -> CommandLog:
    """The audit log beside an open store (its file, or its server and database); for a store of
    another kind, the one ``settings`` name."""
    if isinstance(store, SqliteStore) and store.path != ":memory:":
        return SqliteCommandLog(store.path, timeout_s=settings.timeout_s)
    if isinstance(store, InfluxStore):
        return InfluxCommandLog(store.http, store.database, org=store.org, rp=store.retention_policy)
    return open_command_log(settings)


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


class SqliteCommandLog:
    def __init__(self, path: str | Path, *, timeout_s: float = 10.0) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), timeout=timeout_s, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreTransientError(f"command log {path}: {exc}") from exc

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
        with self._lock:
            try:
                with self._db:
                    self._db.execute(_INSERT, values)
            except sqlite3.Error as exc:
                raise StoreTransientError(f"command log: {exc}") from exc

    def get(self, command_id: str) -> CommandRecord | None:
        with self._lock:
            row = self._db.execute(_GET, (command_id,)).fetchone()
        return _from_row(row) if row else None

    def list(self, *, device: str | None = None, limit: int = 100) -> list[CommandRecord]:
        with self._lock:
            if device:
                rows = self._db.execute(_LIST_DEVICE, (device, limit)).fetchall()
            else:
                rows = self._db.execute(_LIST, (limit,)).fetchall()
        return [_from_row(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


# ------------------------------------------------------------------ InfluxDB


class InfluxCommandLog:
    """Points of ``command_log`` in the store's database (1.x ``/write``; 2.x/3.x ``/api/v2/write``)."""

    def __init__(
        self, http: InfluxHttp, database: str, *, org: str | None, rp: str | None, owns_http: bool = False
    ) -> None:
        self.http, self.database, self.org, self.rp = http, database, org, rp
        self._owns_http = owns_http

    def record(self, rec: CommandRecord) -> None:
        fields: dict[str, float | str | bool] = {
            "issued_by": rec.issued_by,
            "expires_ms": float(rec.expires_ms),
            "writes": json.dumps(rec.writes),
            "status": str(rec.status),
            "detail": rec.detail,
            "exception_code": float(rec.exception_code if rec.exception_code is not None else -1),
            "readback": json.dumps(rec.readback),
            "done_ms": float(rec.done_ms if rec.done_ms is not None else -1),
        }
        tags = {"device": rec.device, "gateway": rec.gateway, "command": rec.id}
        body = join_lines([line(MEASUREMENT, tags, fields, rec.issued_ms)])
        if self.http.major >= 2:
            params = {"bucket": self.database, "precision": "ms", **({"org": self.org} if self.org else {})}
            r = self.http.request("POST", "/api/v2/write", params, body, "text/plain; charset=utf-8")
        else:
            params = {"db": self.database, "precision": "ms", **({"rp": self.rp} if self.rp else {})}
            r = self.http.request("POST", "/write", params, body, "text/plain; charset=utf-8")
        if r.status >= 300:
            raise StoreTransientError(f"command log: InfluxDB answered {r.status}: {r.text()[:200]}")

    def _select(self, where: str, limit: int) -> list[CommandRecord]:
        now = time.time_ns() // 1_000_000
        bound = f"time >= {ns(now - HORIZON_MS)} AND time <= {ns(now + HORIZON_MS)}"
        q = (
            f"SELECT * FROM {quote_ident(MEASUREMENT)} WHERE {bound}{where} "  # noqa: S608 (quoted by influxql)
            "GROUP BY * ORDER BY time DESC LIMIT 1"  # one point per command (series)
        )
        out: list[CommandRecord] = []
        for series in self.http.query(q, self.database):
            tags = series.get("tags") or {}
            cols = series["columns"]
            for values in series["values"]:
                row = dict(zip(cols, values, strict=True))
                code, done = row.get("exception_code"), row.get("done_ms")
                out.append(
                    CommandRecord(
                        id=tags.get("command", ""),
                        device=tags.get("device", ""),
                        gateway=tags.get("gateway", ""),
                        issued_by=str(row.get("issued_by") or ""),
                        issued_ms=int(row["time"]),
                        expires_ms=int(row.get("expires_ms") or 0),
                        writes=json.loads(row.get("writes") or "[]"),
                        status=CommandStatus(row.get("status") or "sent"),
                        detail=str(row.get("detail") or ""),
                        exception_code=None if code is None or code < 0 else int(code),
                        readback=json.loads(row.get("readback") or "{}"),
                        done_ms=None if done is None or done < 0 else int(done),
                    )
                )
        out.sort(key=lambda r: (-r.issued_ms, r.id))
        return out[:limit]

    def get(self, command_id: str) -> CommandRecord | None:
        found = self._select(f" AND {quote_ident('command')} = {quote_string(command_id)}", 1)
        return found[0] if found else None

    def list(self, *, device: str | None = None, limit: int = 100) -> list[CommandRecord]:
        where = f" AND {quote_ident('device')} = {quote_string(device)}" if device else ""
        return self._select(where, limit)

    def close(self) -> None:
        if self._owns_http:
            self.http.close()
