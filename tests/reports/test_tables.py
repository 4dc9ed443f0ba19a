from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.reports.sample import sample_report
from ville_autonome.reports.tables import to_csv, to_xlsx

# 24, 25 (clocks go back on 25 October) and 24 hours of 15-minute intervals
N_INTERVALS = (24 + 25 + 24) * 4


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_interval_csv_has_units_in_headers_and_both_clocks() -> None:
    data = sample_report()
    rows = _csv(to_csv(data, "intervals"))
    assert len(rows) == N_INTERVALS
    assert list(rows[0])[:4] == ["start_utc", "start_local", "load_wh", "generation_wh"]
    assert {"grid_import_wh", "local_supply_wh", "self_sufficiency_ratio", "soc_pct", "coverage_share"} <= set(rows[0])
    assert rows[0]["start_utc"] == "2026-10-23T22:00:00Z"
    assert rows[0]["start_local"] == "2026-10-24T00:00:00+02:00"
    assert rows[-1]["start_local"] == "2026-10-26T23:45:00+01:00"
    assert sum(float(r["load_wh"]) for r in rows) == pytest.approx(data.result.metrics.load_wh)
    assert sum(float(r["grid_import_wh"]) for r in rows) == pytest.approx(data.result.metrics.import_wh)


def test_missing_values_are_empty_cells_not_zero() -> None:
    rows = _csv(to_csv(sample_report(battery=False), "intervals"))
    assert {r["soc_pct"] for r in rows} == {""}


def test_day_csv_sums_local_days_with_the_engines_metrics() -> None:
    data = sample_report()
    rows = _csv(to_csv(data, "days"))
    assert [r["day_local"] for r in rows] == ["2026-10-24", "2026-10-25", "2026-10-26"]
    # the 25-hour day holds 100 intervals of 4.3 kWh load
    assert float(rows[1]["load_wh"]) == pytest.approx(100 * 4_300)
    for r in rows:
        assert 0 <= float(r["self_sufficiency_ratio"]) <= 1
    assert sum(float(r["grid_import_wh"]) for r in rows) == pytest.approx(data.result.metrics.import_wh)
    assert sum(float(r["local_supply_wh"]) for r in rows) == pytest.approx(data.result.metrics.local_supply_wh)


def test_xlsx_has_report_summary_days_and_intervals_sheets() -> None:
    data = sample_report()
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(data, "en")))
    assert wb.sheetnames == ["report", "summary", "days", "intervals"]
    info = {r[0]: r[1] for r in wb["report"].iter_rows(values_only=True)}
    assert info["scope"] == "district:saint-leu"
    assert info["period"] == "2026-10-24..2026-10-26"
    assert info["method_version"] == data.method_version
    summary = {r[0]: r for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["self_sufficiency"][1] == "Self-sufficiency (autarky)"
    assert summary["self_sufficiency"][3] == pytest.approx(data.result.metrics.self_sufficiency)
    assert data.result.sum_of_sites is not None
    assert summary["self_sufficiency"][4] == pytest.approx(data.result.sum_of_sites.self_sufficiency)
    assert summary["import_wh"][2] == "Wh"
    assert wb["intervals"].max_row == 1 + N_INTERVALS
    assert wb["days"]["A1"].value == "day_local"
