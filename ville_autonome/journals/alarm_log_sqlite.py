"""The alarm log in the embedded store's SQLite file (its own connection; WAL lets the evaluator,
the API and the ingest share the file): tables ``alarm_episodes``, ``alarm_events``,
``alarm_silences``, ``alarm_deliveries`` and ``alarm_lease`` (journals.alarm_records)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ville_autonome.journals.alarm_records import (
    AlarmEvent,
    AlarmQuery,
    AlarmRecord,
    Delivery,
    DeliveryStatus,
    LeaseClaim,
    Silence,
)
from ville_autonome.journals.backends import SqliteJournal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarm_episodes (
    id TEXT PRIMARY KEY, key TEXT NOT NULL, rule TEXT NOT NULL, subject TEXT NOT NULL, scope TEXT NOT NULL,
    severity TEXT NOT NULL, state TEXT NOT NULL, labels TEXT NOT NULL, summary TEXT NOT NULL, value REAL,
    active_since_ms INTEGER NOT NULL, pending_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
    fired_ms INTEGER, resolved_ms INTEGER, notified_firing_ms INTEGER, notified_resolved_ms INTEGER,
    acked_by TEXT, acked_ms INTEGER, ack_comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alarm_episodes_state ON alarm_episodes (state, updated_ms);
CREATE INDEX IF NOT EXISTS alarm_episodes_updated ON alarm_episodes (updated_ms);
CREATE TABLE IF NOT EXISTS alarm_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
    alarm_id TEXT NOT NULL, by TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_events_ts ON alarm_events (ts_ms);
CREATE TABLE IF NOT EXISTS alarm_silences (
    id TEXT PRIMARY KEY, rule TEXT, subject TEXT, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
    reason TEXT NOT NULL, created_by TEXT NOT NULL, created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alarm_deliveries (
    message_id TEXT NOT NULL, channel TEXT NOT NULL, group_key TEXT NOT NULL, created_ms INTEGER NOT NULL,
    body TEXT NOT NULL, entries TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL, last_error TEXT NOT NULL, done_ms INTEGER,
    PRIMARY KEY (message_id, channel)
);
CREATE INDEX IF NOT EXISTS alarm_deliveries_status ON alarm_deliveries (status, created_ms);
CREATE TABLE IF NOT EXISTS alarm_lease (
    holder TEXT PRIMARY KEY, since_ms INTEGER NOT NULL, renewed_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL
);
"""
_EPISODE_COLUMNS = (
    "id, key, rule, subject, scope, severity, state, labels, summary, value, active_since_ms, pending_ms, "
    "updated_ms, fired_ms, resolved_ms, notified_firing_ms, notified_resolved_ms"
)
_UPSERT_EPISODE = (
    f"INSERT INTO alarm_episodes ({_EPISODE_COLUMNS}) VALUES ({', '.join('?' * 17)}) "  # noqa: S608 (constants)
    "ON CONFLICT(id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _EPISODE_COLUMNS.split(", ")[1:])
)
_SELECT_EPISODE = f"SELECT {_EPISODE_COLUMNS}, acked_by, acked_ms, ack_comment FROM alarm_episodes "  # noqa: S608
_SELECT_SILENCE = "SELECT id, rule, subject, start_ms, end_ms, reason, created_by, created_ms FROM alarm_silences "
_DELIVERY_COLUMNS = (
    "message_id, channel, group_key, created_ms, body, entries, status, attempts, next_attempt_ms, last_error, done_ms"
)


def _episode_values(a: AlarmRecord) -> tuple[Any, ...]:
    return (
        a.id, a.key, a.rule, a.subject, a.scope, a.severity, a.state, json.dumps(a.labels, sort_keys=True),
        a.summary, a.value, a.active_since_ms, a.pending_ms, a.updated_ms, a.fired_ms, a.resolved_ms,
        a.notified_firing_ms, a.notified_resolved_ms,
    )  # fmt: skip


def _episode(row: Sequence[Any]) -> AlarmRecord:
    return AlarmRecord(
        id=row[0], key=row[1], rule=row[2], subject=row[3], scope=row[4], severity=row[5], state=row[6],
        labels=json.loads(row[7]), summary=row[8], value=row[9], active_since_ms=row[10], pending_ms=row[11],
        updated_ms=row[12], fired_ms=row[13], resolved_ms=row[14], notified_firing_ms=row[15],
        notified_resolved_ms=row[16], acked_by=row[17], acked_ms=row[18], ack_comment=row[19] or "",
    )  # fmt: skip


def _delivery_values(d: Delivery) -> tuple[Any, ...]:
    return (
        d.message_id, d.channel, d.group_key, d.created_ms, d.body, json.dumps(d.entries), d.status, d.attempts,
        d.next_attempt_ms, d.last_error, d.done_ms,
    )  # fmt: skip


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        message_id=row[0], channel=row[1], group_key=row[2], created_ms=row[3], body=row[4],
        entries=[(str(a), t) for a, t in json.loads(row[5])], status=row[6], attempts=row[7],
        next_attempt_ms=row[8], last_error=row[9], done_ms=row[10],
    )  # fmt: skip


