from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import openpyxl
import pytest

from tests.reports.sample import sample_report
from ville_autonome.reports.schema import table_schema
from ville_autonome.reports.tables import DAY_COLUMNS, INTERVAL_COLUMNS, to_csv
from ville_autonome.reports.workbook import to_xlsx

# 24, 25 (clocks go back on 25 October) and 24 hours of 15-minute intervals
N_INTERVALS = (24 + 25 + 24) * 4


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_interval_csv_has_units_in_headers_and_both_clocks() -> None:
    data = sample_report(missing=0)
    rows = _csv(to_csv(data, "intervals"))
    assert len(rows) == N_INTERVALS
    assert list(rows[0])[:4] == ["start_utc", "start_local", "load_wh", "generation_wh"]
    assert {"grid_import_wh", "local_supply_wh", "self_sufficiency_ratio", "soc_pct", "coverage_share"} <= set(rows[0])
    assert rows[0]["start_utc"] == "2026-10-23T22:00:00Z"
    assert rows[0]["start_local"] == "2026-10-24T00:00:00+02:00"
    assert rows[-1]["start_local"] == "2026-10-26T23:45:00+01:00"
    assert sum(float(r["load_wh"]) for r in rows) == pytest.approx(data.result.metrics.load_wh)
    assert sum(float(r["grid_import_wh"]) for r in rows) == pytest.approx(data.result.metrics.import_wh)


def test_a_silent_meter_leaves_empty_cells_never_zero() -> None:
    # the housing's load meter is silent for the first 10 intervals: the scope's flows there are partial
    rows = _csv(to_csv(sample_report(missing=10), "intervals"))
    for r in rows[:10]:
        assert r["load_wh"] == r["grid_import_wh"] == r["self_sufficiency_ratio"] == ""
        assert float(r["coverage_share"]) < 1  # the coverage says why
    assert all(r["load_wh"] != "" for r in rows[10:])
    assert "0.0" not in {r["load_wh"] for r in rows[:10]}


def test_missing_values_are_empty_cells_not_zero() -> None:
    rows = _csv(to_csv(sample_report(battery=False), "intervals"))
    assert {r["soc_pct"] for r in rows} == {""}


def test_a_day_without_data_is_empty_not_zero() -> None:
    # a year with three days of data: the other days have no figures at all
    rows = _csv(
        to_csv(sample_report("2026-10-23..2026-10-27", missing=0, data_days=("2026-10-24", "2026-10-26")), "days")
    )
    by_day = {r["day_local"]: r for r in rows}
    assert by_day["2026-10-23"]["load_wh"] == by_day["2026-10-23"]["self_sufficiency_ratio"] == ""
    assert by_day["2026-10-23"]["coverage_share"] == "0.0"
    assert float(by_day["2026-10-25"]["load_wh"]) > 0


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


def test_xlsx_opens_right_numbers_dates_formats_and_a_read_me() -> None:
    data = sample_report()
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(data, "en")))
    assert wb.sheetnames == ["read_me", "summary", "days", "intervals"]
    info = {r[0]: r[1] for r in wb["read_me"].iter_rows(min_row=2, values_only=True)}
    assert info["scope"] == "district:saint-leu"
    assert info["period"] == "2026-10-24..2026-10-26"
    assert info["method_version"] == data.method_version
    assert info["flag missing_data:slh-load"].startswith("Logements (compteur général): The meter sent no data")
    summary = {r[0].value: r for r in wb["summary"].iter_rows(min_row=2)}
    ss = summary["self_sufficiency"]
    assert ss[1].value == "Self-sufficiency (autarky)"
    assert ss[3].value == pytest.approx(data.result.metrics.self_sufficiency)
    assert ss[3].number_format == "0.0%"
    assert data.result.sum_of_sites is not None
    assert ss[4].value == pytest.approx(data.result.sum_of_sites.self_sufficiency)
    load = summary["load_wh"]
    assert load[2].value == "Wh"
    assert isinstance(load[3].value, float | int)  # a number, not text
    assert load[3].number_format.endswith('"\u00a0MWh"')  # 1.26 MWh: shown in MWh, kept in Wh
    assert wb["summary"].freeze_panes == "A2"
    intervals = wb["intervals"]
    assert intervals.max_row == 1 + N_INTERVALS
    assert intervals.freeze_panes == "A2"
    assert [c.value for c in intervals[1]][:4] == ["start_utc", "start_local", "utc_offset", "load_wh"]
    first = intervals[2]
    assert first[0].value == datetime(2026, 10, 23, 22, 0)  # a real date (UTC)
    assert first[1].value == datetime(2026, 10, 24, 0, 0)  # and local time
    assert first[0].number_format == "yyyy-mm-dd hh:mm"
    assert first[2].value == "+02:00"
    assert first[3].value is None  # the silent meter's intervals: empty, not 0
    assert intervals[20][3].number_format == '#,##0.00,"\u00a0kWh"'
    assert intervals.column_dimensions["A"].width == 17
    days = wb["days"]
    assert days["A2"].value == datetime(2026, 10, 24) or days["A2"].value == date(2026, 10, 24)
    assert days["I1"].value == "self_sufficiency_ratio"
    assert days["I2"].number_format == "0.0%"


@pytest.mark.parametrize(("table", "columns"), [("intervals", INTERVAL_COLUMNS), ("days", DAY_COLUMNS)])
def test_table_schema_describes_every_csv_column(table: str, columns: tuple[str, ...]) -> None:
    schema = table_schema(table, columns)  # type: ignore[arg-type]
    header = next(csv.reader(io.StringIO(to_csv(sample_report(), table).decode())))  # type: ignore[arg-type]
    assert [f["name"] for f in schema["fields"]] == header
    assert schema["missingValues"] == [""]
    assert all(f["description"] for f in schema["fields"])
    json.dumps(schema)
