"""Series of one quantity (raw or rolled up) and a site's energy per interval from its counters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ville_autonome.autonomy import Status
from ville_autonome.autonomy_queries import device_energy
from ville_autonome.configuration.topology import DeviceConfig, DistrictConfig, PlatformConfig, SiteConfig
from ville_autonome.dashboard_api.deps import ApiSettingsDep, ConfigDep, OperatorKey, StoreDep
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, ERROR_SCHEMA, BadParameterError, NotFoundError
from ville_autonome.dashboard_api.params import check_points, interval_s, resolution_s, time_range
from ville_autonome.dashboard_api.schemas import DeviceEnergyOut, DeviceSeriesOut, PointOut, SeriesOut, SiteEnergyOut
from ville_autonome.readings.quantities import QUANTITIES, Kind

router = APIRouter(tags=["series"])
STATUS_NAMES = {int(s): s.name.lower() for s in Status}
START_DOC = "ISO 8601 with offset or Z, a date (Europe/Paris midnight) or epoch ms; default: end − 1 day"
END_DOC = "ISO 8601 with offset or Z, a date or epoch ms; default: now"


def _devices(
    config: PlatformConfig, device: str | None, site: str | None, district: str | None
) -> list[tuple[DistrictConfig, SiteConfig, DeviceConfig]]:
    given = [(n, v) for n, v in (("device", device), ("site", site), ("district", district)) if v is not None]
    if len(given) != 1:
        raise BadParameterError("give exactly one of device, site or district", "device")
    name, value = given[0]
    found = [t for t in config.devices() if {"device": t[2].id, "site": t[1].id, "district": t[0].id}[name] == value]
    if not found:
        raise BadParameterError(f"{name}: unknown {name} {value[:80]!r}", name)
    return found


@router.get(
    "/series",
    response_model=SeriesOut,
    summary="One quantity of a device, or of every device of a site or district, over a range",
    responses=ERROR_RESPONSES,
)
def series(
    key: OperatorKey,
    config: ConfigDep,
    store: StoreDep,
    settings: ApiSettingsDep,
    quantity: Annotated[str, Query(description="a standard quantity name", examples=["active_power_w"])],
    device: Annotated[str | None, Query(examples=["iko-turbine"])] = None,
    site: Annotated[str | None, Query(examples=["iko-hydro"])] = None,
    district: Annotated[str | None, Query(examples=["saint-leu"])] = None,
    start: Annotated[str | None, Query(description=START_DOC, examples=["2026-01-01T00:00:00+01:00"])] = None,
    end: Annotated[str | None, Query(description=END_DOC, examples=["2026-01-02T00:00:00+01:00"])] = None,
    resolution: Annotated[str, Query(description="raw | 15m | 30m | 1h | 1d")] = "raw",
    limit: Annotated[
        int | None, Query(ge=1, description="points per device (raw); default and maximum: services.api.max_points")
    ] = None,
) -> SeriesOut:
    if quantity not in QUANTITIES:
        raise BadParameterError(f"quantity: unknown quantity {quantity[:80]!r}", "quantity")
    devices = _devices(config, device, site, district)
    rng = time_range(start, end, settings)
    step = resolution_s(resolution)
    if limit is not None and limit > settings.max_points:
        raise BadParameterError(f"limit: at most {settings.max_points}", "limit")
    cap = limit or settings.max_points
    if step:
        check_points(rng, step, settings, "resolution")
    counter = QUANTITIES[quantity].kind is Kind.COUNTER
    out = []
    for d, s, dev in devices:
        if step == 0:
            raw = store.series(dev.id, quantity, rng.start_ms, rng.end_ms, limit=cap + 1)
            points = [PointOut(ts=p.ts_ms, value=p.value, quality=str(p.quality)) for p in raw[:cap]]
            truncated = len(raw) > cap
        else:
            stats = store.intervals(dev.id, quantity, rng.start_ms, rng.end_ms, step)
            points = [
                PointOut(
                    ts=st.start_ms,
                    value=st.last if counter else st.mean,
                    minimum=st.minimum,
                    maximum=st.maximum,
                    count=st.count,
                )
                for st in stats
            ]
            truncated = False
        out.append(
            DeviceSeriesOut(device=dev.id, site=s.id, district=d.id, role=dev.role, points=points, truncated=truncated)
        )
    return SeriesOut(
        quantity=quantity,
        unit=QUANTITIES[quantity].unit,
        resolution=resolution,
        start_ms=rng.start_ms,
        end_ms=rng.end_ms,
        points=out[0].points if device is not None else None,
        series=out,
    )


@router.get(
    "/sites/{site}/energy",
    response_model=SiteEnergyOut,
    summary="Energy per interval of every device of a site, from its stored counters",
    responses={
        **ERROR_RESPONSES,
        404: {"description": "unknown site", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
    },
)
def site_energy(
    key: OperatorKey,
    config: ConfigDep,
    store: StoreDep,
    settings: ApiSettingsDep,
    site: Annotated[str, Path(description="site id", examples=["chu-amiens"])],
    start: Annotated[str | None, Query(description=START_DOC)] = None,
    end: Annotated[str | None, Query(description=END_DOC)] = None,
    interval: Annotated[str, Query(description="15m | 30m")] = "15m",
) -> SiteEnergyOut:
    pair = next(((d, s) for d, s in config.sites() if s.id == site), None)
    if pair is None:
        raise NotFoundError(f"site: unknown site {site[:80]!r}", "site")
    step = interval_s(interval)
    rng = time_range(start, end, settings)
    n = check_points(rng, step, settings, "interval")
    step_ms = step * 1000
    first = rng.start_ms // step_ms * step_ms
    n = -(-(rng.end_ms - first) // step_ms)
    devices = []
    for dev in pair[1].devices:
        e, used = device_energy(store, dev, first, n, step, clock_rate=config.services.simulator.speed)
        devices.append(
            DeviceEnergyOut(
                device=dev.id,
                role=dev.role,
                source=dev.source,
                quantities=list(used),
                supply_wh=e.supply_wh.tolist(),
                draw_wh=e.draw_wh.tolist(),
                status=[STATUS_NAMES[int(x)] for x in e.status],
            )
        )
    return SiteEnergyOut(
        site=site,
        district=pair[0].id,
        interval_s=step,
        start_ms=first,
        end_ms=first + n * step_ms,
        intervals_ms=[first + i * step_ms for i in range(n)],
        devices=devices,
    )
