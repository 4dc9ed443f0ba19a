"""``GET /api/v1/reports``: the same report as ``ville-autonome report``, for the staff role.

::

    GET /api/v1/reports?scope=district:saint-leu&period=2026-10&format=pdf&lang=fr
    GET /api/v1/reports?scope=city&period=2026-Q4&format=csv&table=days

The body is the file (``Content-Disposition: attachment``). A bad scope or period is a 400 whose
JSON names the parameter, like every other route of the API.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ville_autonome.dashboard_api.deps import ApiSettingsDep, ConfigDep, StoreDep, require_role
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, BadParameterError
from ville_autonome.dashboard_api.params import MAX_MS, MIN_MS
from ville_autonome.reports.compute import ReportPeriodError, ReportScopeError, build_report, check_period
from ville_autonome.reports.formats import MEDIA_TYPES, filename, render

router = APIRouter(tags=["reports"])

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
    },
)
def report(
    key: require_role("staff"),  # type: ignore[valid-type]
    config: ConfigDep,
    store: StoreDep,
    settings: ApiSettingsDep,
    scope: Annotated[str, Query(description="city | district:<id> | site:<id>", examples=["district:saint-leu"])],
    period: Annotated[str, Query(description=PERIOD_DOC, examples=["2026-10"])],
    fmt: Annotated[Literal["pdf", "csv", "xlsx"], Query(alias="format", description="file format")] = "pdf",
    lang: Annotated[Literal["fr", "en"], Query(description="language of the PDF and labels")] = "fr",
    table: Annotated[Literal["intervals", "days"], Query(description="CSV only: which table")] = "intervals",
) -> Response:
    try:
        p = check_period(period)
        start_ms, end_ms = p.start_ms, p.end_ms
    except ReportPeriodError as exc:
        raise BadParameterError(str(exc), "period") from None
    except (OverflowError, ValueError):  # a calendar date beyond what the date types hold (9999-12-31)
        raise BadParameterError(f"period {period[:40]!r} is outside the years 2000..2999", "period") from None
    if start_ms < MIN_MS or end_ms > MAX_MS:
        raise BadParameterError(f"period {p.label} is outside the years 2000..2999", "period")
    if len(p.days) > settings.max_range_days:
        raise BadParameterError(
            f"period {p.label} spans {len(p.days)} days, more than services.api.max_range_days "
            f"({settings.max_range_days})",
            "period",
        )
    try:
        data = build_report(store, config, scope, p)
    except ReportScopeError as exc:
        raise BadParameterError(str(exc), "scope") from None
    content = render(data, fmt, lang, table)
    return Response(
        content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename(data, fmt, table)}"'},
    )
