"""Alarms (docs/alerts.md): what fires, acknowledgements and silences.

::

    GET    /api/v1/alarms                firing, pending and recent alarms, events, silences (viewer)
    GET    /api/v1/alarms/{id}           one alarm episode and its events (viewer)
    POST   /api/v1/alarms/{id}/ack       acknowledge it: who and when (operator)
    POST   /api/v1/silences              mute a rule, a subject or both for a period, with a reason (operator)
    DELETE /api/v1/silences/{id}         end a silence now (operator)
    GET    /api/v1/notifications         the messages by channel: delivered, pending, dead letters (admin)

The evaluator (``ville-autonome alerts``) decides what fires; the API reads and records. The
silences active or to come are listed by ``GET /api/v1/alarms`` (``silences``); their history is
in its events.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.alarm_views import (
    AlarmOut,
    AlarmsOut,
    DeliveryOut,
    EventOut,
    SilenceOut,
    alarm_log,
    alarm_out,
    close_alarm_log,
    counts,
    delivery_out,
    event_out,
    silence_out,
)
from ville_autonome.dashboard_api.deps import AdminKey, ApiSettingsDep, ConfigDep, OperatorKey, Principal, ViewerKey
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, ERROR_SCHEMA, BadParameterError, NotFoundError
from ville_autonome.dashboard_api.params import DAY_MS, now_ms, parse_time, time_range
from ville_autonome.journals.alarm_records import AlarmEvent, AlarmLog, AlarmQuery, AlarmState, Silence

MAX_SILENCE_MS = 90 * DAY_MS
STATES: dict[str, tuple[AlarmState, ...]] = {
    "active": ("firing", "pending"),
    "firing": ("firing",),
    "pending": ("pending",),
    "resolved": ("resolved",),
    "all": (),
}
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"  # one line of text: no control characters


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await asyncio.to_thread(close_alarm_log, app)


router = APIRouter(tags=["alarms"], lifespan=lifespan)


def _not_found(what: str) -> dict[str, Any]:
    example = {"error": "not_found", "detail": f"unknown {what}", "parameter": f"{what}_id"}
    return {
        "description": f"An {what} that is not known.",
        "content": {"application/json": {"schema": ERROR_SCHEMA, "example": example}},
    }


ALARM_RESPONSES: dict[int | str, dict[str, Any]] = {**ERROR_RESPONSES, 404: _not_found("alarm")}
SILENCE_RESPONSES: dict[int | str, dict[str, Any]] = {**ERROR_RESPONSES, 404: _not_found("silence")}
AlarmId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$", examples=["3f2a9c0d1e4b5a6c7d8e"])]
SilenceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]


def _known_subjects(config: PlatformConfig) -> set[str]:
    out = {"city"} | {g.id for g in config.gateways} | {d.id for d in config.districts}
    out |= {s.id for _, s in config.sites()} | {dev.id for _, _, dev in config.devices()}
    return out


@router.get(
    "/alarms",
    response_model=AlarmsOut,
    summary="Firing, pending and recent alarms, their events and the silences (viewer key)",
    description=(
        "`state`: `active` (firing and pending, the default), `firing`, `pending`, `resolved` or `all`. "
        "Resolved alarms and events are those of `start`..`end` (default: the last 24 h). `counts` are over "
        "every active alarm, whatever the filters."
    ),
    responses=ERROR_RESPONSES,
)
def list_alarms(
    key: ViewerKey,
    request: Request,
    config: ConfigDep,
    settings: ApiSettingsDep,
    state: Annotated[Literal["active", "firing", "pending", "resolved", "all"], Query()] = "active",
    severity: Annotated[Literal["critical", "warning", "info"] | None, Query()] = None,
    scope: Annotated[Literal["device", "gateway", "site", "district", "city"] | None, Query()] = None,
    subject: Annotated[str | None, Query(max_length=64, examples=["iko-turbine"])] = None,
    rule: Annotated[str | None, Query(max_length=64, examples=["device-silent"])] = None,
    start: Annotated[str | None, Query(description="resolved alarms and events from (default: end − 24 h)")] = None,
    end: Annotated[str | None, Query(description="… until (default: now)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    events: Annotated[bool, Query(description="include the events of the range")] = True,
) -> AlarmsOut:
    if rule is not None and config.alerts.rule(rule) is None:
        raise BadParameterError(f"rule: unknown rule {rule[:64]!r}", "rule")
    rng = time_range(start, end, settings)
    states = STATES[state]
    log = alarm_log(request.app)
    t = now_ms()
    query = AlarmQuery(
        states=states,
        severity=severity,
        scope=scope,
        subject=subject,
        rule=rule,
        since_ms=None if state in ("active", "firing", "pending") else rng.start_ms,
        until_ms=rng.end_ms,
        limit=limit,
    )
    found = log.alarms(query)
    if state == "all":  # open ones whatever their age, and the others of the range
        found = [a for a in found if a.state != "resolved" or a.updated_ms >= rng.start_ms]
    silences = log.silences(active_at_ms=t)
    active = log.alarms(AlarmQuery(states=("firing", "pending"), limit=10_000))
    found_events = log.events(since_ms=rng.start_ms, until_ms=rng.end_ms, limit=limit) if events else []
    return AlarmsOut(
        now_ms=t,
        counts=counts(active),
        alarms=[alarm_out(a, silences, t) for a in found],
        events=[event_out(e) for e in found_events],
        silences=[silence_out(s, t) for s in silences],
    )


class SilenceIn(BaseModel):
    """What to mute: a rule (every subject), a subject (every rule: a device, gateway, site,
    district id, or ``city``; a site's or district's silence mutes the alarms of what it holds),
    or both; from ``start`` (default now) for ``duration_s`` or until ``end``."""

    model_config = ConfigDict(extra="forbid")
    rule: str | None = Field(default=None, max_length=64, examples=["device-silent"])
    subject: str | None = Field(default=None, max_length=64, examples=["qi-grid-meter"])
    start: str | None = Field(default=None, description="a time as in every other parameter (default: now)")
    end: str | None = Field(default=None, description="until this time …")
    duration_s: float | None = Field(default=None, gt=0, le=MAX_SILENCE_MS / 1000, description="… or this long")
    reason: str = Field(
        min_length=1, max_length=500, pattern=ONE_LINE, examples=["meter replaced, back on Monday"],
        description="one line of text (no control characters)",
    )  # fmt: skip


M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
T = TypeVar("T")


async def _body(request: Request, model: type[M], *, optional: bool = False) -> M | None:
    """The JSON body, read only once the key has been checked (a route's body parameter would be
    parsed before its dependencies: an anonymous request would learn of its body's faults)."""
    raw = await request.body()
    if optional and not raw.strip():
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


async def _act(
    request: Request, handler: Callable[..., T], *args: Any, body: type[BaseModel] | None = None, optional: bool = False
) -> T:
    """An operator's action: its body (if any) read after the key's check, then ``handler(*args,
    body)`` on a thread (the alarm log's calls block)."""
    parsed = await _body(request, body, optional=optional) if body is not None else None
    return await asyncio.to_thread(handler, *args, parsed)


def _known(record: R | None, what: str) -> R:
    """The record an action names, or 404 naming its path parameter (``alarm_id``, ``silence_id``)."""
    if record is None:
        raise NotFoundError(f"unknown {what}", f"{what}_id")
    return record


def _note_first(log: AlarmLog, first: bool, event: AlarmEvent) -> None:
    """The event of an action that changed something (the first acknowledgement, a silence ended
    early); repeating the action records nothing more."""
    if first:
        log.add_events([event])


def _documented(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


@router.post(
    "/silences",
    response_model=SilenceOut,
    status_code=201,
    summary="Mute a rule, a subject, or a rule on a subject, for a period, with a reason (operator key)",
    responses=ERROR_RESPONSES,
    openapi_extra=_documented(SilenceIn),
)
async def create_silence(key: OperatorKey, request: Request, config: ConfigDep) -> SilenceOut:
    return await _act(request, _create_silence, key, request, config, body=SilenceIn)


def _create_silence(key: Principal, request: Request, config: PlatformConfig, body: SilenceIn | None) -> SilenceOut:
    assert body is not None  # required: _body raises on an empty one
    if body.rule is None and body.subject is None:
        raise BadParameterError("a silence names a rule, a subject, or both", "rule")
    if body.rule is not None and config.alerts.rule(body.rule) is None:
        raise BadParameterError(f"rule: unknown rule {body.rule[:64]!r}", "rule")
    if body.subject is not None and body.subject not in _known_subjects(config):
        raise BadParameterError(f"subject: {body.subject[:64]!r} is no device, gateway, site or district", "subject")
    t = now_ms()
    start = parse_time(body.start, "start") if body.start is not None else t
    if (body.end is None) == (body.duration_s is None):
        raise BadParameterError("give end or duration_s (one of them)", "end")
    end = parse_time(body.end, "end") if body.end is not None else start + int((body.duration_s or 0) * 1000)
    if end <= max(start, t):
        raise BadParameterError("end must be after start and in the future", "end")
    if end - start > MAX_SILENCE_MS:
        raise BadParameterError(f"a silence lasts at most {MAX_SILENCE_MS // DAY_MS} days", "end")
    silence = Silence(uuid.uuid4().hex, body.rule, body.subject, start, end, body.reason, key.name, t)
    log = alarm_log(request.app)
    log.save_silence(silence)
    what = " on ".join(x for x in (body.rule, body.subject) if x)
    log.add_events([AlarmEvent(t, "silence_created", f"silence:{silence.id}", "", key.name, f"{what}: {body.reason}")])
    return silence_out(silence, t)


@router.delete(
    "/silences/{silence_id}",
    response_model=SilenceOut,
    summary="End a silence now (operator key)",
    responses=SILENCE_RESPONSES,
)
async def end_silence(key: OperatorKey, request: Request, silence_id: SilenceId) -> SilenceOut:
    return await _act(request, _end_silence, key, request, silence_id)


def _end_silence(key: Principal, request: Request, silence_id: str, _no_body: None) -> SilenceOut:
    log, t = alarm_log(request.app), now_ms()
    found = _known(log.silence(silence_id), "silence")
    ending = found.end_ms > t
    if ending:
        found = dataclasses.replace(found, start_ms=min(found.start_ms, t), end_ms=t)
        log.save_silence(found)
    _note_first(log, ending, AlarmEvent(t, "silence_expired", f"silence:{found.id}", "", key.name, "ended by hand"))
    return silence_out(found, t)


@router.get(
    "/notifications",
    response_model=list[DeliveryOut],
    summary="Notifications per channel, newest first: delivered, pending, dead letters (admin key)",
    responses=ERROR_RESPONSES,
)
def list_deliveries(
    key: AdminKey,
    request: Request,
    status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    return [delivery_out(d) for d in alarm_log(request.app).deliveries(status=status, limit=limit)]


class AlarmDetailOut(AlarmOut):
    events: list[EventOut] = Field(description="the events of this alarm, newest first")


@router.get(
    "/alarms/{alarm_id}",
    response_model=AlarmDetailOut,
    summary="One alarm episode and its events (viewer key)",
    responses=ALARM_RESPONSES,
)
def get_alarm(key: ViewerKey, request: Request, alarm_id: AlarmId) -> AlarmDetailOut:
    log = alarm_log(request.app)
    found = _known(log.alarm(alarm_id), "alarm")
    t = now_ms()
    out = alarm_out(found, log.silences(active_at_ms=t), t)
    until = (found.resolved_ms or t) + 1
    history = [
        e for e in log.events(since_ms=found.pending_ms, until_ms=until, key=found.key) if e.alarm_id == found.id
    ]
    return AlarmDetailOut(**out.model_dump(), events=[event_out(e) for e in history])


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(default="", max_length=500, pattern=ONE_LINE, examples=["on my way"])


@router.post(
    "/alarms/{alarm_id}/ack",
    response_model=AlarmOut,
    summary="Acknowledge an alarm: who (the key's name) and when; the first acknowledgement stays (operator key)",
    responses=ALARM_RESPONSES,
    openapi_extra=_documented(AckIn, required=False),
)
async def acknowledge(key: OperatorKey, request: Request, alarm_id: AlarmId) -> AlarmOut:
    return await _act(request, _acknowledge, key, request, alarm_id, body=AckIn, optional=True)


def _acknowledge(key: Principal, request: Request, alarm_id: str, body: AckIn | None) -> AlarmOut:
    log, t = alarm_log(request.app), now_ms()
    before = _known(log.alarm(alarm_id), "alarm")
    comment = body.comment if body is not None else ""
    after = log.acknowledge(alarm_id, key.name, t, comment) or before
    _note_first(log, before.acked_ms is None, AlarmEvent(t, "acked", after.key, after.id, key.name, comment))
    return alarm_out(after, log.silences(active_at_ms=t), t)
