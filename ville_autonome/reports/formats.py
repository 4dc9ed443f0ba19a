"""One report, three formats: ``pdf`` (people), ``csv`` and ``xlsx`` (machines).

Shared by the ``report`` command and ``GET /api/v1/reports`` so both give the same bytes.
"""

from __future__ import annotations

from ville_autonome.reports.labels import Lang
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.options import Format, Table
from ville_autonome.reports.pdf import render_pdf
from ville_autonome.reports.tables import to_csv
from ville_autonome.reports.workbook import to_xlsx

MEDIA_TYPES: dict[Format, str] = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(data: ReportData, fmt: Format, lang: Lang = "fr", table: Table = "intervals") -> bytes:
    """The report in ``fmt``; ``table`` chooses the CSV table (per interval or per day)."""
    if fmt == "pdf":
        return render_pdf(data, lang)
    if fmt == "xlsx":
        return to_xlsx(data, lang)
    return to_csv(data, table)


def filename(data: ReportData, fmt: Format, table: Table = "intervals", lang: str | None = None) -> str:
    """``autonomy-district-saint-leu-2026-10.pdf`` (``-days`` for the per-day CSV, ``-en`` with ``lang``)."""
    return report_filename(data.scope, data.period.label, fmt, table, lang)


def report_filename(scope: str, period: str, fmt: Format, table: Table = "intervals", lang: str | None = None) -> str:
    suffix = "-days" if fmt == "csv" and table == "days" else ""
    language = f"-{lang}" if lang else ""
    return f"autonomy-{scope.replace(':', '-')}-{period}{suffix}{language}.{fmt}"
