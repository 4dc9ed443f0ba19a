"""``GET /api/v1/trajectory?scope=``: the road to 2050 — measured months and years of a scope since
its data began, against its target path (``targets:`` in the configuration); staff role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from ville_autonome.autonomy_queries import ScopeError, scope_sites
from ville_autonome.dashboard_api.deps import ConfigDep, StaffKey, StoreDep
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, BadParameterError
from ville_autonome.dashboard_api.params import iso
from ville_autonome.planning.history import Trajectory, trajectory
from ville_autonome.planning.trajectory import PeriodPoint
from ville_autonome.reports.compute import scope_name

router = APIRouter(tags=["planning"])


def point_dict(p: PeriodPoint) -> dict[str, Any]:
    m = p.metrics
    return {
        "label": p.label,
        "start": iso(p.start_ms),
        "self_sufficiency": m.self_sufficiency if m else None,
        "self_consumption": m.self_consumption if m else None,
        "load_wh": m.load_wh if m else None,
        "generation_wh": m.generation_wh if m else None,
        "generation_by_source_wh": m.generation_by_source_wh if m else None,
        "avoided_co2_kg": m.avoided_co2_kg if m else None,
        "coverage": p.coverage,
        "target": p.target,
        "flags": list(p.flags),  # what may distort the year's figures (docs/metrics.md, "Flags")
    }


def trajectory_dict(t: Trajectory, name: str) -> dict[str, Any]:
    return {
        "scope": t.scope,
        "scope_name": name,
        "first_data": iso(t.first_data_ms) if t.first_data_ms is not None else None,
        "method_version": t.method_version,
        "targets": [{"year": y, "self_sufficiency": v} for y, v in sorted(t.targets.items())],
        "path": [{"year": x, "self_sufficiency": v} for x, v in t.path],
        "measured_pace_per_year": t.measured_pace,
        "required_pace_per_year": t.required_pace,
        "latest_self_sufficiency": t.latest,
        "next_target": {"year": t.next_target[0], "self_sufficiency": t.next_target[1]} if t.next_target else None,
        "years": [point_dict(p) for p in t.years],
        "months": [point_dict(p) for p in t.months],
    }


@router.get(
    "/trajectory",
    summary="Measured self-sufficiency, production by source and avoided CO₂ per month and year, against the targets",
    description="Since the scope's first stored reading (at most the last 10 years); each year computed as one "
    "period by the engine, its months cut from it. `target` is the target path at each period's middle "
    "(straight lines between the configured years); `flags` (years) name the device or site and what may "
    "distort that year's figures (its months inherit them). docs/planning.md.",
    responses=ERROR_RESPONSES,
)
def get_trajectory(
    key: StaffKey,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    scope: Annotated[str, Query(description="city | district:<id> | site:<id>", max_length=80)] = "city",
) -> JSONResponse:
    try:
        scope_sites(config, scope)
    except ScopeError as exc:
        raise BadParameterError(str(exc), "scope") from None
    t = trajectory(store, config, scope, cache=request.app.state.energy_cache)
    return JSONResponse(trajectory_dict(t, scope_name(config, scope)))
