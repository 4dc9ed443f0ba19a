"""One device as the device page shows it: where it sits, how it is read (its register map or its
MQTT topics), and its gateway's health report (operator key: addresses and registers are not for
a wall screen).

::

    GET /api/v1/devices/{device}/details
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.dashboard_api.deps import ConfigDep, OperatorKey, StoreDep
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, ERROR_SCHEMA, NotFoundError
from ville_autonome.dashboard_api.schemas import DeviceHealthOut
from ville_autonome.registers.profile import ProfileError, load_profile

router = APIRouter(tags=["devices"])


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterOut(_Out):
    """One value the gateway reads: a register of the profile, or a field of an MQTT topic."""

    name: str = Field(examples=["W"])
    quantity: str = Field(examples=["active_power_w"])
    unit: str | None = Field(examples=["W"])
    source: str = Field(description="holding 40083 ×1 int16, or the MQTT topic and path", examples=["holding 40083"])
    datatype: str | None = Field(examples=["int16"])
    scale: str | None = Field(description="fixed scale, or the SunSpec scale-factor point", examples=["10^W_SF"])
    writable: bool
    description: str


class DeviceDetailsOut(_Out):
    id: str
    name: str
    role: str
    source: str | None
    protocol: str
    address: str = Field(description="HOST:PORT (modbus-tcp), serial port (modbus-rtu) or MQTT topic prefix")
    unit_id: int | None
    profile: str | None
    profile_description: str
    poll_interval_s: float
    rated_power_w: float | None
    capacity_wh: float | None
    site: str
    site_name: str
    district: str
    district_name: str
    gateway: str
    registers: list[RegisterOut]
    health: DeviceHealthOut | None = Field(description="the gateway's last report (null: none yet)")


def _modbus_registers(config: PlatformConfig, dev: DeviceConfig) -> tuple[list[RegisterOut], str]:
    if not dev.profile:
        return [], ""
    try:
        profile = load_profile(dev.profile, config.profiles_dirs)
    except ProfileError:
        return [], "the register profile does not load"
    rows = []
    for p in profile.points:
        q = p.quantity_for(dev.role)
        if q is None and not p.writable:
            continue
        scale = f"10^{p.scale_factor}" if p.scale_factor else (None if p.scale == 1.0 else f"×{p.scale:g}")
        rows.append(
            RegisterOut(
                name=p.name,
                quantity=q or "",
                unit=p.unit,
                source=f"{p.table} {p.address} ({p.count} reg.)",
                datatype=p.datatype,
                scale=scale,
                writable=p.writable,
                description=p.description,
            )
        )
    return rows, profile.description


def _mqtt_registers(dev: DeviceConfig) -> list[RegisterOut]:
    return [
        RegisterOut(
            name=f.path or "(payload)",
            quantity=f.quantity,
            unit=None,
            source=f"{t.topic} {f.path}".strip(),
            datatype=None,
            scale=None if f.scale == 1.0 else f"×{f.scale:g}",
            writable=False,
            description="",
        )
        for t in dev.mqtt_topics()
        for f in t.fields
    ]


@router.get(
    "/devices/{device}/details",
    response_model=DeviceDetailsOut,
    summary="One device: its place, how the gateway reads it (registers or MQTT topics), its health (operator key)",
    responses={
        **ERROR_RESPONSES,
        404: {"description": "unknown device", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
    },
)
def details(
    key: OperatorKey,
    config: ConfigDep,
    store: StoreDep,
    device: Annotated[str, Path(max_length=64, examples=["iko-turbine"])],
) -> DeviceDetailsOut:
    found = config.device(device)
    if found is None:
        raise NotFoundError(f"unknown device {device[:80]!r}", "device")
    district, site, dev = found
    if dev.protocol == "mqtt":
        registers, described = _mqtt_registers(dev), dev.preset or ""
    else:
        registers, described = _modbus_registers(config, dev)
    h = next((x for x in store.health() if x.device == dev.id), None)
    return DeviceDetailsOut(
        id=dev.id,
        name=dev.name,
        role=dev.role,
        source=dev.source,
        protocol=dev.protocol,
        address=dev.address if dev.protocol != "mqtt" else (dev.topic or ""),
        unit_id=dev.unit_id if dev.protocol != "mqtt" else None,
        profile=dev.profile if dev.protocol != "mqtt" else dev.preset,
        profile_description=described,
        poll_interval_s=dev.poll_interval_s,
        rated_power_w=dev.rated_power_w,
        capacity_wh=dev.capacity_wh,
        site=site.id,
        site_name=site.name,
        district=district.id,
        district_name=district.name,
        gateway=site.gateway,
        registers=registers,
        health=DeviceHealthOut(
            device=h.device,
            gateway=h.gateway,
            online=h.online,
            last_seen_ms=h.last_seen_ms,
            updated_ms=h.updated_ms,
            last_quality=h.last_quality,
            errors=dict(h.errors),
        )
        if h is not None
        else None,
    )
