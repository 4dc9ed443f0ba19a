"""Public response models of the API (what OpenAPI documents; examples included)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ville_autonome.autonomy import Balance, BatteryStatus, Coverage, Metrics


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthOut(_Out):
    status: str = Field(examples=["ok"])
    store: str = Field(description="store backend version, or the error", examples=["sqlite 3.40.1"])


class HealthDegradedOut(_Out):
    status: str = Field(examples=["degraded"])
    store: str = Field(
        description="what is wrong with the store: unreachable, refused_credentials or rejected_query",
        examples=["refused_credentials"],
    )
    error: str = Field(description="the error as the other routes name it", examples=["store_refused_credentials"])
    detail: str


class WhoAmIOut(_Out):
    name: str = Field(description="the name of the presented key", examples=["control-room"])
    role: str = Field(description="viewer, operator, staff or admin", examples=["operator"])


class LiveValueOut(_Out):
    district: str = Field(examples=["saint-leu"])
    site: str = Field(examples=["iko-hydro"])
    device: str = Field(examples=["iko-turbine"])
    role: str = Field(examples=["production"])
    source: str = Field(examples=["hydro"])
    quantity: str = Field(examples=["active_power_w"])
    unit: str | None = Field(examples=["W"])
    ts: int = Field(description="UTC epoch milliseconds", examples=[1767222000000])
    value: float | None = Field(examples=[41250.0])
    quality: str = Field(examples=["good"])


class FlowLinkOut(_Out):
    """One link of the energy-flow diagram (dashboard_api.flow_links): from a supply to a use."""

    source: str = Field(description="a generation source (hydro, pv, wind, chp…), grid (import) or battery (discharge)")
    target: str = Field(description="load, battery (charge) or grid (export)")
    value: float = Field(description="[W] for flows now, [Wh] over a period")


class FlowsNowOut(_Out):
    """The flows of one scope now, computed on the server with the engine's rules (docs/metrics.md)."""

    scope: str = Field(examples=["district:saint-leu"])
    generation_w: float = Field(examples=[30000.0])
    load_w: float = Field(examples=[42000.0])
    charge_w: float = Field(examples=[0.0])
    discharge_w: float = Field(examples=[8000.0])
    import_w: float = Field(examples=[4000.0])
    export_w: float = Field(examples=[0.0])
    generation_by_source_w: dict[str, float] = Field(examples=[{"hydro": 30000.0}])
    self_sufficiency: float | None = Field(description="local supply / load now; null without load", examples=[0.71])
    self_consumption: float | None = Field(examples=[1.0])
    soc_pct: float | None = Field(description="capacity-weighted state of charge of the scope's batteries")
    stored_wh: float | None
    battery_hours: float | None = Field(description="stored / (load − generation) now [h]; null without a deficit")
    partial: bool = Field(description="a device of the scope has no recent power reading: the figures may be wrong")
    missing_devices: list[str] = Field(examples=[["iko-aux-load"]])
    flags: list[str] = Field(examples=[["load_derived:iko-hydro"]])
    links: list[FlowLinkOut] = Field(default_factory=list, description="the flow diagram's links now [W]")


class LiveOut(_Out):
    since_ms: int = Field(description="values older than this are left out (services.api.live_window_s)")
    now_ms: int = Field(description="the server's clock when the flows were computed [UTC ms]")
    today_start_ms: int = Field(description="midnight (Europe/Paris) of today [UTC ms], resolved on the server")
    method_version: str = Field(examples=["2.1.0"])
    values: list[LiveValueOut]
    flows: list[FlowsNowOut] = Field(description="flows now of the city, every district, every site")


class DeviceOut(_Out):
    id: str = Field(examples=["iko-turbine"])
    name: str = Field(examples=["Turbine au fil de l'eau"])
    role: str = Field(examples=["production"])
    source: str | None = Field(examples=["hydro"])
    protocol: str = Field(examples=["modbus-tcp"])
    writable: bool = Field(
        default=False,
        description="a command may write to it (docs/commands.md): a Modbus device with a register profile, "
        "an MQTT device whose preset has an output",
    )
    capacity_wh: float | None = None
    rated_power_w: float | None = None
    status: str = Field(description="online | offline | unknown (no health report yet)", examples=["online"])
    last_seen_ms: int | None = Field(examples=[1767222000000])


class SiteOut(_Out):
    id: str = Field(examples=["iko-hydro"])
    name: str
    gateway: str = Field(examples=["gw-saint-leu"])
    devices: list[DeviceOut]


