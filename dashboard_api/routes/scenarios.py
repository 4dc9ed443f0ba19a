"""``POST /api/v1/scenarios``: what would it take? Every autonomy metric of a scope, today and
under a scenario (more PV, wind, a hydro upgrade, batteries, load changes, sharing on or off), on
the measured data of a period (the last 365 days by default); staff role.

The body is validated (unknown fields, out-of-range values and sites outside the scope are a 4xx
naming the field); the computation has a budget (:data:`BUDGET_S`): beyond it the answer is a 422
``scenario_too_long`` saying what to shorten. Numbers come from the engine (docs/planning.md).
Without the ``planning`` extra (pvlib) the answer is a 501 naming the ``pip install`` to run.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ville_autonome.autonomy_queries import ScopeError, scope_sites
from ville_autonome.dashboard_api.deps import ApiSettingsDep, ConfigDep, StaffKey, StoreDep
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, ApiError, BadParameterError, extra_missing_response
from ville_autonome.dashboard_api.scenario_out import scenario_dict
from ville_autonome.extras import planning
from ville_autonome.planning.deadline import Deadline, ScenarioTimeoutError
from ville_autonome.planning.measured import measure_with_profiles, ratings
from ville_autonome.planning.run import run_scenario
from ville_autonome.planning.scenario import (
    GenerationChange,
    HydroChange,
    LoadChange,
    Scenario,
    ScenarioError,
    StorageChange,
)
from ville_autonome.planning.sizing import size_storage
from ville_autonome.reports.compute import ReportPeriodError, check_period
from ville_autonome.reports.periods import PARIS, Period

router = APIRouter(tags=["planning"])

BUDGET_S = 20.0  # reading (cold) + scenario + sizing search
MAX_CHANGES = 20  # per kind of change


class ScenarioTooLongError(ApiError):
    status_code = 422
    error = "scenario_too_long"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as it is: 0 is not false, "5" is not 5


class PvIn(_In):
    site: str = Field(max_length=64)
    added_kwp: float = Field(gt=0, le=100_000, description="peak power added [kWp]")


class WindIn(_In):
    site: str = Field(max_length=64)
    added_kw: float = Field(gt=0, le=100_000, description="rated power added [kW]")


class HydroIn(_In):
    device: str = Field(max_length=64)
    head_gain_pct: float = Field(default=0, ge=0, le=200, description="net head added [% of today's]")
    efficiency_gain_pct: float = Field(default=0, ge=0, le=50, description="turbine efficiency gained [% of today's]")
    design_flow_gain_pct: float = Field(default=0, ge=0, le=200, description="design flow added [% of today's]")


class StorageIn(_In):
    site: str = Field(max_length=64)
    capacity_kwh: float = Field(gt=0, le=1_000_000)
    power_kw: float = Field(gt=0, le=1_000_000)
    round_trip_efficiency: float = Field(default=0.9, gt=0, le=1)


class LoadIn(_In):
    site: str = Field(max_length=64)
    change_pct: float = Field(ge=-100, le=100, description="−10: ten per cent less consumption")


class SizingIn(_In):
    site: str = Field(max_length=64, description="where the battery would go")
    target_self_sufficiency: float = Field(gt=0, le=1)
    c_rate_per_h: float = Field(default=0.5, gt=0, le=4, description="power = c_rate × capacity per hour")
    round_trip_efficiency: float = Field(default=0.9, gt=0, le=1)


class ScenarioIn(_In):
    scope: str = Field(max_length=80, examples=["district:saint-leu"])
    period: str | None = Field(default=None, max_length=64, description="a report period; default: the last 365 days")
    sharing: bool = Field(default=True, description="sites of a district net their flows (collective self-consumption)")
    pv: list[PvIn] = Field(default_factory=list, max_length=MAX_CHANGES)
    wind: list[WindIn] = Field(default_factory=list, max_length=MAX_CHANGES)
    hydro: list[HydroIn] = Field(default_factory=list, max_length=MAX_CHANGES)
    storage: list[StorageIn] = Field(default_factory=list, max_length=MAX_CHANGES)
    load: list[LoadIn] = Field(default_factory=list, max_length=MAX_CHANGES)
    sizing: SizingIn | None = None


EXAMPLE = {
    "scope": "district:saint-leu",
    "period": "2026",
    "pv": [{"site": "saint-leu-housing", "added_kwp": 120}],
    "storage": [{"site": "saint-leu-housing", "capacity_kwh": 400, "power_kw": 200}],
    "load": [{"site": "saint-leu-housing", "change_pct": -10}],
    "sizing": {"site": "saint-leu-housing", "target_self_sufficiency": 0.6},
}


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``{"$ref": "#/$defs/X"}`` replaced by ``X`` itself (the document's
    components do not hold the body's sub-models)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


_SCHEMA = ScenarioIn.model_json_schema()
BODY_SCHEMA = _inline(_SCHEMA, _SCHEMA.get("$defs", {}))


def to_scenario(body: ScenarioIn) -> Scenario:
    return Scenario(
        generation=tuple(GenerationChange(p.site, "pv", p.added_kwp) for p in body.pv)
        + tuple(GenerationChange(w.site, "wind", w.added_kw) for w in body.wind),
        hydro=tuple(
            HydroChange(
                h.device, 1 + h.head_gain_pct / 100, 1 + h.efficiency_gain_pct / 100, 1 + h.design_flow_gain_pct / 100
            )
            for h in body.hydro
        ),
        storage=tuple(StorageChange(s.site, s.capacity_kwh, s.power_kw, s.round_trip_efficiency) for s in body.storage),
        load=tuple(LoadChange(x.site, x.change_pct) for x in body.load),
        sharing=body.sharing,
    )


def _period(text: str | None, now: datetime) -> Period:
    if text is None:
        today = now.astimezone(PARIS).date()
        text = f"{(today - timedelta(days=365)).isoformat()}..{(today - timedelta(days=1)).isoformat()}"
    try:
        return check_period(text, now)
    except ReportPeriodError as exc:
        raise BadParameterError(str(exc), "period") from None


def _check_sites(body: ScenarioIn, sites: set[str], devices: set[str]) -> None:
    for kind in ("pv", "wind", "storage", "load"):
        for i, change in enumerate(getattr(body, kind)):
            if change.site not in sites:
                raise BadParameterError(
                    f"{kind}[{i}].site: {change.site[:64]!r} is not a site of {body.scope}", f"{kind}[{i}].site"
                )
    for i, h in enumerate(body.hydro):
        if h.device not in devices:
            raise BadParameterError(
                f"hydro[{i}].device: {h.device[:64]!r} is not a hydro plant of {body.scope}", f"hydro[{i}].device"
            )
    if body.sizing is not None and body.sizing.site not in sites:
        raise BadParameterError(f"sizing.site: {body.sizing.site[:64]!r} is not a site of {body.scope}", "sizing.site")


@router.post(
    "/scenarios",
    summary="What would it take? Autonomy metrics today and under a scenario, on measured data",
    description="Recomputes every autonomy metric of the scope with the engine on the measured load and production "
    "of the period, changed by the scenario: more PV (kWp) or wind (kW) per site, a hydro upgrade, batteries "
    "dispatched for self-consumption, load changes (%), sharing within districts on or off; optionally the "
    "smallest battery that reaches a target self-sufficiency. docs/planning.md.",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": BODY_SCHEMA, "example": EXAMPLE}}}
    },
    responses={
        **ERROR_RESPONSES,
        422: {
            "description": "A field is invalid (`parameter` names it), or the scenario needed more than the compute "
            "budget (`scenario_too_long`).",
            "content": ERROR_RESPONSES[422]["content"],
        },
        **extra_missing_response("planning"),
    },
)
async def scenarios(
    key: StaffKey, request: Request, config: ConfigDep, store: StoreDep, settings: ApiSettingsDep
) -> JSONResponse:
    # the body is read after the key is checked: a caller without a staff key learns nothing from it
    planning()  # the what-if feature needs the planning extra (pvlib): a 501 naming it, whatever the body
    try:
        body = ScenarioIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    return await run_in_threadpool(_answer, body, request, config, store, settings)


def _answer(body: ScenarioIn, request: Request, config: Any, store: Any, settings: Any) -> JSONResponse:
    t0 = time.monotonic()
    deadline = Deadline(BUDGET_S)
    try:
        pairs = scope_sites(config, body.scope)
    except ScopeError as exc:
        raise BadParameterError(str(exc), "scope") from None
    hydro = {dev.id for _, s in pairs for dev in s.devices if dev.source == "hydro"}
    _check_sites(body, {s.id for _, s in pairs}, hydro)
    now = datetime.now(UTC)
    p = _period(body.period, now)
    if len(p.days) > settings.max_range_days:
        raise BadParameterError(
            f"period {p.label} spans {len(p.days)} days, more than services.api.max_range_days ({settings.max_range_days})",
            "period",
        )
    interval = config.services.metrics.interval_minutes * 60
    scenario = to_scenario(body)
    try:
        m, profiles = measure_with_profiles(
            store, config, body.scope, p.start_ms, p.end_ms, interval, scenario, cache=request.app.state.energy_cache
        )
        deadline.check()
        rated = ratings(config)
        result = run_scenario(
            m.inputs, scenario, m.settings, ratings=rated, profiles=profiles, deadline=deadline, before=m.result
        )
        sizing = None
        if body.sizing is not None:
            s = body.sizing
            sizing = size_storage(
                m.inputs,
                scenario,
                m.settings,
                site=s.site,
                target=s.target_self_sufficiency,
                ratings=rated,
                profiles=profiles,
                c_rate_per_h=s.c_rate_per_h,
                round_trip_efficiency=s.round_trip_efficiency,
                deadline=deadline,
                base_result=result,
            )
    except ScenarioError as exc:
        raise BadParameterError(str(exc), "body") from None
    except ScenarioTimeoutError as exc:
        raise ScenarioTooLongError(
            f"{exc} (the budget is {BUDGET_S:g} s): shorten the period, or leave out the sizing search"
        ) from None
    names = {d.id: d.name or d.id for d in config.districts} | {s.id: s.name or s.id for _, s in pairs}
    out: dict[str, Any] = scenario_dict(result, sizing, p, config, names)
    out["elapsed_s"] = round(time.monotonic() - t0, 3)
    return JSONResponse(out)
