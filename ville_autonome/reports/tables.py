"""Report tables as CSV and XLSX: per-interval and per-day, units in the headers.

Headers are machine-readable names ending with their unit (``load_wh``, ``soc_pct``,
``self_sufficiency_ratio``), the same in every language; ``reports.schema`` describes each column
(Table Schema). Times are given twice: UTC and Europe/Paris local time, so that a row is
unambiguous on the days clocks change. An empty cell is a value that does not exist or was not
measured — never zero: an interval in which a device of the scope sent no data has empty flow
cells (its figures would be partial; the period's totals, in the summary, count what was
measured, with the coverage), and so has a day without any data.

XLSX (:mod:`reports.workbook`) keeps the same raw values (Wh, W, ratios) and displays them with
number formats (kWh, MWh, %); CSV writes them as plain numbers.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, date, datetime

import numpy as np

from ville_autonome.autonomy import Metrics
from ville_autonome.autonomy.flows import site_flows
from ville_autonome.reports.labels import Lang, label
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.options import Table

Cell = str | float | int | bool | datetime | date | None

INTERVAL_FLOWS = (
    "load_wh",
    "generation_wh",
    "battery_charge_wh",
    "battery_discharge_wh",
    "grid_import_wh",
    "grid_export_wh",
    "local_supply_wh",
    "grid_supply_wh",
    "self_sufficiency_ratio",
)
INTERVAL_COLUMNS = ("start_utc", "start_local", *INTERVAL_FLOWS, "soc_pct", "coverage_share")
DAY_COLUMNS = (
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
)


def _num(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(v)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def complete_intervals(data: ReportData) -> np.ndarray:
    """Per interval: every device of the scope has data (else its flows would be partial)."""
    s = data.result.series
    known = np.isfinite(s.load_wh)
    if data.inputs is None:
        return known
    w0 = data.inputs.warmup
    for site in data.inputs.sites:
        known &= site_flows(site, data.inputs.window).counted[w0:]
    return known


def interval_rows(data: ReportData) -> list[list[Cell]]:
    """One row per interval: UTC and local start (aware datetimes), flows, state of charge, coverage."""
    s = data.result.series
    ok = complete_intervals(data)
    columns = [s.load_wh, s.generation_wh, s.charge_wh, s.discharge_wh, s.import_wh, s.export_wh,
               s.local_supply_wh, s.grid_supply_wh, s.self_sufficiency]  # fmt: skip
    flows = np.where(ok, np.vstack(columns), np.nan).T.tolist()
    soc = data.soc_pct.tolist()
    cov = s.coverage.tolist()
    rows: list[list[Cell]] = []
    for i, ms in enumerate(s.start_ms.tolist()):
        utc = _utc(ms)
        values = [None if math.isnan(v) else v for v in flows[i]]
        soc_i = soc[i] if i < len(soc) and math.isfinite(soc[i]) else None
        rows.append([utc, utc.astimezone(data.period.tz), *values, soc_i, _num(cov[i])])
    return rows


def _day_values(m: Metrics | None) -> list[float | None]:
    if m is None:
        return [None] * 11
    return [_num(m.load_wh), _num(m.generation_wh), _num(m.charge_wh), _num(m.discharge_wh), _num(m.import_wh),
            _num(m.export_wh), _num(m.local_supply_wh), _num(m.self_sufficiency), _num(m.self_consumption),
            _num(m.time_autonomy), _num(m.peak_import_w)]  # fmt: skip


def day_rows(data: ReportData) -> list[list[Cell]]:
    return [[d.day.isoformat(), *_day_values(d.metrics), _num(d.coverage)] for d in data.days]


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
    ("net_balance_ratio", "balance_ratio", "1"),
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


def _csv_cell(c: Cell, tz_local: bool) -> str | float | int:
    if c is None:
        return ""
    if isinstance(c, datetime):
        return (
            c.strftime("%Y-%m-%dT%H:%M:%SZ") if c.utcoffset() == UTC.utcoffset(None) and not tz_local else c.isoformat()
        )
    if isinstance(c, bool):
        return str(c).lower()
    if isinstance(c, date):
        return c.isoformat()
    return c


def to_csv(data: ReportData, table: Table = "intervals") -> bytes:
    if table == "intervals":
        header: tuple[str, ...] = INTERVAL_COLUMNS
        rows = [[_csv_cell(c, i == 1) for i, c in enumerate(row)] for row in interval_rows(data)]
    else:
        header = DAY_COLUMNS
        rows = [[_csv_cell(c, False) for c in row] for row in day_rows(data)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")
