"""Health (no key), the caller's key, topology with device health, and the devices' health details."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ville_autonome.dashboard_api.deps import ConfigDep, OperatorKey, StoreDep, ViewerKey
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, store_error_answer
from ville_autonome.dashboard_api.params import now_ms
from ville_autonome.dashboard_api.schemas import (
    DeviceHealthOut,
    DeviceOut,
    DistrictOut,
    HealthDegradedOut,
    HealthOut,
    SiteOut,
    TopologyOut,
    WhoAmIOut,
)
from ville_autonome.storage.base import StoreError, StoreTransientError

log = logging.getLogger(__name__)
router = APIRouter(tags=["status"])


# the store's state in the health answer, by the error the other routes answer
HEALTH_STORE = {
    "store_unavailable": "unreachable",
    "store_refused_credentials": "refused_credentials",
    "store_rejected_query": "rejected_query",
}


@router.get(
    "/health",
    response_model=HealthOut,
    summary="Is the API up and can it read its store? (no key needed)",
    responses={
        503: {"description": "the store does not answer (with Retry-After), or refuses the API's credentials",
              "model": HealthDegradedOut},
        500: {"description": "the store refuses the API's query", "model": HealthDegradedOut},
    },
)  # fmt: skip
def health(store: StoreDep) -> HealthOut | JSONResponse:
    """The store's version, once it has answered a read with the API's credentials too (InfluxDB
    1.x answers ``/ping`` without asking for any); else ``degraded`` with the status, the error and
    the ``Retry-After`` of every other route (errors.store_error_answer)."""
    try:
        version = store.ping()
        store.latest(since_ms=now_ms())  # nothing to read: the query alone is the check
    except StoreError as exc:  # the detail (an internal address) goes to the log, not to the public
        status, body, headers = store_error_answer(exc)
        level = logging.WARNING if isinstance(exc, StoreTransientError) else logging.ERROR
        log.log(level, "health: store error (%s): %s", body["error"], exc)
        out = HealthDegradedOut(status="degraded", store=HEALTH_STORE[body["error"]], **body)
        return JSONResponse(out.model_dump(), status_code=status, headers=headers)
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
                        writable=dev.mqtt_relay() is not None if dev.protocol == "mqtt" else bool(dev.profile),
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
