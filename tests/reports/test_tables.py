from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from reports.days import daily_rows
from reports.tables import to_csv, to_xlsx
from tests.reports.sample import sample_report


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_interval_csv_has_units_in_headers_and_both_clocks() -> None:
    data = sample_report()
    rows = _csv(to_csv(data, "intervals"))
    # 24, 25 (clocks go back on 25 October) and 24 hours of 15-minute intervals
    assert len(rows) == (24 + 25 + 24) * 4
    assert list(rows[0])[:4] == ["start_utc", "start_local", "load_wh", "generation_wh"]
    assert {"generation_hydro_wh", "generation_pv_wh", "grid_import_wh", "soc_pct", "measured_share"} <= set(rows[0])
    assert rows[0]["start_utc"] == "2026-10-23T22:00:00Z"
    assert rows[0]["start_local"] == "2026-10-24T00:00:00+02:00"
    assert rows[-1]["start_local"] == "2026-10-26T23:45:00+01:00"
    assert sum(float(r["load_wh"]) for r in rows) == pytest.approx(data.headline.load_wh)


def test_missing_values_are_empty_cells_not_zero() -> None:
    rows = _csv(to_csv(sample_report(battery=False), "intervals"))
    assert {r["soc_pct"] for r in rows} == {""}


def test_day_csv_sums_local_days() -> None:
    data = sample_report()
    rows = _csv(to_csv(data, "days"))
    assert [r["day_local"] for r in rows] == ["2026-10-24", "2026-10-25", "2026-10-26"]
    # the 25-hour day holds 100 intervals
    assert float(rows[1]["load_wh"]) == pytest.approx(100 * 12_000)
    assert 0 <= float(rows[0]["self_sufficiency_ratio"]) <= 1
    assert sum(float(r["grid_import_wh"]) for r in rows) == pytest.approx(data.headline.grid_import_wh)


def test_day_ratios_are_none_without_load() -> None:
    data = sample_report()
    data.flows.load_wh[:] = 0
    assert {d.self_sufficiency for d in daily_rows(data.flows, data.period)} == {None}


def test_xlsx_has_report_summary_days_and_intervals_sheets() -> None:
    data = sample_report()
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(data, "en")))
    assert wb.sheetnames == ["report", "summary", "days", "intervals"]
    info = {r[0]: r[1] for r in wb["report"].iter_rows(values_only=True)}
    assert info["scope"] == "district:saint-leu"
    assert info["period"] == "2026-10-24..2026-10-26"
    assert info["method_version"] == "autonomy-1.0"
    summary = {r[0]: r for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["self_sufficiency"][1] == "Self-sufficiency (autarky)"
    assert summary["self_sufficiency"][3] == pytest.approx(0.4)
    assert summary["self_sufficiency"][4] == pytest.approx(0.3)
    assert summary["load_wh"][2] == "Wh"
    assert wb["intervals"].max_row == 1 + (24 + 25 + 24) * 4
    assert wb["days"]["A1"].value == "day_local"
