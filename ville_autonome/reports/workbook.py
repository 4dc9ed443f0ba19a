"""The report as an XLSX workbook that opens right: real numbers and dates, number formats
(percent for ratios, kWh or MWh with sensible decimals, thousands separators), units in the
headers, a frozen header row, set column widths, one sheet per table and a ``read_me`` sheet
(what, when, the method version, the flags in plain words).

Cells hold the raw values of the CSV and the API (Wh, W, ratios in [0, 1]) — a formula on them
computes in SI units — and a number format displays them (``#,##0.0,"kWh"`` shows Wh as kWh).
Dates are real dates (Excel has no time zones: ``start_utc`` in UTC, ``start_local`` in Paris time,
with ``utc_offset`` beside it for the hour that repeats in October). Written in openpyxl's streaming
mode: a city-year is 35,040 rows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from copy import copy
from datetime import UTC, date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ville_autonome.reports.flag_text import note
from ville_autonome.reports.labels import Lang, label
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.schema import COLUMNS
from ville_autonome.reports.tables import DAY_COLUMNS, INTERVAL_COLUMNS, Cell, day_rows, interval_rows, summary_table

PERCENT = "0.0%"
KWH = '#,##0.00,"\u00a0kWh"'  # Wh shown as kWh
KWH_DAY = '#,##0.0,"\u00a0kWh"'
MWH = '#,##0.000,,"\u00a0MWh"'
KW = '#,##0.0,"\u00a0kW"'
FORMATS = {
    "ratio": PERCENT,
    "share": PERCENT,
    "pct": '0.0"\u00a0%"',
    "w": KW,
    "kg": '#,##0.0"\u00a0kg"',
    "h": '0.0"\u00a0h"',
    "1": "0.00",
}
DATETIME = "yyyy-mm-dd hh:mm"
HEADER_FONT = Font(bold=True)


def _cell(ws: WriteOnlyWorksheet, value: Cell, fmt: str | None = None, *, bold: bool = False) -> WriteOnlyCell:
    c = WriteOnlyCell(ws, value=value)
    if fmt is not None:
        c.number_format = fmt
    if bold:
        c.font = HEADER_FONT
    return c


class _Styled:
    """Cells of one number format, made fast: the style is looked up once, then copied (setting
    ``number_format`` on each of 500,000 cells costs seconds)."""

    def __init__(self, ws: WriteOnlyWorksheet, fmt: str | None) -> None:
        self.ws = ws
        self.style = copy(_cell(ws, None, fmt)._style) if fmt is not None else None

    def __call__(self, value: Cell) -> WriteOnlyCell | Cell:
        if self.style is None:
            return value
        c = WriteOnlyCell(self.ws, value=value)
        c._style = copy(self.style)
        return c


def _column_format(name: str, per_day: bool) -> str | None:
    if name.endswith("_wh"):
        return KWH_DAY if per_day else KWH
    suffix = name.rsplit("_", 1)[-1]
    return FORMATS.get(suffix)


def _sheet(wb: Workbook, title: str, header: Sequence[str], widths: Sequence[float]) -> WriteOnlyWorksheet:
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.append([_cell(ws, h, bold=True) for h in header])
    return ws


def _naive(t: datetime) -> datetime:
    return t.replace(tzinfo=None)


def _intervals(wb: Workbook, data: ReportData) -> None:
    header = ["start_utc", "start_local", "utc_offset", *INTERVAL_COLUMNS[2:]]
    ws = _sheet(wb, "intervals", header, [17, 17, 10, *([15] * (len(header) - 3))])
    cells = [_Styled(ws, DATETIME if i < 2 else _column_format(n, False)) for i, n in enumerate(header)]
    for row in interval_rows(data):
        utc, local, *rest = row
        assert isinstance(utc, datetime)
        assert isinstance(local, datetime)
        offset = local.strftime("%z")
        values: list[Cell] = [_naive(utc), _naive(local), f"{offset[:3]}:{offset[3:]}", *rest]
        ws.append([cell(v) for cell, v in zip(cells, values, strict=True)])


def _days(wb: Workbook, data: ReportData) -> None:
    ws = _sheet(wb, "days", DAY_COLUMNS, [12, *([15] * (len(DAY_COLUMNS) - 1))])
    cells = [_Styled(ws, "yyyy-mm-dd"), *(_Styled(ws, _column_format(n, True)) for n in DAY_COLUMNS[1:])]
    for row in day_rows(data):
        values = [date.fromisoformat(str(row[0])), *row[1:]]
        ws.append([cell(v) for cell, v in zip(cells, values, strict=True)])


def _summary(wb: Workbook, data: ReportData, lang: Lang) -> None:
    header, rows = summary_table(data, lang)
    ws = _sheet(wb, "summary", header, [28, 52, 8, 18, 18])
    for metric, name, unit, *values in rows:
        fmt = {"ratio": PERCENT, "W": KW, "kg": FORMATS["kg"], "h": FORMATS["h"], "1": "0.00"}.get(str(unit))
        if unit == "Wh":
            big = (
                max(abs(v) for v in values if isinstance(v, float)) if any(isinstance(v, float) for v in values) else 0
            )
            fmt = MWH if big >= 1e6 else KWH
        ws.append([_cell(ws, metric), _cell(ws, name), _cell(ws, unit), *(_cell(ws, v, fmt) for v in values)])


def _read_me(wb: Workbook, data: ReportData, lang: Lang) -> None:
    ws = _sheet(wb, "read_me", ["item", "value"], [30, 110])
    wrap = Alignment(wrap_text=True, vertical="top")
    c = data.result.coverage
    items: list[tuple[str, Cell]] = [
        ("title", f"{label(lang, 'title')} — {data.scope_name}"),
        ("scope", data.scope),
        ("scope_name", data.scope_name),
        ("period", data.period.label),
        ("period_start_local", _naive(data.period.start)),
        ("period_end_local", _naive(data.period.end)),
        ("generated_utc", _naive(data.generated_at.astimezone(UTC))),
        ("interval_s", data.interval_s),
        ("method_version", data.method_version),
        ("coverage_energy_ratio", c.ratio),
        ("coverage_complete", c.complete),
        ("emission_factor_g_per_kwh", data.emission_factor_g_per_kwh),
        ("flags", " ".join(data.result.flags)),
    ]
    for f in data.result.flags:
        n = note(f, lang, data.names)
        items.append((f"flag {f}", f"{n.concerns}: {n.what} {n.meaning}".strip()))
    items += [(f"column {name}", text) for name, (_, text) in COLUMNS.items()]
    items.append(("units", "cells hold Wh, W and ratios in [0, 1]; number formats display kWh, MWh, kW and %"))
    for key, value in items:
        fmt = DATETIME if isinstance(value, datetime) else (PERCENT if key == "coverage_energy_ratio" else None)
        v = _cell(ws, value, fmt)
        v.alignment = wrap
        ws.append([_cell(ws, key), v])


def to_xlsx(data: ReportData, lang: Lang = "fr") -> bytes:
    """A workbook with sheets ``read_me``, ``summary``, ``days`` and ``intervals``."""
    wb = Workbook(write_only=True)
    _read_me(wb, data, lang)
    _summary(wb, data, lang)
    _days(wb, data)
    _intervals(wb, data)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
