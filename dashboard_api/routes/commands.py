"""Commands to devices (operator key) and their audit log (admin key); docs/commands.md.

::

    GET  /api/v1/devices/{device}/commands/points      the device's writable points: unit, range, values
    POST /api/v1/devices/{device}/commands             send a command (writes in order, an expiry)
    GET  /api/v1/devices/{device}/commands/{id}        one command and its result
    GET  /api/v1/commands?device=&limit=               the audit log, newest first (admin)

A command is checked against the device's profile here (``registers.commands``) and again by the
gateway before it writes. ``wait_s`` lets the caller wait for the result; the answer is 200 with
a final status, or 202 with ``sent`` when none came in time (follow it with the GET).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ville_autonome.configuration.mqtt_presets import RELAY_POINT, RELAY_VALUES, check_relay_writes
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.dashboard_api.command_bus import BusUnavailableError, CommandBus
from ville_autonome.dashboard_api.deps import AdminKey, ConfigDep, OperatorKey
from ville_autonome.dashboard_api.errors import (
    ERROR_RESPONSES,
    ERROR_SCHEMA,
    ApiError,
    BadParameterError,
    NotFoundError,
)
from ville_autonome.journals.command_log import CommandRecord, command_log_for, expire_unanswered
from ville_autonome.readings.commands import FINAL, MAX_WRITES, Command, CommandStatus, PointWrite
from ville_autonome.registers.commands import WriteRefusedError, check_writes, writable_points
from ville_autonome.registers.points import Profile
from ville_autonome.registers.profile import ProfileError, load_profile

NO_RESULT_GRACE_MS = 5_000  # after its expiry, a command without a result is "no_result"


def _error(description: str, example: dict[str, str]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA, "example": example}}}


RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: _error("A device (or a command of it) that is not known.", {"error": "not_found", "detail": "unknown device"}),
    503: _error(
        "The broker did not take the command: it was not sent.",
        {"error": "broker_unavailable", "detail": "command not sent: MQTT broker is not reachable"},
    ),
}


class CommandRefusedError(ApiError):
    status_code = 400
    error = "command_refused"


class BrokerUnavailableError(ApiError):
    status_code = 503
    error = "broker_unavailable"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    config: PlatformConfig = app.state.config
    # the audit log lives beside the store this app reads (opened at the first command route)
    app.state.command_bus = CommandBus(
        config.services.mqtt,
        lambda: command_log_for(app.state.store, config.services.store),
        config.services.api.command_client_id,
    )
    # results the broker kept in the command client's session while this API was down; in a thread
    # of its own: a slow store delays them, never the API's start-up
    resumer = threading.Thread(target=app.state.command_bus.resume, name="command-bus-resume", daemon=True)
    resumer.start()
    try:
        yield
    finally:
        await asyncio.to_thread(resumer.join)
        await asyncio.to_thread(app.state.command_bus.stop)


router = APIRouter(tags=["commands"], lifespan=lifespan)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WritablePointOut(_Out):
    name: str
    description: str
    unit: str | None
    minimum: float | None
    maximum: float | None
    values: dict[str, str] = Field(description="allowed values and their meaning (empty: any in range)")


class WritablePointsOut(_Out):
    device: str
    profile: str
    points: list[WritablePointOut]


class PointWriteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    point: str = Field(min_length=1, max_length=64, examples=["InWRte"])
    value: float = Field(allow_inf_nan=False, examples=[40.0])


class CommandIn(BaseModel):
    """Writes applied in order (write the rates before the mode); never applied after the expiry."""

    model_config = ConfigDict(extra="forbid")
    writes: list[PointWriteIn] = Field(min_length=1, max_length=MAX_WRITES)
    expires_in_s: float = Field(default=60.0, gt=0, le=3600, description="seconds from now")


class CommandOut(_Out):
    id: str
    device: str
    gateway: str
    issued_by: str
    issued_ms: int
    expires_ms: int
    writes: list[dict[str, Any]]
    status: str = Field(description="sent, applied, refused, timed_out, expired or no_result")
    detail: str
    exception_code: int | None
    readback: dict[str, float]
    done_ms: int | None


class CommandsOut(_Out):
    commands: list[CommandOut]


def _out(rec: CommandRecord) -> CommandOut:
    return CommandOut(
        id=rec.id,
        device=rec.device,
        gateway=rec.gateway,
        issued_by=rec.issued_by,
        issued_ms=rec.issued_ms,
        expires_ms=rec.expires_ms,
        writes=rec.writes,
        status=str(rec.status),
        detail=rec.detail,
        exception_code=rec.exception_code,
        readback=rec.readback,
        done_ms=rec.done_ms,
    )


def _bus(request: Request) -> CommandBus:
    bus: CommandBus = request.app.state.command_bus
    return bus


def _device(config: PlatformConfig, device: str) -> tuple[str, DeviceConfig, Profile | None]:
    """The device's gateway, configuration and profile (``None`` for an MQTT device with an output)."""
    found = config.device(device)
    if found is None:
        raise NotFoundError(f"unknown device {device[:80]!r}", "device")
    _, site, dev = found
    if dev.protocol == "mqtt":
        if dev.mqtt_relay() is None:
            raise CommandRefusedError(f"{device} is an MQTT device without a writable output", "device")
        return site.gateway, dev, None
    if not dev.profile:
        raise CommandRefusedError(f"{device} has no register profile: nothing to write", "device")
    try:
        profile = load_profile(dev.profile, config.profiles_dirs)
    except ProfileError:
        raise CommandRefusedError(f"{device}: its register profile does not load", "device") from None
    return site.gateway, dev, profile


