"""What-if scenarios: the measured inputs of a scope, changed, then the engine again. Pure numpy.

A :class:`Scenario` lists changes per site — more PV, more wind, a hydro upgrade, a battery, a
load change — and whether the sites of a district share their flows (collective
self-consumption). :func:`apply_scenario` turns the measured :class:`autonomy.ScopeInputs` into
the inputs the city *would* have measured, and ``autonomy.compute_scope`` computes every metric on
them: the same engine, never a second formula (docs/planning.md).

How each change enters a site's devices (every energy per interval [Wh]):

- **PV / wind**: the site's own production of that source scaled by ``(rated + added) / rated``
  (the measured profile: weather, orientation, outages included); a site without one gets a new
  production device from a profile per kW given by the caller (``Profiles``: the city's measured
  wind per kW or, without any, a rooftop unit's power curve; a pvlib clear-sky model for PV) —
  flagged ``wind_profile_from_city:<site>``, ``wind_modelled:<site>`` or ``pv_modelled:<site>``;
- **hydro**: the plant's production through ``P = ρ·g·Q·H·η`` (:mod:`planning.hydro`);
- **load**: every consumption device of the site scaled by ``1 + change_pct / 100``; a site without
  a consumption meter changes its grid exchange by the same share of its derived load;
- **battery**: a new storage device dispatched for self-consumption (:mod:`planning.dispatch`) on
  the site's residual, or, when sharing is on, on the netted residual of its district's sites (a
  community battery of a collective self-consumption operation, which French law bounds to a
  neighbourhood: it charges only from its district's netted surplus);
- the **grid meter** then carries the difference Δ = ΔL − ΔG + C − D: a surplus first reduces the
  import, then adds export; a deficit first reduces the export, then adds import — so a change of
  zero leaves every device exactly as measured.

Every device keeps its measured status per interval (missing stays missing, never zero); a new
device is measured where its site has data, and missing (0 Wh) where the site has none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ville_autonome.autonomy import DeviceEnergy, ScopeInputs, SiteInputs, Status
from ville_autonome.autonomy.flows import site_flows
from ville_autonome.planning.dispatch import Dispatch, FloatArray, dispatch_self_consumption
from ville_autonome.planning.hydro import upgraded_energy_wh


class ScenarioError(ValueError):
    """A scenario that cannot apply to the scope (an unknown site, a plant that is not there)."""


@dataclass(frozen=True)
class GenerationChange:
    site: str
    source: str  # pv | wind
    added_kw: float  # kWp for PV [kW]


@dataclass(frozen=True)
class HydroChange:
    device: str
    head_factor: float = 1.0  # new net head / today's
    efficiency_factor: float = 1.0  # new turbine efficiency / today's
    design_flow_factor: float = 1.0  # new design flow / today's (≥ 1)


@dataclass(frozen=True)
class StorageChange:
    site: str
    capacity_kwh: float
    power_kw: float
    round_trip_efficiency: float = 0.9


@dataclass(frozen=True)
class LoadChange:
    site: str
    change_pct: float  # −10: ten per cent less consumption


@dataclass(frozen=True)
class Scenario:
    generation: tuple[GenerationChange, ...] = ()
    hydro: tuple[HydroChange, ...] = ()
    storage: tuple[StorageChange, ...] = ()
    load: tuple[LoadChange, ...] = ()
    sharing: bool = True  # sites of a district net their flows per interval (collective self-consumption)


@dataclass(frozen=True)
class Profiles:
    """Production per kW installed, per interval of the window [Wh/kW], for sites without the source."""

    per_kw_wh: Mapping[str, FloatArray] = field(default_factory=dict)  # source → profile
    modelled: frozenset[str] = frozenset()  # sources whose profile is a model, not a measurement


@dataclass(frozen=True)
class Applied:
    """The changed inputs, what each new battery did, and the assumptions made."""

    inputs: ScopeInputs
    batteries: dict[str, tuple[StorageChange, Dispatch]]  # device id → (its change, its dispatch)
    flags: tuple[str, ...]


def _shift_grid(imp: FloatArray, exp: FloatArray, delta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Import and export after the site needs ``delta`` more from the grid (module docstring)."""
    up = np.maximum(delta, 0.0)  # needs more: less export first, then more import
    down = np.maximum(-delta, 0.0)  # needs less: less import first, then more export
    exp_less = np.maximum(exp - up, 0.0)
    imp_more = imp + (up - (exp - exp_less))
    imp_less = np.maximum(imp_more - down, 0.0)
    exp_more = exp_less + (down - (imp_more - imp_less))
    return imp_less, exp_more


