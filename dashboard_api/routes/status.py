"""Health (no key), the caller's key, topology with device health, and the devices' health details."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ville_autonome.dashboard_api.deps import ConfigDep, OperatorKey, StoreDep, ViewerKey
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES
from ville_autonome.dashboard_api.schemas import (
    DeviceHealthOut,
    DeviceOut,
    DistrictOut,
    HealthOut,
    SiteOut,
    TopologyOut,
    WhoAmIOut,
)
from ville_autonome.storage.base import StoreError

log = logging.getLogger(__name__)
router = APIRouter(tags=["status"])


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Is the API up and its store reachable? (no key needed)",
    responses={503: {"description": "the store does not answer", "model": HealthOut}},
)
def health(store: StoreDep) -> HealthOut | JSONResponse:
    try:
        version = store.ping()
    except StoreError as exc:  # the detail (an internal address) goes to the log, not to the public
        log.warning("health: store does not answer: %s", exc)
        return JSONResponse({"status": "degraded", "store": "unreachable"}, status_code=503)
    return HealthOut(status="ok", store=version)


@router.get(
    "/whoami",
    response_model=WhoAmIOut,
    summary="The name and role of the presented key (what the dashboard may offer: ack buttons, commands)",
    responses=ERROR_RESPONSES,
)
def whoami(key: ViewerKey) -> WhoAmIOut:
    return WhoAmIOut(name=key.name, role=key.role)


@router.get(
    "/topology",
    response_model=TopologyOut,
    summary="Districts, sites and devices with roles and health (online, offline, last seen)",
    responses=ERROR_RESPONSES,
)
def topology(key: ViewerKey, config: ConfigDep, store: StoreDep) -> TopologyOut:
    health = {h.device: h for h in store.health()}
    districts = []
    for d in config.districts:
        sites = []
        for s in d.sites:
            devices = []
            for dev in s.devices:
                h = health.get(dev.id)
                devices.append(
                    DeviceOut(
                        id=dev.id,
                        name=dev.name,
                        role=dev.role,
                        source=dev.source,
                        protocol=dev.protocol,
                        capacity_wh=dev.capacity_wh,
                        rated_power_w=dev.rated_power_w,
                        status="unknown" if h is None else ("online" if h.online else "offline"),
                        last_seen_ms=h.last_seen_ms if h else None,
                    )
                )
            sites.append(SiteOut(id=s.id, name=s.name, gateway=s.gateway, devices=devices))
        districts.append(DistrictOut(id=d.id, name=d.name, sites=sites))
    return TopologyOut(city=config.city.id, name=config.city.name, timezone=config.city.timezone, districts=districts)


@router.get(
    "/devices/health",
    response_model=list[DeviceHealthOut],
    summary="Health details of every device as its gateway reports them (errors by kind)",
    responses=ERROR_RESPONSES,
)
def devices_health(key: OperatorKey, store: StoreDep) -> list[DeviceHealthOut]:
    return [
        DeviceHealthOut(
            device=h.device,
            gateway=h.gateway,
            online=h.online,
            last_seen_ms=h.last_seen_ms,
            updated_ms=h.updated_ms,
            last_quality=h.last_quality,
            errors=dict(h.errors),
        )
        for h in sorted(store.health(), key=lambda h: h.device)
    ]