DeviceId = Annotated[str, Path(max_length=64, examples=["hub-energie-battery"])]


@router.get(
    "/devices/{device}/commands/points",
    response_model=WritablePointsOut,
    summary="What a command may write to this device (operator key)",
    responses=RESPONSES,
)
def points(key: OperatorKey, config: ConfigDep, device: DeviceId) -> WritablePointsOut:
    _, dev, profile = _device(config, device)
    if profile is None:  # an MQTT device's output (configuration.mqtt_presets)
        relay = WritablePointOut(
            name=RELAY_POINT,
            description="the device's output (relay)",
            unit=None,
            minimum=None,
            maximum=None,
            values={str(k): v for k, v in RELAY_VALUES.items()},
        )
        return WritablePointsOut(device=dev.id, profile=f"preset:{dev.preset}", points=[relay])
    return WritablePointsOut(
        device=dev.id,
        profile=profile.name,
        points=[
            WritablePointOut(
                name=p.name,
                description=p.description,
                unit=p.unit,
                minimum=p.minimum,
                maximum=p.maximum,
                values={str(k): v for k, v in sorted(p.values.items())},
            )
            for p in writable_points(profile)
        ],
    )


@router.post(
    "/devices/{device}/commands",
    response_model=CommandOut,
    status_code=202,
    summary="Send a command to a device through its gateway (operator key)",
    responses={200: {"description": "the result arrived within wait_s", "model": CommandOut}, **RESPONSES},
)
async def send(
    key: OperatorKey,
    config: ConfigDep,
    request: Request,
    response: Response,
    device: DeviceId,
    body: CommandIn,
    wait_s: Annotated[float, Query(ge=0, le=30, description="wait this long for the result")] = 0.0,
) -> CommandOut:
    gateway, dev, profile = _device(config, device)
    writes = [(w.point, w.value) for w in body.writes]
    try:
        if profile is None:
            check_relay_writes(dev.mqtt_relay(), dev.id, writes)
        else:
            check_writes(profile, writes)
    except (WriteRefusedError, ValueError) as exc:
        raise CommandRefusedError(str(exc), "writes") from None
    now = time.time_ns() // 1_000_000
    cmd = Command(
        id=uuid.uuid4().hex,
        gateway=gateway,
        device=dev.id,
        writes=tuple(PointWrite(w.point, w.value) for w in body.writes),
        issued_ms=now,
        expires_ms=now + int(body.expires_in_s * 1000),
        issued_by=key.name,
    )
    record = CommandRecord(
        id=cmd.id,
        device=cmd.device,
        gateway=gateway,
        issued_by=key.name,
        issued_ms=cmd.issued_ms,
        expires_ms=cmd.expires_ms,
        writes=[{"point": w.point, "value": w.value} for w in cmd.writes],
        status=CommandStatus.SENT,
    )
    bus = _bus(request)
    try:
        await asyncio.to_thread(bus.start)
        await asyncio.to_thread(bus.log.record, record)  # in the log before it can be answered
        await asyncio.to_thread(bus.publish, cmd)
    except BusUnavailableError as exc:
        raise BrokerUnavailableError(f"command not sent: {exc}") from None
    final = await asyncio.to_thread(bus.wait_final, cmd.id, wait_s) if wait_s else None
    if final is not None and final.status in FINAL:
        response.status_code = 200
        return _out(final)
    return _out(record)


@router.get(
    "/devices/{device}/commands/{command_id}",
    response_model=CommandOut,
    summary="One command and its result (operator key)",
    responses=RESPONSES,
)
async def one(
    key: OperatorKey,
    config: ConfigDep,
    request: Request,
    device: DeviceId,
    command_id: Annotated[str, Path(max_length=64)],
) -> CommandOut:
    if config.device(device) is None:
        raise NotFoundError(f"unknown device {device[:80]!r}", "device")
    log = _bus(request).log
    await asyncio.to_thread(expire_unanswered, log, time.time_ns() // 1_000_000, NO_RESULT_GRACE_MS, device=device)
    rec = await asyncio.to_thread(log.get, command_id)
    if rec is None or rec.device != device:
        raise NotFoundError(f"no command {command_id[:80]!r} for {device}", "command_id")
    return _out(rec)


@router.get(
    "/commands",
    response_model=CommandsOut,
    summary="The audit log of commands: who, what, when, result; newest first (admin key)",
    responses=RESPONSES,
)
async def audit_log(
    key: AdminKey,
    config: ConfigDep,
    request: Request,
    device: Annotated[str | None, Query(max_length=64, description="one device")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CommandsOut:
    if device is not None and config.device(device) is None:
        raise BadParameterError(f"device: unknown device {device[:80]!r}", "device")
    log = _bus(request).log
    await asyncio.to_thread(expire_unanswered, log, time.time_ns() // 1_000_000, NO_RESULT_GRACE_MS, device=device)
    records = await asyncio.to_thread(log.list, device=device, limit=limit)
    return CommandsOut(commands=[_out(r) for r in records])
