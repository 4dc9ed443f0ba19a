"""Report tables as CSV and XLSX: per-interval and per-day, units in the headers.

Headers are machine-readable names ending with their unit (``load_wh``, ``soc_pct``,
``self_sufficiency_ratio``), the same in every language. Times are given twice: UTC (ISO 8601,
``Z``) and Europe/Paris local time with its offset, so that a row is unambiguous on the days
clocks change. Empty cells are undefined or missing values (never zero).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import UTC, datetime

from openpyxl import Workbook

from ville_autonome.autonomy import Metrics
from ville_autonome.reports.labels import Lang, label
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.options import Table

Cell = str | float | int | None


def _num(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(v)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def interval_table(data: ReportData) -> tuple[list[str], list[list[Cell]]]:
    s = data.result.series
    header = [
        "start_utc",
        "start_local",
        "load_wh",
        "generation_wh",
        "battery_charge_wh",
        "battery_discharge_wh",
        "grid_import_wh",
        "grid_export_wh",
        "local_supply_wh",
        "grid_supply_wh",
        "self_sufficiency_ratio",
        "soc_pct",
        "coverage_share",
    ]
    rows: list[list[Cell]] = []
    for i in range(s.start_ms.shape[0]):
        utc = _utc(int(s.start_ms[i]))
        rows.append(
            [
                utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                utc.astimezone(data.period.tz).isoformat(),
                _num(s.load_wh[i]),
                _num(s.generation_wh[i]),
                _num(s.charge_wh[i]),
                _num(s.discharge_wh[i]),
                _num(s.import_wh[i]),
                _num(s.export_wh[i]),
                _num(s.local_supply_wh[i]),
                _num(s.grid_supply_wh[i]),
                _num(s.self_sufficiency[i]),
                _num(data.soc_pct[i]) if i < data.soc_pct.shape[0] else None,
                _num(s.coverage[i]),
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
        "local_supply_wh",
        "self_sufficiency_ratio",
        "self_consumption_ratio",
        "time_autonomy_ratio",
        "peak_import_w",
        "coverage_share",
    ]
    rows: list[list[Cell]] = []
    for d in data.days:
        m = d.metrics
        rows.append(
            [
                d.day.isoformat(),
                _num(m.load_wh),
                _num(m.generation_wh),
                _num(m.charge_wh),
                _num(m.discharge_wh),
                _num(m.import_wh),
                _num(m.export_wh),
                _num(m.local_supply_wh),
                _num(m.self_sufficiency),
                _num(m.self_consumption),
                _num(m.time_autonomy),
                _num(m.peak_import_w),
                _num(d.coverage),
            ]
        )
    return header, rows


# (Metrics attribute, label key, unit): the headline rows, in the order of the PDF
HEADLINE_FIELDS: list[tuple[str, str, str]] = [
    ("self_sufficiency", "self_sufficiency", "ratio"),
    ("self_consumption", "self_consumption", "ratio"),
    ("load_cover_factor", "load_cover_factor", "ratio"),
    ("supply_cover_factor", "supply_cover_factor", "ratio"),
    ("time_autonomy", "time_autonomy", "ratio"),
    ("grid_interaction_index", "grid_interaction_index", "ratio"),
    ("load_wh", "load_wh", "Wh"),
    ("generation_wh", "generation_wh", "Wh"),
    ("import_wh", "grid_import_wh", "Wh"),
    ("export_wh", "grid_export_wh", "Wh"),
    ("charge_wh", "battery_charge_wh", "Wh"),
    ("discharge_wh", "battery_discharge_wh", "Wh"),
    ("net_balance_wh", "net_balance_wh", "Wh"),
    ("net_balance_ratio", "balance_ratio", "ratio"),
    ("peak_import_w", "peak_import_w", "W"),
    ("avoided_co2_kg", "avoided_co2_kg", "kg"),
]


def summary_table(data: ReportData, lang: Lang) -> tuple[list[str], list[list[Cell]]]:
    """Metric, label, unit, value of the scope (netted) and of the sum of its sites alone."""
    header = ["metric", "label", "unit", "scope_value", "sum_of_sites_value"]
    r = data.result

    def get(m: Metrics | None, attr: str) -> float | None:
        return None if m is None else _num(getattr(m, attr))

    rows: list[list[Cell]] = [
        [attr, label(lang, key), unit, get(r.metrics, attr), get(r.sum_of_sites, attr)]
        for attr, key, unit in HEADLINE_FIELDS
    ]
    for src, wh in r.metrics.generation_by_source_wh.items():
        rows.append([f"generation_{src}_wh", label(lang, f"source.{src}"), "Wh", _num(wh), None])
    rows.append(["sharing_gain_wh", label(lang, "sharing.gain"), "Wh", _num(r.sharing_gain_wh), None])
    if r.battery is not None:
        rows.append(
            ["battery_hours", label(lang, "battery_hours"), "h", _num(r.battery.hours_at_current_deficit), None]
        )
    c = r.coverage
    rows.append(["coverage_energy_ratio", label(lang, "coverage"), "ratio", _num(c.ratio), None])
    for attr, key in [
        ("measured_share", "coverage.measured"),
        ("integrated_share", "coverage.integrated"),
        ("imputed_share", "coverage.imputed"),
        ("missing_share", "coverage.missing"),
    ]:
        rows.append([f"coverage_{attr}", label(lang, key), "ratio", _num(getattr(c, attr)), None])
    return header, rows


def to_csv(data: ReportData, table: Table = "intervals") -> bytes:
    header, rows = interval_table(data) if table == "intervals" else day_table(data)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(["" if c is None else c for c in row] for row in rows)
    return buf.getvalue().encode("utf-8")


def _sheet(wb: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))


def to_xlsx(data: ReportData, lang: Lang = "fr") -> bytes:
    """A workbook with sheets ``report`` (what, when, how), ``summary``, ``days``, ``intervals``
    (written in openpyxl's streaming mode: a city-year is 35,040 rows)."""
    wb = Workbook(write_only=True)
    info = wb.create_sheet("report")
    for key, value in [
        ("scope", data.scope),
        ("scope_name", data.scope_name),
        ("period", data.period.label),
        ("period_start_local", data.period.start.isoformat()),
        ("period_end_local", data.period.end.isoformat()),
        ("generated_utc", data.generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("interval_s", data.interval_s),
        ("method_version", data.method_version),
        ("coverage_complete", data.result.coverage.complete),
        ("emission_factor_g_per_kwh", data.emission_factor_g_per_kwh),
        ("flags", " ".join(data.result.flags)),
    ]:
        info.append([key, value])
    _sheet(wb, "summary", *summary_table(data, lang))
    _sheet(wb, "days", *day_table(data))
    _sheet(wb, "intervals", *interval_table(data))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
