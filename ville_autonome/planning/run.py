"""Run a scenario: today's metrics and the scenario's, for the scope and each of its districts.

Pure: takes the measured :class:`autonomy.ScopeInputs` and the engine's settings, returns a
:class:`ScenarioResult`. Every metric comes from ``autonomy.compute_scope`` on the measured and on
the changed inputs (:func:`planning.scenario.apply_scenario`). With sharing off, a district or the
city is the sum of its sites alone (the engine's ``sum_of_sites``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ville_autonome.autonomy import AutonomyResult, Metrics, ScopeInputs, compute_scope
from ville_autonome.planning.deadline import NO_DEADLINE, Deadline
from ville_autonome.planning.dispatch import equivalent_full_cycles_per_year
from ville_autonome.planning.scenario import Profiles, Scenario, apply_scenario


@dataclass(frozen=True)
class EngineSettings:
    """The settings ``autonomy.compute_scope`` takes (from ``services.metrics``)."""

    interval_s: int = 900
    emission_factor_g_per_kwh: float = 52.0
    coverage_threshold: float = 0.9
    balance_tolerance: float = 0.05
    balance_floor_wh: float = 50.0
    closed_before_ms: int | None = None


@dataclass(frozen=True)
class BatteryOutcome:
    device: str
    site: str
    capacity_wh: float
    power_w: float
    charge_wh: float  # over the period
    discharge_wh: float
    cycles_per_year: float | None  # equivalent full cycles, scaled to a year


@dataclass(frozen=True)
class Comparison:
    scope: str
    before: Metrics
    after: Metrics


@dataclass(frozen=True)
class ScenarioResult:
    scope: Comparison
    districts: list[Comparison]
    batteries: list[BatteryOutcome]
    before: AutonomyResult  # the engine's full results (coverage, flags, method version)
    after: AutonomyResult
    flags: tuple[str, ...]  # the scenario's own assumptions (pv_modelled:<site>, …)
    changed: ScopeInputs | None = None  # the scenario's inputs (the sizing search starts from them)


def compute(inputs: ScopeInputs, settings: EngineSettings) -> AutonomyResult:
    """``autonomy.compute_scope`` with ``settings``."""
    return compute_scope(
        inputs,
        interval_s=settings.interval_s,
        emission_factor_g_per_kwh=settings.emission_factor_g_per_kwh,
        coverage_threshold=settings.coverage_threshold,
        balance_tolerance=settings.balance_tolerance,
        balance_floor_wh=settings.balance_floor_wh,
        closed_before_ms=settings.closed_before_ms,
    )


def shown(result: AutonomyResult, sharing: bool) -> Metrics:
    """The scope's metrics with sharing on (netted) or off (its sites alone, summed)."""
    if sharing or result.sum_of_sites is None:
        return result.metrics
    return result.sum_of_sites


def district_inputs(inputs: ScopeInputs) -> dict[str, ScopeInputs]:
    """One input per district of a city scope (a district or site scope has none)."""
    if inputs.scope != "city":
        return {}
    ids = sorted({s.district for s in inputs.sites})
    return {d: replace(inputs, scope=f"district:{d}", sites=[s for s in inputs.sites if s.district == d]) for d in ids}


def run_scenario(
    inputs: ScopeInputs,
    scenario: Scenario,
    settings: EngineSettings,
    *,
    ratings: Mapping[str, float],
    profiles: Profiles | None = None,
    deadline: Deadline = NO_DEADLINE,
    before: AutonomyResult | None = None,
) -> ScenarioResult:
    """Today and the scenario, side by side (module docstring). ``before``: today's result when the
    caller has it already (the same inputs and settings)."""
    applied = apply_scenario(inputs, scenario, interval_s=settings.interval_s, ratings=ratings, profiles=profiles)
    deadline.check()
    today = before if before is not None else compute(inputs, settings)
    deadline.check()
    after = compute(applied.inputs, settings)
    districts = []
    changed = district_inputs(applied.inputs)
    for d, measured in district_inputs(inputs).items():
        deadline.check()
        b, a = compute(measured, settings), compute(changed[d], settings)
        districts.append(Comparison(measured.scope, shown(b, scenario.sharing), shown(a, scenario.sharing)))
    days = inputs.n_intervals * settings.interval_s / 86_400
    w0 = inputs.warmup
    site_of = {d.device: s.site for s in applied.inputs.sites for d in s.devices}
    batteries = []
    for device, (change, dispatch) in applied.batteries.items():
        charge, discharge = float(dispatch.charge_wh[w0:].sum()), float(dispatch.discharge_wh[w0:].sum())
        cap = change.capacity_kwh * 1000.0
        batteries.append(
            BatteryOutcome(
                device,
                site_of[device],
                cap,
                change.power_kw * 1000.0,
                charge,
                discharge,
                equivalent_full_cycles_per_year(discharge, cap, days),
            )
        )
    return ScenarioResult(
        Comparison(inputs.scope, shown(today, scenario.sharing), shown(after, scenario.sharing)),
        districts,
        batteries,
        today,
        after,
        applied.flags,
        applied.inputs,
    )