class SqliteAlarmLog(SqliteJournal):
    name = "alarm log"
    schema = _SCHEMA

    # ------------------------------------------------------------ episodes

    def save_alarms(self, alarms: Sequence[AlarmRecord]) -> None:
        if alarms:
            with self._tx() as db:
                db.executemany(_UPSERT_EPISODE, [_episode_values(a) for a in alarms])

    def alarms(self, query: AlarmQuery) -> list[AlarmRecord]:
        where: list[str] = []
        params: list[Any] = []
        if query.states:
            where.append(f"state IN ({', '.join('?' * len(query.states))})")
            params.extend(query.states)
        for column in ("severity", "scope", "subject", "rule"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.since_ms is not None:
            where.append("updated_ms >= ?")
            params.append(query.since_ms)
        if query.until_ms is not None:
            where.append("pending_ms < ?")
            params.append(query.until_ms)
        sql = _SELECT_EPISODE + (f"WHERE {' AND '.join(where)} " if where else "")
        rows = self._read(sql + "ORDER BY updated_ms DESC, id LIMIT ?", [*params, query.limit])
        return [_episode(r) for r in rows]

    def alarm(self, alarm_id: str) -> AlarmRecord | None:
        rows = self._read(_SELECT_EPISODE + "WHERE id = ?", (alarm_id,))
        return _episode(rows[0]) if rows else None

    def unsettled(self) -> list[AlarmRecord]:
        rows = self._read(
            _SELECT_EPISODE + "WHERE state != 'resolved' OR (notified_firing_ms IS NOT NULL AND "
            "notified_resolved_ms IS NULL) ORDER BY pending_ms"
        )
        return [_episode(r) for r in rows]

    def acknowledge(self, alarm_id: str, by: str, at_ms: int, comment: str) -> AlarmRecord | None:
        with self._tx() as db:
            db.execute(
                "UPDATE alarm_episodes SET acked_by = ?, acked_ms = ?, ack_comment = ? WHERE id = ? AND acked_ms IS NULL",
                (by, at_ms, comment, alarm_id),
            )
        return self.alarm(alarm_id)

    # ------------------------------------------------------------ events

    def add_events(self, events: Sequence[AlarmEvent]) -> None:
        if events:
            with self._tx() as db:
                db.executemany(
                    "INSERT INTO alarm_events (ts_ms, kind, key, alarm_id, by, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    [(e.ts_ms, e.kind, e.key, e.alarm_id, e.by, e.detail) for e in events],
                )

    def events(self, *, since_ms: int, until_ms: int, key: str | None = None, limit: int = 200) -> list[AlarmEvent]:
        sql = "SELECT ts_ms, kind, key, alarm_id, by, detail FROM alarm_events WHERE ts_ms >= ? AND ts_ms < ? "
        params: list[Any] = [since_ms, until_ms]
        if key is not None:
            sql += "AND key = ? "
            params.append(key)
        rows = self._read(sql + "ORDER BY ts_ms DESC, seq DESC LIMIT ?", [*params, limit])
        return [AlarmEvent(*r) for r in rows]

    # ------------------------------------------------------------ silences

    def save_silence(self, silence: Silence) -> None:
        s = silence
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO alarm_silences (id, rule, subject, start_ms, end_ms, reason, created_by, "
                "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (s.id, s.rule, s.subject, s.start_ms, s.end_ms, s.reason, s.created_by, s.created_ms),
            )

    def silences(self, *, active_at_ms: int | None = None, limit: int = 200) -> list[Silence]:
        sql = _SELECT_SILENCE
        params: list[Any] = []
        if active_at_ms is not None:
            sql += "WHERE end_ms > ? "
            params.append(active_at_ms)
        rows = self._read(sql + "ORDER BY created_ms DESC, id LIMIT ?", [*params, limit])
        return [Silence(*r) for r in rows]

    def silence(self, silence_id: str) -> Silence | None:
        rows = self._read(_SELECT_SILENCE + "WHERE id = ?", (silence_id,))
        return Silence(*rows[0]) if rows else None

    # ------------------------------------------------------------ notifications

    def commit_message(self, deliveries: Sequence[Delivery], notified: Sequence[AlarmRecord]) -> None:
        with self._tx() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO alarm_deliveries ({_DELIVERY_COLUMNS}) VALUES ({', '.join('?' * 11)})",  # noqa: S608
                [_delivery_values(d) for d in deliveries],
            )
            db.executemany(_UPSERT_EPISODE, [_episode_values(a) for a in notified])

    def save_delivery(self, delivery: Delivery) -> None:
        with self._tx() as db:
            db.execute(
                f"INSERT OR REPLACE INTO alarm_deliveries ({_DELIVERY_COLUMNS}) VALUES ({', '.join('?' * 11)})",  # noqa: S608
                _delivery_values(delivery),
            )

    def deliveries(
        self, *, status: DeliveryStatus | None = None, since_ms: int | None = None, limit: int = 200
    ) -> list[Delivery]:
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if since_ms is not None:
            where.append("created_ms >= ?")
            params.append(since_ms)
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM alarm_deliveries " + (f"WHERE {' AND '.join(where)} " if where else "")  # noqa: S608
        rows = self._read(sql + "ORDER BY created_ms DESC, message_id, channel LIMIT ?", [*params, limit])
        return [_delivery(r) for r in rows]

    # ------------------------------------------------------------ lease

    def claim(self, claim: LeaseClaim) -> None:
        c = claim
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO alarm_lease (holder, since_ms, renewed_ms, expires_ms) VALUES (?, ?, ?, ?)",
                (c.holder, c.since_ms, c.renewed_ms, c.expires_ms),
            )

    def claims(self, *, now_ms: int) -> list[LeaseClaim]:
        rows = self._read(
            "SELECT holder, since_ms, renewed_ms, expires_ms FROM alarm_lease WHERE expires_ms > ? ORDER BY since_ms",
            (now_ms,),
        )
        return [LeaseClaim(*r) for r in rows]