class _SiteWork:
    """One site's devices while the changes apply to them, and the grid delta they add up to."""

    def __init__(self, site: SiteInputs, window: int) -> None:
        self.site = site
        self.devices = list(site.devices)
        self.delta = np.zeros(window)  # Δ: what the site needs more from the grid [Wh]
        self.window = window
        self.new_count = 0

    def scale(self, role: str, source: str | None, factor: float, column: str) -> FloatArray:
        """Scale ``column`` of the devices of ``role`` (and ``source``); return the added energy."""
        added = np.zeros(self.window)
        for i, d in enumerate(self.devices):
            if d.role == role and (source is None or d.source == source):
                before = getattr(d, column)
                after = before * factor
                added += after - before
                self.devices[i] = replace(d, **{column: after})
        return added

    def add(self, role: str, source: str | None, supply: FloatArray, draw: FloatArray, rated_w: float | None) -> str:
        """A new device, measured wherever the site has data (missing, and 0 Wh, where it has none)."""
        self.new_count += 1
        name = f"scenario-{self.site.site}-{source or role}-{self.new_count}"
        missing = ~self.has_data()
        status = np.where(missing, Status.MISSING, Status.MEASURED).astype(np.int8)
        supply, draw = np.where(missing, 0.0, supply), np.where(missing, 0.0, draw)
        self.devices.append(DeviceEnergy(name, role, supply, draw, status, source, None, rated_w))
        return name

    def has_data(self) -> np.ndarray:
        return (
            np.logical_or.reduce([d.status != Status.MISSING for d in self.site.devices])
            if self.site.devices
            else np.zeros(self.window, dtype=bool)
        )

    def finish(self) -> SiteInputs:
        if not np.any(self.delta):
            return replace(self.site, devices=self.devices)
        grids = sorted(
            (i for i, d in enumerate(self.devices) if d.role == "grid"), key=lambda i: self.devices[i].device
        )
        if grids:  # without a grid meter the engine derives the exchange from the balance
            g = self.devices[grids[0]]
            imp, exp = _shift_grid(g.supply_wh, g.draw_wh, self.delta)
            keep = g.status != Status.MISSING  # a missing interval stays missing (the engine derives it)
            self.devices[grids[0]] = replace(
                g, supply_wh=np.where(keep, imp, g.supply_wh), draw_wh=np.where(keep, exp, g.draw_wh)
            )
        return replace(self.site, devices=self.devices)


def _rated(site: SiteInputs, source: str, ratings: Mapping[str, float]) -> float:
    return float(sum(ratings.get(d.device, 0.0) for d in site.devices if d.role == "production" and d.source == source))


def apply_scenario(
    inputs: ScopeInputs,
    scenario: Scenario,
    *,
    interval_s: int,
    ratings: Mapping[str, float],
    profiles: Profiles | None = None,
) -> Applied:
    """The scope's inputs as they would have been measured under ``scenario`` (module docstring).

    ``ratings``: each device's rated power [W] from the configuration (PV in kWp × 1000);
    ``profiles``: production per kW for sites that have none of a source.
    """
    profiles = profiles or Profiles()
    window = inputs.window
    work = {s.site: _SiteWork(s, window) for s in inputs.sites}

    def site_of(name: str) -> _SiteWork:
        if name not in work:
            raise ScenarioError(f"site {name[:80]!r} is not in {inputs.scope}")
        return work[name]

    flags = [flag for h in scenario.hydro for flag in _upgrade_hydro(work, inputs.scope, h, interval_s, ratings)]
    for g in scenario.generation:
        flags += _add_generation(site_of(g.site), g, ratings, profiles, window)
    for ch in scenario.load:
        _change_load(site_of(ch.site), ch.change_pct, window)
    batteries = _add_batteries(work, scenario, interval_s, window)
    sites = [w.finish() for w in work.values()]
    return Applied(replace(inputs, sites=sites), batteries, tuple(sorted(set(flags))))


