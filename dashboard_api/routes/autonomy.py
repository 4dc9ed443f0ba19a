"""Autonomy metrics of the city, a district or a site over a period."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ville_autonome.autonomy_queries import ScopeError, compute_autonomy, scope_sites
from ville_autonome.dashboard_api.deps import ApiSettingsDep, ConfigDep, StaffKey, StoreDep
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, BadParameterError
from ville_autonome.dashboard_api.params import check_points, interval_s, time_range
from ville_autonome.dashboard_api.schemas import AutonomyOut
from ville_autonome.dashboard_api.serialize import autonomy_dict

router = APIRouter(tags=["autonomy"])

EXAMPLE = {
    "scope": "district:saint-leu",
    "start": "2025-12-31T23:00:00.000Z",
    "end": "2026-01-01T23:00:00.000Z",
    "interval_s": 900,
    "method_version": "2.1.0",
    "complete": True,
    "flags": [],
    "metrics": {"self_sufficiency": 0.62, "self_consumption": 0.91, "load_wh": 812000.0, "import_wh": 308560.0},
    "sharing_gain_wh": 41200.0,
}


@router.get(
    "/autonomy",
    response_model=AutonomyOut,
    summary="Autonomy metrics, per-interval series, coverage and method version of a scope",
    description=(
        "Computed per interval (15 or 30 min) from the stored energy counters, then summed over "
        "[start, end). Districts and the city net flows across their sites per interval; "
        "`sum_of_sites` gives the sites alone. `complete` is false, and `flags` name the device or site, "
        "when a figure may be wrong (implausible readings, unbalanced intervals, energy coverage below the "
        "threshold). Missing values are null, never 0. Formulas: docs/metrics.md."
    ),
    responses={**ERROR_RESPONSES, 200: {"content": {"application/json": {"example": EXAMPLE}}}},
)
def autonomy(
    key: StaffKey,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    settings: ApiSettingsDep,
    scope: Annotated[
        str, Query(description="city | district:<id> | site:<id>", examples=["district:saint-leu"])
    ] = "city",
    start: Annotated[str | None, Query(description="ISO 8601 with offset or Z, a date, or epoch ms")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 with offset or Z, a date, or epoch ms")] = None,
    interval: Annotated[str | None, Query(description="15m | 30m; default services.metrics.interval_minutes")] = None,
    series: Annotated[
        bool, Query(description="include the per-interval series (a year at 15 min: 35,040 rows)")
    ] = False,
) -> Response:
    try:
        scope_sites(config, scope)
    except ScopeError as exc:
        raise BadParameterError(str(exc), "scope") from None
    step = interval_s(interval) if interval is not None else config.services.metrics.interval_minutes * 60
    rng = time_range(start, end, settings)
    check_points(rng, step, settings, "interval")
    result = compute_autonomy(
        store, config, scope, rng.start_ms, rng.end_ms, step, cache=request.app.state.energy_cache
    )
    body = json.dumps(autonomy_dict(result, with_series=series), separators=(",", ":"), allow_nan=False)
    return Response(body, media_type="application/json")
