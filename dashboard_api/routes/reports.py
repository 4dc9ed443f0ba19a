"""Reports for the staff role: ``GET /api/v1/reports`` makes one on demand (the same as
``ville-autonome report``), ``/reports/scheduled`` lists the stored monthly reports and serves
them, ``/reports/schema`` describes the CSV columns (Table Schema).

::

    GET /api/v1/reports?scope=district:saint-leu&period=2026-10&format=pdf&lang=fr
    GET /api/v1/reports?scope=city&period=2026-Q4&format=csv&table=days
    GET /api/v1/reports/scheduled
    GET /api/v1/reports/scheduled/2026-11/autonomy-city-2026-11-fr.pdf
    GET /api/v1/reports/schema?table=intervals

The body of a report is the file (``Content-Disposition: attachment``). A bad scope or period is a
400 whose JSON names the parameter, like every other route of the API; a period that has not begun
is refused; a report without any data is a 404 (``allow_empty=true`` makes it anyway). PDF and
XLSX without the ``reports`` extra installed are a 501 naming the ``pip install`` to run.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from ville_autonome.dashboard_api.deps import ApiSettingsDep, ConfigDep, StoreDep, require_role
from ville_autonome.dashboard_api.errors import (
    ERROR_RESPONSES,
    ERROR_SCHEMA,
    BadParameterError,
    NotFoundError,
    extra_missing_response,
)
from ville_autonome.dashboard_api.params import MAX_MS, MIN_MS, iso
from ville_autonome.reports.compute import ReportPeriodError, ReportScopeError, build_report, check_period, has_data
from ville_autonome.reports.formats import MEDIA_TYPES, check_engines, filename, render
from ville_autonome.reports.scheduled import listing, stored_file
from ville_autonome.reports.schema import table_schema
from ville_autonome.reports.tables import DAY_COLUMNS, INTERVAL_COLUMNS

log = logging.getLogger(__name__)


router = APIRouter(tags=["reports"])
NOT_FOUND_CONTENT = {
    "application/json": {"schema": ERROR_SCHEMA, "example": {"error": "not_found", "detail": "no stored report …"}}
}

PERIOD_DOC = "2026-10-05 (day) | 2026-10 (month) | 2026-Q4 (quarter) | 2026 (year) | 2026-10-01..2026-10-15"


@router.get(
    "/reports",
    summary="An autonomy report of a scope over a Europe/Paris calendar period (PDF, CSV or XLSX)",
    description="Numbers equal `GET /api/v1/autonomy` over the period's local calendar bounds. Formats and "
    "columns: docs/reports.md.",
    response_class=Response,
    responses={
        **ERROR_RESPONSES,
        200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "the report file"},
        404: {"description": "No data at all for the scope and period.", "content": NOT_FOUND_CONTENT},
        **extra_missing_response("reports"),
    },
)
def report(
    key: require_role("staff"),  # type: ignore[valid-type]
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    settings: ApiSettingsDep,
    scope: Annotated[str, Query(description="city | district:<id> | site:<id>", examples=["district:saint-leu"])],
    period: Annotated[str, Query(description=PERIOD_DOC, examples=["2026-10"])],
    fmt: Annotated[Literal["pdf", "csv", "xlsx"], Query(alias="format", description="file format")] = "pdf",
    lang: Annotated[Literal["fr", "en"], Query(description="language of the PDF and labels")] = "fr",
    table: Annotated[Literal["intervals", "days"], Query(description="CSV only: which table")] = "intervals",
    allow_empty: Annotated[bool, Query(description="make the report even without any data")] = False,
) -> Response:
    check_engines(fmt)  # PDF and XLSX need the reports extra: a 501 naming it, before any work
    now = datetime.now(UTC)
    try:
        p = check_period(period, now)
        start_ms, end_ms = p.start_ms, p.end_ms
    except ReportPeriodError as exc:
        raise BadParameterError(str(exc), "period") from None
    if start_ms < MIN_MS or end_ms > MAX_MS:
        raise BadParameterError(f"period {p.label} is outside the years 2000..2999", "period")
    if len(p.days) > settings.max_range_days:
        raise BadParameterError(
            f"period {p.label} spans {len(p.days)} days, more than services.api.max_range_days "
            f"({settings.max_range_days})",
            "period",
        )
    try:
        data = build_report(store, config, scope, p, now=now, cache=request.app.state.energy_cache, extras=fmt == "pdf")
    except ReportScopeError as exc:
        raise BadParameterError(str(exc), "scope") from None
    if not has_data(data) and not allow_empty:
        raise NotFoundError(f"no data for {scope[:80]} over {p.label} (allow_empty=true makes the report anyway)")
    content = render(data, fmt, lang, table)
    return Response(
        content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename(data, fmt, table)}"'},
    )


@router.get(
    "/reports/schema",
    summary="The columns of a report's CSV as a Table Schema (Frictionless Data)",
    responses=ERROR_RESPONSES,
)
def report_schema(
    key: require_role("staff"),  # type: ignore[valid-type]
    table: Annotated[Literal["intervals", "days"], Query(description="which table")] = "intervals",
) -> JSONResponse:
    return JSONResponse(table_schema(table, INTERVAL_COLUMNS if table == "intervals" else DAY_COLUMNS))


@router.get(
    "/reports/scheduled",
    summary="The stored monthly reports (ville-autonome report --scheduled), newest first",
    responses=ERROR_RESPONSES,
)
def scheduled(key: require_role("staff"), config: ConfigDep) -> JSONResponse:  # type: ignore[valid-type]
    out: list[dict[str, Any]] = []
    for r in listing(Path(config.services.reports.dir)):
        item = dataclasses.asdict(r)
        item["made"] = iso(item.pop("made_ms"))
        item["url"] = f"/api/v1/reports/scheduled/{r.month}/{r.name}"
        out.append(item)
    return JSONResponse({"reports": out})


@router.get(
    "/reports/scheduled/{month}/{name}",
    summary="One stored monthly report",
    response_class=FileResponse,
    responses={**ERROR_RESPONSES, 404: {"description": "No such stored report.", "content": NOT_FOUND_CONTENT}},
)
def scheduled_file(key: require_role("staff"), config: ConfigDep, month: str, name: str) -> FileResponse:  # type: ignore[valid-type]
    path = stored_file(Path(config.services.reports.dir), month, name)
    if path is None:
        raise NotFoundError(f"no stored report {month[:16]}/{name[:120]}")
    fmt = name.rsplit(".", 1)[-1]
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=name)  # type: ignore[index]
