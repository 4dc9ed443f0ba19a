"""The smallest battery that brings a scope to a target self-sufficiency. Pure.

A search over the capacity [kWh] of one battery added to a site (with a power of ``c_rate`` ×
capacity per hour), on top of a base scenario; every trial is the engine's self-sufficiency of the
scope (:mod:`planning.run`). Self-sufficiency never falls as capacity grows (the dispatch's
monotonicity, :mod:`planning.dispatch`), so a bisection finds the smallest capacity to within
``tolerance``:

1. zero capacity already reaches the target: 0 kWh;
2. an unlimited battery (no capacity or power limit) gives the best storage can do: below the
   target, the target is out of reach with storage alone (more generation is needed) — the answer
   says so and gives that best;
3. otherwise the unlimited battery's peak stored energy is a capacity that reaches it too (never
   full: the same result), given enough power; the search doubles it while the power limit holds
   it back, then bisects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ville_autonome.autonomy import ScopeInputs
from ville_autonome.planning.deadline import NO_DEADLINE, Deadline
from ville_autonome.planning.run import EngineSettings, ScenarioResult, compute, shown
from ville_autonome.planning.scenario import Profiles, Scenario, StorageChange, apply_scenario

MAX_DOUBLINGS = 6


@dataclass(frozen=True)
class SizingResult:
    target: float  # self-sufficiency to reach [0, 1]
    site: str
    reachable: bool
    capacity_kwh: float | None  # the smallest capacity found (None: out of reach)
    power_kw: float | None
    self_sufficiency: float | None  # reached with that battery
    best_possible: float | None  # with an unlimited battery
    evaluations: int


def size_storage(
    inputs: ScopeInputs,
    base: Scenario,
    settings: EngineSettings,
    *,
    site: str,
    target: float,
    ratings: Mapping[str, float],
    profiles: Profiles | None = None,
    c_rate_per_h: float = 0.5,
    round_trip_efficiency: float = 0.9,
    tolerance: float = 0.02,
    max_evaluations: int = 16,
    deadline: Deadline = NO_DEADLINE,
    base_result: ScenarioResult | None = None,
) -> SizingResult:
    """Smallest capacity at ``site`` for which the scope's self-sufficiency reaches ``target`` (module docstring).

    ``base_result``: ``run_scenario`` of ``base`` on the same inputs, when the caller has it: its
    changed inputs are the search's start, and its self-sufficiency the zero-capacity trial (a
    battery of zero capacity changes nothing: :mod:`planning.dispatch`), so neither is computed again.
    """
    if base_result is not None and base_result.changed is not None:
        changed = base_result.changed
    else:
        changed = apply_scenario(
            inputs, base, interval_s=settings.interval_s, ratings=ratings, profiles=profiles
        ).inputs
    count = 0

    def trial(capacity_kwh: float, power_kw: float) -> tuple[float, float]:
        """(self-sufficiency, peak stored kWh) with a battery of that size."""
        nonlocal count
        deadline.check()
        count += 1
        battery = StorageChange(site, capacity_kwh, power_kw, round_trip_efficiency)
        applied = apply_scenario(
            changed,
            replace(Scenario(sharing=base.sharing), storage=(battery,)),
            interval_s=settings.interval_s,
            ratings=ratings,
        )
        ss = shown(compute(applied.inputs, settings), base.sharing).self_sufficiency
        peak = max((d.peak_stored_wh for _, d in applied.batteries.values()), default=0.0) / 1000.0
        return (ss if ss is not None else 0.0), peak

    def answer(reachable: bool, cap: float | None, ss: float | None, best: float | None) -> SizingResult:
        power = cap * c_rate_per_h if cap is not None else None
        return SizingResult(target, site, reachable, cap, power, ss, best, count)

    if base_result is not None and base_result.changed is not None:
        count += 1  # the zero-capacity trial, computed by run_scenario
        zero = base_result.scope.after.self_sufficiency or 0.0
    else:
        zero, _ = trial(0.0, 0.0)
    if zero >= target:
        return answer(True, 0.0, zero, None)
    best, peak = trial(math.inf, math.inf)
    if best < target or peak <= 0:
        return answer(False, None, None, best)
    lo, hi = 0.0, peak
    reached, _ = trial(hi, hi * c_rate_per_h)
    doublings = 0
    while reached < target:
        if doublings == MAX_DOUBLINGS or count >= max_evaluations:
            return answer(False, None, None, best)
        lo, hi = hi, hi * 2
        doublings += 1
        reached, _ = trial(hi, hi * c_rate_per_h)
    while hi - lo > tolerance * hi and count < max_evaluations:
        mid = (lo + hi) / 2
        ss, _ = trial(mid, mid * c_rate_per_h)
        if ss >= target:
            hi, reached = mid, ss
        else:
            lo = mid
    return answer(True, hi, reached, best)
