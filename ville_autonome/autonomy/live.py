"""Flows now: the engine's rules applied to the latest instantaneous powers of a scope. Pure numpy.

The dashboard shows what every site does *now*. The same rules as a period's (site balance,
derived grid or load, attribution of the load to local or grid supply, netting across sites)
apply to one instant: each device's power ``P`` [W] is taken as the energy of a one-hour interval
(``P × 1 h`` [Wh], so every flow of the result reads in W), and :func:`engine.compute_scope`
does the rest. A device without a recent power reading (offline, silent, an impossible value)
is *missing*: the result is ``partial`` and names it; the engine derives what it can (a site
without its grid reading gets it from its balance) and never counts a missing device as zero.

Signs (docs/conventions.md): grid + import, battery + discharge; production and consumption ≥ 0.
A battery's discharge now has no known origin (the stock is a period quantity): it counts as
grid, as the engine counts any energy whose charge it did not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ville_autonome.autonomy.counters import Status, power_energy
from ville_autonome.autonomy.engine import compute_scope
from ville_autonome.autonomy.inputs import BatteryState, DeviceEnergy, ScopeInputs, SiteInputs

HOUR_S = 3600


@dataclass(frozen=True)
class DevicePower:
    """One device's latest power [W] (None: no recent reading) and its place in the balance."""

    device: str
    role: str
    power_w: float | None
    source: str | None = None
    rated_power_w: float | None = None


@dataclass(frozen=True)
class SitePowers:
    site: str
    district: str
    devices: list[DevicePower]
    batteries: list[BatteryState] = field(default_factory=list)


@dataclass(frozen=True)
class FlowsNow:
    """The six flows of a scope now [W], self-sufficiency now, and what is missing."""

    scope: str
    generation_w: float
    load_w: float
    charge_w: float
    discharge_w: float
    import_w: float
    export_w: float
    generation_by_source_w: dict[str, float]
    self_sufficiency: float | None  # local supply / load now (the engine's attribution)
    self_consumption: float | None
    soc_pct: float | None  # capacity-weighted state of charge of the scope's batteries [%]
    stored_wh: float | None
    battery_hours: float | None  # stored / (load − generation) now [h]; None without a deficit
    partial: bool  # some device of the scope has no recent power reading
    missing_devices: list[str]
    flags: list[str]


def _energy(d: DevicePower) -> DeviceEnergy:
    p = [np.nan if d.power_w is None else d.power_w]
    limit = d.rated_power_w * 1.5 if d.rated_power_w is not None else None
    e, status, anomaly = power_energy(p, [1 if d.power_w is not None else 0], HOUR_S, role=d.role, max_power_w=limit)
    status = np.where(status == Status.INTEGRATED, Status.MEASURED, status).astype(np.int8)
    if d.role == "consumption":
        return DeviceEnergy(d.device, d.role, np.zeros(1), e, status, d.source, anomaly, d.rated_power_w)
    sup, drw = np.maximum(e, 0.0), np.maximum(-e, 0.0)
    return DeviceEnergy(d.device, d.role, sup, drw, status, d.source, anomaly, d.rated_power_w)


def flows_now(scope: str, sites: list[SitePowers], t_ms: int) -> FlowsNow:
    """The flows of ``scope`` (``city``, ``district:<id>``, ``site:<id>``) over ``sites`` now."""
    inputs = ScopeInputs(
        scope,
        t_ms // (HOUR_S * 1000) * HOUR_S * 1000,
        1,
        [SiteInputs(s.site, s.district, [_energy(d) for d in s.devices], s.batteries) for s in sites],
    )
    r = compute_scope(inputs, interval_s=HOUR_S, closed_before_ms=inputs.start_ms + HOUR_S * 1000)
    m = r.metrics
    missing = sorted(d.device for s in inputs.sites for d in s.devices if d.status[0] == Status.MISSING)
    b = r.battery
    flags = [f for f in r.flags if not f.startswith(("missing_data:", "below_coverage", "unrated:"))]
    return FlowsNow(
        scope=scope,
        generation_w=m.generation_wh,
        load_w=m.load_wh,
        charge_w=m.charge_wh,
        discharge_w=m.discharge_wh,
        import_w=m.import_wh,
        export_w=m.export_wh,
        generation_by_source_w=dict(m.generation_by_source_wh),
        self_sufficiency=m.self_sufficiency,
        self_consumption=m.self_consumption,
        soc_pct=b.soc_pct if b else None,
        stored_wh=b.stored_wh if b else None,
        battery_hours=b.hours_at_current_deficit if b else None,
        partial=bool(missing),
        missing_devices=missing,
        flags=flags,
    )