class DistrictOut(_Out):
    id: str = Field(examples=["saint-leu"])
    name: str = Field(examples=["Saint-Leu"])
    sites: list[SiteOut]


class TopologyOut(_Out):
    city: str = Field(examples=["amiens"])
    name: str = Field(examples=["Amiens Métropole"])
    timezone: str = Field(examples=["Europe/Paris"])
    districts: list[DistrictOut]


class DeviceHealthOut(_Out):
    device: str
    gateway: str
    online: bool
    last_seen_ms: int | None
    updated_ms: int
    last_quality: str
    errors: dict[str, int] = Field(examples=[{"timeout": 3, "exception": 0}])


class PointOut(_Out):
    ts: int = Field(description="UTC epoch ms (raw) or interval start (rollups)", examples=[1767222000000])
    value: float | None = Field(description="raw value; for rollups: mean of a gauge, last of a counter")
    quality: str | None = Field(default=None, description="raw points only", examples=["good"])
    minimum: float | None = None
    maximum: float | None = None
    count: int | None = Field(default=None, description="rollups: good readings in the interval")


class DeviceSeriesOut(_Out):
    device: str
    site: str
    district: str
    role: str
    points: list[PointOut]
    truncated: bool = Field(description="more points exist than the limit returned")


class SeriesOut(_Out):
    quantity: str = Field(examples=["active_power_w"])
    unit: str = Field(examples=["W"])
    resolution: str = Field(examples=["15m"])
    start_ms: int
    end_ms: int
    points: list[PointOut] | None = Field(description="the points when one device was asked for")
    series: list[DeviceSeriesOut]


class DeviceEnergyOut(_Out):
    device: str
    role: str
    source: str | None
    quantities: list[str] = Field(description="stored quantities the energy came from", examples=[["energy_import_wh"]])
    supply_wh: list[float] = Field(description="energy delivered to the site per interval [Wh]")
    draw_wh: list[float] = Field(description="energy taken from the site per interval [Wh]")
    status: list[str] = Field(description="measured | integrated | imputed | missing per interval")


class SiteEnergyOut(_Out):
    site: str = Field(examples=["chu-amiens"])
    district: str = Field(examples=["hopital-nord"])
    interval_s: int = Field(examples=[900])
    start_ms: int
    end_ms: int
    intervals_ms: list[int] = Field(description="interval starts [UTC ms]")
    devices: list[DeviceEnergyOut]


class AutonomySeriesOut(_Out):
    start_ms: list[int]
    generation_wh: list[float | None]
    load_wh: list[float | None]
    charge_wh: list[float | None]
    discharge_wh: list[float | None]
    import_wh: list[float | None]
    export_wh: list[float | None]
    local_supply_wh: list[float | None]
    grid_supply_wh: list[float | None]
    local_storage_wh: list[float | None]
    self_sufficiency: list[float | None]
    coverage: list[float | None]
    unbalanced: list[bool]


class AutonomyOut(_Out):
    scope: str = Field(examples=["district:saint-leu"])
    start: str = Field(examples=["2025-12-31T23:00:00.000Z"])
    end: str = Field(examples=["2026-01-31T23:00:00.000Z"])
    start_ms: int
    end_ms: int
    interval_s: int = Field(examples=[900])
    method_version: str = Field(examples=["2.1.0"])
    complete: bool = Field(
        description="energy coverage at or above services.metrics.coverage_threshold, and no implausible reading "
        "nor unbalanced interval in the period"
    )
    flags: list[str] = Field(
        examples=[["grid_derived:iko-hydro", "implausible_jump:slh-load", "unbalanced:iko-hydro"]],
        description="what may distort a figure, each naming its device or site (docs/metrics.md, Flags)",
    )
    metrics: Metrics
    sum_of_sites: Metrics | None = Field(description="the sites each alone, summed (None for a site)")
    sharing_gain_wh: float = Field(description="import avoided by netting the sites per interval [Wh]")
    sites: dict[str, Metrics]
    coverage: Coverage
    balance: Balance
    battery: BatteryStatus | None
    series: AutonomySeriesOut | None = Field(default=None, description="per-interval values (series=true)")


class GapOut(_Out):
    gateway: str = Field(examples=["gw-saint-leu"])
    first_seq: int = Field(examples=[1042])
    last_seq: int = Field(examples=[1057])
    missing: int = Field(examples=[16])


class GapsOut(_Out):
    gaps: list[GapOut]
    missing_total: int
