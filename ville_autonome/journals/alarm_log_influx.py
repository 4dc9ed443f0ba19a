"""The alarm log in the store's InfluxDB database (1.x ``/write``; 2.x/3.x ``/api/v2/write``).

Measurements (tags bounded by the configuration: rules × subjects, channels × groups):

| measurement | tags | time | fields |
|---|---|---|---|
| ``alarm_episodes`` | ``key`` | when the episode began (``pending_ms``) | the episode; an update re-writes the same point |
| ``alarm_events`` | ``kind``, ``key`` | the event | ``alarm_id``, ``by``, ``detail`` |
| ``alarm_silences`` | ``silence`` | its creation | rule, subject, start/end, reason, by |
| ``alarm_deliveries`` | ``channel``, ``group`` | the message's creation | the message, entries, status, attempts |
| ``alarm_lease`` | ``holder`` | each renewal | ``since_ms``, ``expires_ms`` |

A point re-written with the same series and time merges its fields, which makes each update an
upsert, and lets the API write an acknowledgement's fields alone without racing the evaluator.
InfluxDB cannot store a null: an unknown time is ``-1``, an unknown value has ``value_known``
false. Every query is bounded in time (``journals.backends.HORIZON_MS``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ville_autonome.influx_wire.influxql import ns, quote_ident, quote_string
from ville_autonome.influx_wire.line_protocol import line
from ville_autonome.journals.alarm_records import (
    AlarmEvent,
    AlarmQuery,
    AlarmRecord,
    Delivery,
    DeliveryStatus,
    LeaseClaim,
    Silence,
)
from ville_autonome.journals.backends import Fields, InfluxJournal, known_or_minus_one, none_if_negative, one_line

EPISODES, EVENTS, SILENCES, DELIVERIES, LEASE = (
    "alarm_episodes",
    "alarm_events",
    "alarm_silences",
    "alarm_deliveries",
    "alarm_lease",
)
LEASE_LOOKBACK_MS = 86_400_000


def _episode_fields(a: AlarmRecord) -> Fields:
    return {
        "id": a.id,
        "rule": a.rule,
        "subject": a.subject,
        "scope": a.scope,
        "severity": a.severity,
        "state": a.state,
        "labels": json.dumps(a.labels, sort_keys=True),
        "summary": one_line(a.summary),
        "value": float(a.value) if a.value is not None else 0.0,
        "value_known": a.value is not None,
        "active_since_ms": float(a.active_since_ms),
        "updated_ms": float(a.updated_ms),
        "fired_ms": known_or_minus_one(a.fired_ms),
        "resolved_ms": known_or_minus_one(a.resolved_ms),
        "notified_firing_ms": known_or_minus_one(a.notified_firing_ms),
        "notified_resolved_ms": known_or_minus_one(a.notified_resolved_ms),
    }


def _episode(tags: dict[str, str], row: dict[str, Any]) -> AlarmRecord:
    return AlarmRecord(
        id=str(row["id"]),
        key=tags.get("key", ""),
        rule=str(row.get("rule") or ""),
        subject=str(row.get("subject") or ""),
        scope=str(row.get("scope") or ""),
        severity=str(row.get("severity") or ""),
        state=row.get("state") or "resolved",
        labels=json.loads(row.get("labels") or "{}"),
        summary=str(row.get("summary") or ""),
        value=float(row["value"]) if row.get("value_known") else None,
        active_since_ms=int(row.get("active_since_ms") or row["time"]),
        pending_ms=int(row["time"]),
        updated_ms=int(row.get("updated_ms") or row["time"]),
        fired_ms=none_if_negative(row.get("fired_ms")),
        resolved_ms=none_if_negative(row.get("resolved_ms")),
        notified_firing_ms=none_if_negative(row.get("notified_firing_ms")),
        notified_resolved_ms=none_if_negative(row.get("notified_resolved_ms")),
        acked_by=row.get("acked_by") or None,
        acked_ms=none_if_negative(row.get("acked_ms")),
        ack_comment=str(row.get("ack_comment") or ""),
    )


def _delivery_line(d: Delivery) -> str:
    fields: Fields = {
        "message_id": d.message_id,
        "body": d.body,
        "entries": json.dumps(d.entries),
        "status": d.status,
        "attempts": float(d.attempts),
        "next_attempt_ms": float(d.next_attempt_ms),
        "last_error": one_line(d.last_error),
        "done_ms": known_or_minus_one(d.done_ms),
    }
    return line(DELIVERIES, {"channel": d.channel, "group": d.group_key}, fields, d.created_ms)


class InfluxAlarmLog(InfluxJournal):
    name = "alarm log"

    # ------------------------------------------------------------ episodes

    def save_alarms(self, alarms: Sequence[AlarmRecord]) -> None:
        self._write([line(EPISODES, {"key": a.key}, _episode_fields(a), a.pending_ms) for a in alarms])

    def _episodes(self, where: str) -> list[AlarmRecord]:
        rows = [(tags, row) for tags, row in self._rows(EPISODES, where, 'GROUP BY "key"') if row.get("id")]
        return self._read_each(rows, _episode)

    def alarms(self, query: AlarmQuery) -> list[AlarmRecord]:
        where = ""
        if query.states:
            where += " AND (" + " OR ".join(f'"state" = {quote_string(s)}' for s in query.states) + ")"
        for column in ("severity", "scope", "subject", "rule"):
            value = getattr(query, column)
            if value is not None:
                where += f" AND {quote_ident(column)} = {quote_string(value)}"
        if query.since_ms is not None:
            where += f' AND "updated_ms" >= {float(query.since_ms)!r}'
        if query.until_ms is not None:
            where += f" AND time < {ns(query.until_ms)}"
        found = sorted(self._episodes(where), key=lambda a: (-a.updated_ms, a.id))
        return found[: query.limit]

    def alarm(self, alarm_id: str) -> AlarmRecord | None:
        found = self._episodes(f' AND "id" = {quote_string(alarm_id)}')
        return found[0] if found else None

    def unsettled(self) -> list[AlarmRecord]:
        where = ' AND ("state" != \'resolved\' OR ("notified_firing_ms" >= 0 AND "notified_resolved_ms" < 0))'
        return sorted(self._episodes(where), key=lambda a: a.pending_ms)

    def acknowledge(self, alarm_id: str, by: str, at_ms: int, comment: str) -> AlarmRecord | None:
        found = self.alarm(alarm_id)
        if found is None or found.acked_ms is not None:
            return found
        fields: Fields = {
            "acked_by": by,
            "acked_ms": float(at_ms),
            "ack_comment": one_line(comment),
        }
        self._write([line(EPISODES, {"key": found.key}, fields, found.pending_ms)])
        return self.alarm(alarm_id)

    # ------------------------------------------------------------ events

    def add_events(self, events: Sequence[AlarmEvent]) -> None:
        self._write(
            [
                line(
                    EVENTS,
                    {"kind": e.kind, "key": e.key},
                    {"alarm_id": e.alarm_id, "by": e.by, "detail": one_line(e.detail)},
                    e.ts_ms,
                )
                for e in events
            ]
        )

    def events(self, *, since_ms: int, until_ms: int, key: str | None = None, limit: int = 200) -> list[AlarmEvent]:
        where = f" AND time >= {ns(since_ms)} AND time < {ns(until_ms)}"
        if key is not None:
            where += f' AND "key" = {quote_string(key)}'
        rows = self._rows(EVENTS, where, f"ORDER BY time DESC LIMIT {int(limit)}")
        out = self._read_each(
            rows,
            lambda _, r: AlarmEvent(
                int(r["time"]),
                str(r.get("kind") or ""),
                str(r.get("key") or ""),
                str(r.get("alarm_id") or ""),
                str(r.get("by") or ""),
                str(r.get("detail") or ""),
            ),
        )
        return sorted(out, key=lambda e: -e.ts_ms)[:limit]

    # ------------------------------------------------------------ silences

    def save_silence(self, silence: Silence) -> None:
        s = silence
        fields: Fields = {
            "rule": s.rule or "",
            "subject": s.subject or "",
            "start_ms": float(s.start_ms),
            "end_ms": float(s.end_ms),
            "reason": one_line(s.reason),
            "created_by": s.created_by,
        }
        self._write([line(SILENCES, {"silence": s.id}, fields, s.created_ms)])

    def _silences(self, where: str) -> list[Silence]:
        out = self._read_each(
            self._rows(SILENCES, where, 'GROUP BY "silence"'),
            lambda tags, r: Silence(
                id=tags.get("silence", ""),
                rule=r.get("rule") or None,
                subject=r.get("subject") or None,
                start_ms=int(r.get("start_ms") or 0),
                end_ms=int(r.get("end_ms") or 0),
                reason=str(r.get("reason") or ""),
                created_by=str(r.get("created_by") or ""),
                created_ms=int(r["time"]),
            ),
        )
        return sorted(out, key=lambda s: (-s.created_ms, s.id))

    def silences(self, *, active_at_ms: int | None = None, limit: int = 200) -> list[Silence]:
        where = f' AND "end_ms" > {float(active_at_ms)!r}' if active_at_ms is not None else ""
        return self._silences(where)[:limit]

    def silence(self, silence_id: str) -> Silence | None:
        found = self._silences(f' AND "silence" = {quote_string(silence_id)}')
        return found[0] if found else None

    # ------------------------------------------------------------ notifications

    def commit_message(self, deliveries: Sequence[Delivery], notified: Sequence[AlarmRecord]) -> None:
        self._write([_delivery_line(d) for d in deliveries])  # first: they alone prove the notification
        self.save_alarms(notified)

    def save_delivery(self, delivery: Delivery) -> None:
        self._write([_delivery_line(delivery)])

    def deliveries(
        self, *, status: DeliveryStatus | None = None, since_ms: int | None = None, limit: int = 200
    ) -> list[Delivery]:
        where = f' AND "status" = {quote_string(status)}' if status is not None else ""
        if since_ms is not None:
            where += f" AND time >= {ns(since_ms)}"
        out = self._read_each(
            self._rows(DELIVERIES, where, 'GROUP BY "channel", "group"'),
            lambda tags, r: Delivery(
                message_id=str(r.get("message_id") or ""),
                channel=tags.get("channel", ""),
                group_key=tags.get("group", ""),
                created_ms=int(r["time"]),
                body=str(r.get("body") or ""),
                entries=[(str(a), t) for a, t in json.loads(r.get("entries") or "[]")],
                status=r.get("status") or "pending",
                attempts=int(r.get("attempts") or 0),
                next_attempt_ms=int(r.get("next_attempt_ms") or 0),
                last_error=str(r.get("last_error") or ""),
                done_ms=none_if_negative(r.get("done_ms")),
            ),
        )
        return sorted(out, key=lambda d: (-d.created_ms, d.message_id, d.channel))[:limit]

    # ------------------------------------------------------------ lease

    def claim(self, claim: LeaseClaim) -> None:
        fields: Fields = {
            "since_ms": float(claim.since_ms),
            "expires_ms": float(claim.expires_ms),
        }
        self._write([line(LEASE, {"holder": claim.holder}, fields, claim.renewed_ms)])

    def claims(self, *, now_ms: int) -> list[LeaseClaim]:
        rows = self._rows(LEASE, "", 'GROUP BY "holder" ORDER BY time DESC LIMIT 1', lookback_ms=LEASE_LOOKBACK_MS)
        out = self._read_each(
            rows,
            lambda tags, r: LeaseClaim(
                tags.get("holder", ""), int(r.get("since_ms") or 0), int(r["time"]), int(r.get("expires_ms") or 0)
            ),
        )
        return sorted((c for c in out if c.expires_ms > now_ms), key=lambda c: (c.since_ms, c.holder))
