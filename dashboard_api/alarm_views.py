"""The alarms as the API shows them (docs/alerts.md, docs/api.md): the response models, the
``alarms`` event of the live stream, and the alarm gauges of ``/metrics``.

The API only reads what the evaluator (``ville-autonome alerts``) stored, and records what
operators do (acknowledgements, silences); it evaluates nothing, so that any number of API
processes never notify twice. The alarm log is opened beside the app's store at first use.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from ville_autonome.autonomy_queries.cache import TtlCache
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.journals.alarm_log import alarm_log_for
from ville_autonome.journals.alarm_records import AlarmEvent, AlarmLog, AlarmQuery, AlarmRecord, Delivery, Silence
from ville_autonome.storage.base import Store

SEVERITIES = ("critical", "warning", "info")
EVENT_TTL_S = 2.0
NEWEST_LOOKBACK_MS = 86_400_000  # the newest reading is looked for in the last day  # the stream's alarm summary is computed once for every open stream, this often
_open_lock = threading.Lock()


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlarmOut(_Out):
    id: str = Field(description="the episode: one alarm from pending to resolved")
    key: str = Field(description="<rule>:<subject>, the same for every episode of an alarm")
    rule: str
    subject: str = Field(description="a device, gateway, site or district id, or city")
    scope: str = Field(description="device, gateway, site, district or city")
    severity: str = Field(description="critical, warning or info")
    state: str = Field(description="pending, firing or resolved")
    labels: dict[str, str] = Field(description="device, site, district, gateway (where they apply), rule's labels")
    summary: str
    value: float | None
    active_since_ms: int
    pending_ms: int
    fired_ms: int | None
    resolved_ms: int | None
    updated_ms: int
    notified: bool = Field(description="its firing was notified (a silenced alarm is not)")
    acked_by: str | None
    acked_ms: int | None
    ack_comment: str
    silenced_by: str | None = Field(description="the id of an active silence muting it")


class EventOut(_Out):
    ts_ms: int
    kind: str = Field(description="pending, firing, resolved, cleared, notified, acked, silence_created, …")
    key: str
    alarm_id: str
    by: str
    detail: str


class SilenceOut(_Out):
    id: str
    rule: str | None
    subject: str | None
    start_ms: int
    end_ms: int
    reason: str
    created_by: str
    created_ms: int
    active: bool


class DeliveryOut(_Out):
    message_id: str
    channel: str
    group: str
    created_ms: int
    status: str = Field(description="pending, delivered or dead")
    attempts: int
    next_attempt_ms: int
    last_error: str
    done_ms: int | None
    alarms: list[str]
    body: str


class CountsOut(_Out):
    firing: dict[str, int] = Field(description="firing alarms by severity")
    pending: dict[str, int]
    unacknowledged: int = Field(description="firing alarms nobody acknowledged yet")


class AlarmsOut(_Out):
    now_ms: int
    counts: CountsOut
    alarms: list[AlarmOut]
    events: list[EventOut]
    silences: list[SilenceOut] = Field(description="silences active now or to come")


def alarm_log(app: FastAPI) -> AlarmLog:
    """The alarm log beside the app's store, opened at first use (closed by ``close_alarm_log``)."""
    with _open_lock:
        found: AlarmLog | None = getattr(app.state, "alarm_log", None)
        if found is None:
            config: PlatformConfig = app.state.config
            found = alarm_log_for(app.state.store, config.services.store)
            app.state.alarm_log = found
        return found


def close_alarm_log(app: FastAPI) -> None:
    with _open_lock:
        found: AlarmLog | None = getattr(app.state, "alarm_log", None)
        app.state.alarm_log = None
    if found is not None:
        found.close()


def muting(a: AlarmRecord, silences: list[Silence], now_ms: int) -> str | None:
    places = {a.subject} | {a.labels[k] for k in ("device", "site", "district", "gateway") if k in a.labels}
    for s in silences:
        if s.active(now_ms) and (s.rule is None or s.rule == a.rule) and (s.subject is None or s.subject in places):
            return s.id
    return None


def alarm_out(a: AlarmRecord, silences: list[Silence], now_ms: int) -> AlarmOut:
    return AlarmOut(
        id=a.id, key=a.key, rule=a.rule, subject=a.subject, scope=a.scope, severity=a.severity, state=a.state,
        labels=a.labels, summary=a.summary, value=a.value, active_since_ms=a.active_since_ms, pending_ms=a.pending_ms,
        fired_ms=a.fired_ms, resolved_ms=a.resolved_ms, updated_ms=a.updated_ms,
        notified=a.notified_firing_ms is not None, acked_by=a.acked_by, acked_ms=a.acked_ms,
        ack_comment=a.ack_comment, silenced_by=muting(a, silences, now_ms) if a.state != "resolved" else None,
    )  # fmt: skip


def event_out(e: AlarmEvent) -> EventOut:
    return EventOut(ts_ms=e.ts_ms, kind=e.kind, key=e.key, alarm_id=e.alarm_id, by=e.by, detail=e.detail)


def silence_out(s: Silence, now_ms: int) -> SilenceOut:
    return SilenceOut(
        id=s.id, rule=s.rule, subject=s.subject, start_ms=s.start_ms, end_ms=s.end_ms, reason=s.reason,
        created_by=s.created_by, created_ms=s.created_ms, active=s.active(now_ms),
    )  # fmt: skip


def delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(
        message_id=d.message_id, channel=d.channel, group=d.group_key, created_ms=d.created_ms, status=d.status,
        attempts=d.attempts, next_attempt_ms=d.next_attempt_ms, last_error=d.last_error, done_ms=d.done_ms,
        alarms=[f"{alarm_id}:{t}" for alarm_id, t in d.entries], body=d.body,
    )  # fmt: skip


def counts(active: list[AlarmRecord]) -> CountsOut:
    firing = {s: 0 for s in SEVERITIES}
    pending = {s: 0 for s in SEVERITIES}
    for a in active:
        target = firing if a.state == "firing" else pending
        target[a.severity] = target.get(a.severity, 0) + 1
    unacked = sum(1 for a in active if a.state == "firing" and a.acked_ms is None)
    return CountsOut(firing=firing, pending=pending, unacknowledged=unacked)


def active_alarms(log: AlarmLog) -> list[AlarmRecord]:
    return log.alarms(AlarmQuery(states=("firing", "pending"), limit=10_000))


def _summary(app: FastAPI, now_ms: int) -> dict[str, Any]:
    log = alarm_log(app)
    active = active_alarms(log)
    silences = log.silences(active_at_ms=now_ms)
    ordered = sorted(active, key=lambda a: (a.state != "firing", SEVERITIES.index(a.severity), -(a.fired_ms or 0)))
    return {
        "now_ms": now_ms,
        "counts": counts(active).model_dump(),
        "alarms": [alarm_out(a, silences, now_ms).model_dump() for a in ordered[:50]],
        "truncated": len(ordered) > 50,
    }


def alarms_event(app: FastAPI, now_ms: int) -> dict[str, Any]:
    """The data of the stream's ``alarms`` event (docs/api.md): computed once for every open
    stream every ``EVENT_TTL_S``; a stream sends it when it differs from the last it sent."""
    cache: TtlCache[dict[str, Any]] | None = getattr(app.state, "alarms_event_cache", None)
    if cache is None:
        cache = TtlCache(ttl_s=EVENT_TTL_S, max_entries=1)
        app.state.alarms_event_cache = cache
    return cache.get_or_compute("alarms", lambda: _summary(app, now_ms))


def alarms_update(app: FastAPI, sent: list[str]) -> dict[str, Any] | None:
    """The ``alarms`` event a stream sends now, or ``None`` when it already sent the same alarms.
    ``sent`` is the stream's own memory (the digest of what it sent last)."""
    data = alarms_event(app, now_ms=int(time.time() * 1000))
    digest = hashlib.sha256(json.dumps([data["counts"], data["alarms"]], sort_keys=True).encode()).hexdigest()
    if sent and sent[0] == digest:
        return None
    sent[:] = [digest]
    return data


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def alarm_metrics_text(app: FastAPI, store: Store, now_ms: int) -> str:
    """The alarm gauges of ``/metrics`` (and what the exported Prometheus rules read): one series
    per firing alarm (bounded: rules × configured subjects), each device's and gateway's last
    report, the newest stored reading."""
    log = alarm_log(app)
    lines = [
        "# HELP va_alarm_firing 1 for each firing alarm of the platform's evaluator (docs/alerts.md).",
        "# TYPE va_alarm_firing gauge",
    ]
    for a in sorted(active_alarms(log), key=lambda a: a.key):
        if a.state == "firing":
            lines.append(
                f'va_alarm_firing{{rule="{_label(a.rule)}",subject="{_label(a.subject)}",scope="{a.scope}",'
                f'severity="{a.severity}"}} 1'
            )
    health = sorted(store.health(), key=lambda h: h.device)
    lines += [
        "# HELP va_device_last_seen_timestamp_seconds When the device last answered its gateway.",
        "# TYPE va_device_last_seen_timestamp_seconds gauge",
    ]
    for h in health:
        if h.last_seen_ms is not None:
            lines.append(
                f'va_device_last_seen_timestamp_seconds{{device="{_label(h.device)}",gateway="{_label(h.gateway)}"}} '
                f"{h.last_seen_ms / 1000}"
            )
    reports: dict[str, int] = {}
    for h in health:
        reports[h.gateway] = max(reports.get(h.gateway, 0), h.updated_ms)
    lines += [
        "# HELP va_gateway_last_report_timestamp_seconds When the gateway last reported its devices' health.",
        "# TYPE va_gateway_last_report_timestamp_seconds gauge",
    ]
    lines += [
        f'va_gateway_last_report_timestamp_seconds{{gateway="{_label(gw)}"}} {t / 1000}'
        for gw, t in sorted(reports.items())
    ]
    newest = max((v.ts_ms for v in store.latest(since_ms=now_ms - NEWEST_LOOKBACK_MS)), default=None)
    if newest is not None:
        lines += [
            "# HELP va_newest_reading_timestamp_seconds The newest reading in the store (ingest lag).",
            "# TYPE va_newest_reading_timestamp_seconds gauge",
            f"va_newest_reading_timestamp_seconds {newest / 1000}",
        ]
    return "\n".join(lines) + "\n"
