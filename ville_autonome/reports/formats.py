"""One report, three formats: ``pdf`` (people), ``csv`` and ``xlsx`` (machines).

Shared by the ``report`` command and ``GET /api/v1/reports`` so both give the same bytes. PDF and
XLSX need the ``reports`` extra (matplotlib, typst, openpyxl): :func:`render` checks it
(:func:`ville_autonome.extras.require_reports`) before it imports the modules that use those
packages, so that the core install imports this module and writes CSV.
"""

from __future__ import annotations

from ville_autonome.extras import require_reports
from ville_autonome.reports.labels import Lang
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.options import Format, Table
from ville_autonome.reports.tables import to_csv

MEDIA_TYPES: dict[Format, str] = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(data: ReportData, fmt: Format, lang: Lang = "fr", table: Table = "intervals") -> bytes:
    """The report in ``fmt``; ``table`` chooses the CSV table (per interval or per day).
    :class:`~ville_autonome.extras.MissingExtraError` for PDF or XLSX without the ``reports`` extra."""
    if fmt == "csv":
        return to_csv(data, table)
    check_engines(fmt)
    # imported here, after the check: these modules import matplotlib, typst, openpyxl
    if fmt == "pdf":
        from ville_autonome.reports.pdf import render_pdf

        return render_pdf(data, lang)
    from ville_autonome.reports.workbook import to_xlsx

    return to_xlsx(data, lang)


def check_engines(fmt: Format) -> None:
    """:class:`~ville_autonome.extras.MissingExtraError` when ``fmt`` needs the ``reports`` extra and
    it is not installed: the command and the API check it before they compute a report."""
    if fmt != "csv":
        require_reports()


def filename(data: ReportData, fmt: Format, table: Table = "intervals", lang: str | None = None) -> str:
    """``autonomy-district-saint-leu-2026-10.pdf`` (``-days`` for the per-day CSV, ``-en`` with ``lang``)."""
    return report_filename(data.scope, data.period.label, fmt, table, lang)


def report_filename(scope: str, period: str, fmt: Format, table: Table = "intervals", lang: str | None = None) -> str:
    suffix = "-days" if fmt == "csv" and table == "days" else ""
    language = f"-{lang}" if lang else ""
    return f"autonomy-{scope.replace(':', '-')}-{period}{suffix}{language}.{fmt}"