def _upgrade_hydro(
    work: dict[str, _SiteWork], scope: str, h: HydroChange, interval_s: int, ratings: Mapping[str, float]
) -> list[str]:
    """One hydro plant upgraded in place; its flags."""
    found = [(w, i, d) for w in work.values() for i, d in enumerate(w.devices) if d.device == h.device]
    if not found or found[0][2].source != "hydro":
        raise ScenarioError(f"device {h.device[:80]!r} is not a hydro plant of {scope}")
    w, i, d = found[0]
    rated = ratings.get(d.device)
    if rated is None:
        raise ScenarioError(f"hydro plant {d.device!r} has no rated_power_w in the configuration")
    after = upgraded_energy_wh(
        d.supply_wh,
        interval_s=interval_s,
        design_power_w=rated,
        head_factor=h.head_factor,
        efficiency_factor=h.efficiency_factor,
        design_flow_factor=h.design_flow_factor,
    )
    w.delta -= after - d.supply_wh
    w.devices[i] = replace(d, supply_wh=after)
    return [f"hydro_flow_assumed:{d.device}"] if h.design_flow_factor > 1.0 else []


def _add_generation(
    w: _SiteWork, g: GenerationChange, ratings: Mapping[str, float], profiles: Profiles, window: int
) -> list[str]:
    """More of a source on one site: its own devices scaled, or a profile per kW where it has none;
    its flags."""
    rated_w = _rated(w.site, g.source, ratings)
    if rated_w > 0:
        w.delta -= w.scale("production", g.source, 1.0 + g.added_kw * 1000.0 / rated_w, "supply_wh")
        return []
    if any(d.role == "production" and d.source == g.source for d in w.devices):
        raise ScenarioError(f"site {g.site!r}: its {g.source} devices have no rated_power_w to scale from")
    profile = profiles.per_kw_wh.get(g.source)
    if profile is None:
        hint = (
            " (a PV model needs city.latitude and city.longitude)"
            if g.source == "pv"
            else " (no wind measured in the city)"
        )
        raise ScenarioError(f"site {g.site!r} has no {g.source} to scale and no {g.source} profile is available{hint}")
    supply = profile * g.added_kw
    w.add("production", g.source, supply, np.zeros(window), g.added_kw * 1000.0)
    w.delta -= w.devices[-1].supply_wh
    return [f"{g.source}_{'modelled' if g.source in profiles.modelled else 'profile_from_city'}:{g.site}"]


def _change_load(w: _SiteWork, change_pct: float, window: int) -> None:
    """One site's consumption changed by ``change_pct``."""
    factor = 1.0 + change_pct / 100.0
    if any(d.role == "consumption" for d in w.devices):
        w.delta += w.scale("consumption", None, factor, "draw_wh")
    else:  # a derived load: the grid exchange carries the change
        flows = site_flows(replace(w.site, devices=w.devices), window)
        w.delta += flows.load_wh * (factor - 1.0)


def residual_wh(site: SiteInputs, delta: FloatArray, window: int) -> FloatArray:
    """What the grid delivers to the site (+) or takes (−) per interval after ``delta`` [Wh];
    NaN where the site has no data."""
    f = site_flows(site, window)
    r = f.import_wh - f.export_wh + delta
    return np.where(f.has_data, r, np.nan)


def _add_batteries(
    work: dict[str, _SiteWork], scenario: Scenario, interval_s: int, window: int
) -> dict[str, tuple[StorageChange, Dispatch]]:
    out: dict[str, tuple[StorageChange, Dispatch]] = {}
    for b in scenario.storage:
        if b.site not in work:
            raise ScenarioError(f"site {b.site[:80]!r} is not in the scope")
        w = work[b.site]
        if scenario.sharing:  # a community battery: the scope's netted residual
            residual = np.sum(
                [residual_wh(replace(x.site, devices=x.devices), x.delta, window) for x in work.values()], axis=0
            )
        else:
            residual = residual_wh(replace(w.site, devices=w.devices), w.delta, window)
        residual = np.where(w.has_data() & np.isfinite(residual), residual, 0.0)  # its own site has data
        cap = b.capacity_kwh * 1000.0
        d = dispatch_self_consumption(
            residual,
            capacity_wh=cap,
            power_w=b.power_kw * 1000.0,
            interval_s=interval_s,
            round_trip_efficiency=b.round_trip_efficiency,
        )
        rated = b.power_kw * 1000.0 if 0 < b.power_kw < math.inf else None  # the coverage weight of the new device
        name = w.add("storage", None, d.discharge_wh, d.charge_wh, rated)
        new = w.devices[-1]
        w.delta += new.draw_wh - new.supply_wh
        out[name] = (b, replace(d, charge_wh=new.draw_wh, discharge_wh=new.supply_wh))
    return out
