"""Report tables as CSV and XLSX: per-interval and per-day, units in the headers.

Headers are machine-readable names ending with their unit (``load_wh``, ``soc_pct``,
``self_sufficiency_ratio``), the same in every language. Times are given twice: UTC (ISO 8601,
``Z``) and Europe/Paris local time with its offset, so that a row is unambiguous on the days
clocks change. Empty cells are missing values (never zero).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from reports.labels import Lang, label
from reports.model import Headline, ReportData

Table = Literal["intervals", "days"]
Cell = str | float | int | None


def _num(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), 6)


def interval_table(data: ReportData) -> tuple[list[str], list[list[Cell]]]:
    f = data.flows
    sources = sorted(f.generation_by_source_wh)
    header = [
        "start_utc",
        "start_local",
        "load_wh",
        "generation_wh",
        *[f"generation_{s}_wh" for s in sources],
        "battery_charge_wh",
        "battery_discharge_wh",
        "grid_import_wh",
        "grid_export_wh",
        "soc_pct",
        "measured_share",
    ]
    rows: list[list[Cell]] = []
    for i in range(len(f)):
        ms = int(f.start_ms[i])
        utc = datetime.fromtimestamp(ms / 1000, tz=UTC)
        rows.append(
            [
                utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                utc.astimezone(data.period.tz).isoformat(),
                _num(f.load_wh[i]),
                _num(f.generation_wh[i]),
                *[_num(f.generation_by_source_wh[s][i]) for s in sources],
                _num(f.battery_charge_wh[i]),
                _num(f.battery_discharge_wh[i]),
                _num(f.grid_import_wh[i]),
                _num(f.grid_export_wh[i]),
                _num(f.soc_pct[i]),
                _num(f.measured[i]),
            ]
        )
    return header, rows


def day_table(data: ReportData) -> tuple[list[str], list[list[Cell]]]:
    header = [
        "day_local",
        "load_wh",
        "generation_wh",
        "battery_charge_wh",
        "battery_discharge_wh",
        "grid_import_wh",
        "grid_export_wh",
        "self_sufficiency_ratio",
        "self_consumption_ratio",
        "measured_share",
    ]
    rows: list[list[Cell]] = [
        [
            d.day.isoformat(),
            _num(d.load_wh),
            _num(d.generation_wh),
            _num(d.battery_charge_wh),
            _num(d.battery_discharge_wh),
            _num(d.grid_import_wh),
            _num(d.grid_export_wh),
            _num(d.self_sufficiency),
            _num(d.self_consumption),
            _num(d.measured),
        ]
        for d in data.days
    ]
    return header, rows


HEADLINE_FIELDS: list[tuple[str, str]] = [
    ("self_sufficiency", "ratio"),
    ("self_consumption", "ratio"),
    ("load_cover_factor", "ratio"),
    ("supply_cover_factor", "ratio"),
    ("time_autonomy", "ratio"),
    ("grid_interaction_index", "ratio"),
    ("load_wh", "Wh"),
    ("generation_wh", "Wh"),
    ("grid_import_wh", "Wh"),
    ("grid_export_wh", "Wh"),
    ("net_balance_wh", "Wh"),
    ("balance_ratio", "ratio"),
    ("peak_import_w", "W"),
    ("avoided_co2_kg", "kg"),
]


def summary_table(data: ReportData, lang: Lang) -> tuple[list[str], list[list[Cell]]]:
    """Key, label, value for the netted scope and the sum of sites (XLSX first sheet)."""
    header = ["metric", "label", "unit", "scope_value", "sum_of_sites_value"]

    def get(h: Headline | None, key: str) -> float | None:
        return None if h is None else _num(getattr(h, key))

    rows: list[list[Cell]] = [
        [key, label(lang, key), unit, get(data.headline, key), get(data.sum_of_sites, key)]
        for key, unit in HEADLINE_FIELDS
    ]
    for src, wh in sorted(data.headline.energy_by_source_wh.items()):
        rows.append([f"generation_{src}_wh", label(lang, f"source.{src}"), "Wh", _num(wh), None])
    rows.append(["coverage_measured", label(lang, "coverage.measured"), "ratio", _num(data.coverage.measured), None])
    rows.append(["coverage_imputed", label(lang, "coverage.imputed"), "ratio", _num(data.coverage.imputed), None])
    rows.append(["coverage_missing", label(lang, "coverage.missing"), "ratio", _num(data.coverage.missing), None])
    return header, rows


def to_csv(data: ReportData, table: Table = "intervals") -> bytes:
    header, rows = interval_table(data) if table == "intervals" else day_table(data)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(["" if c is None else c for c in row] for row in rows)
    return buf.getvalue().encode("utf-8")


def _sheet(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    ws.freeze_panes = "A2"


def to_xlsx(data: ReportData, lang: Lang = "fr") -> bytes:
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "report"
    for key, value in [
        ("scope", data.scope),
        ("scope_name", data.scope_name),
        ("period", data.period.label),
        ("period_start_local", data.period.start.isoformat()),
        ("period_end_local", data.period.end.isoformat()),
        ("generated_utc", data.generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("interval_s", data.interval_s),
        ("method_version", data.method_version),
        ("emission_factor_g_per_kwh", data.emission_factor_g_per_kwh),
    ]:
        info.append([key, value])
    _sheet(wb.create_sheet("summary"), *summary_table(data, lang))
    _sheet(wb.create_sheet("days"), *day_table(data))
    _sheet(wb.create_sheet("intervals"), *interval_table(data))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
