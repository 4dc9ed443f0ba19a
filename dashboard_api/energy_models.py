"""Response models of the dashboard's energy routes (``routes.energy``): what OpenAPI documents."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ville_autonome.dashboard_api.schemas import FlowLinkOut


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TotalsOut(_Out):
    """Energies [Wh] of a bar or a period, and its ratios (null without a denominator)."""

    generation_wh: float
    generation_by_source_wh: dict[str, float] = Field(examples=[{"hydro": 720000.0, "pv": 96000.0}])
    load_wh: float
    import_wh: float
    export_wh: float
    charge_wh: float
    discharge_wh: float
    local_supply_wh: float = Field(description="load met locally (the engine's attribution)")
    grid_supply_wh: float = Field(description="load met by the grid, directly or through a battery")
    self_sufficiency: float | None
    self_consumption: float | None


class BarOut(_Out):
    start_ms: int
    end_ms: int
    label: str = Field(description="local start: 2026-11-30T14:00 (hour), 2026-11-30 (day), 2026-11 (month)")
    future: bool = Field(description="the bar starts after now: no data yet, by nature")
    totals: TotalsOut | None = Field(description="null when no interval of the bar holds any data")
    coverage: float | None = Field(description="mean energy-weighted coverage of its intervals")
    intervals: int
    missing_intervals: int = Field(description="intervals without any data in the scope")
    unbalanced_intervals: int


class PeriodTotalsOut(_Out):
    totals: TotalsOut
    charge_from_grid_wh: float
    avoided_co2_kg: float
    complete: bool
    coverage: float = Field(description="energy-weighted coverage of the period (docs/metrics.md)")
    flags: list[str]
    links: list[FlowLinkOut] = Field(description="the period's flow diagram [Wh]")


class PreviousOut(PeriodTotalsOut):
    date: str = Field(description="first local day of the previous period")
    start_ms: int
    end_ms: int
    bars: list[BarOut]


class ChangeOut(_Out):
    """The period against the previous one: relative changes (0.12 = +12 %), null without a base."""

    load: float | None
    generation: float | None
    imported: float | None
    exported: float | None
    self_sufficiency_points: float | None = Field(description="difference of self-sufficiency (ratio points)")


class EnergyOut(PeriodTotalsOut):
    scope: str = Field(examples=["district:saint-leu"])
    period: str = Field(examples=["month"])
    date: str = Field(description="first local day of the period", examples=["2026-11-01"])
    start_ms: int
    end_ms: int
    previous_date: str = Field(examples=["2026-10-01"])
    next_date: str = Field(examples=["2026-12-01"])
    in_progress: bool = Field(description="now is inside the period: its last bars are not over")
    interval_s: int
    method_version: str
    bars: list[BarOut]
    previous: PreviousOut | None
    change: ChangeOut | None


class PowerOut(_Out):
    scope: str
    start_ms: int
    end_ms: int
    start_local: str = Field(description="the range's start, local time (Europe/Paris)", examples=["2026-11-30T00:00"])
    end_local: str = Field(examples=["2026-11-30T14:37"])
    resolution: str = Field(description="interval (the engine's), 1h or 1d")
    times_ms: list[int] = Field(description="start of each bar [UTC ms]")
    generation_w: list[float | None]
    load_w: list[float | None]
    grid_w: list[float | None] = Field(description="import − export (+ import)")
    battery_w: list[float | None] = Field(description="discharge − charge (+ discharge)")
    self_sufficiency: list[float | None]
    coverage: list[float | None]
    complete: bool
    flags: list[str]


class RangeOut(_Out):
    preset: str = Field(examples=["yesterday"])
    start_ms: int
    end_ms: int
    start_local: str = Field(examples=["2026-11-29T00:00"])
    end_local: str = Field(examples=["2026-11-30T00:00"])
