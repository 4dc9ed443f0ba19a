from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

from tests.dashboard.server import KEYS, ApiServer, with_keys
from tests.reports.pdfcheck import ink_share, page_texts, render_page
from ville_autonome.configuration import PlatformConfig
from ville_autonome.reports.periods import parse_period
from ville_autonome.storage.base import Store


@pytest.fixture
def api(store: Store, city_store: tuple[PlatformConfig, Path]) -> Iterator[httpx.Client]:
    with ApiServer(with_keys(city_store[0]), store) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {KEYS['staff']}"
        yield client


@pytest.mark.parametrize(
    ("scope", "period"), [("district:saint-leu", "2026-10-25"), ("city", "2026-10-24..2026-10-26")]
)
def test_report_numbers_equal_the_autonomy_api(api: httpx.Client, scope: str, period: str) -> None:
    p = parse_period(period)
    auto = api.get("/api/v1/autonomy", params={"scope": scope, "start": p.start_ms, "end": p.end_ms, "series": "false"})
    assert auto.status_code == 200, auto.text
    expected = auto.json()
    resp = api.get("/api/v1/reports", params={"scope": scope, "period": period, "format": "xlsx", "lang": "en"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(resp.content))
    summary = {row[0]: row for row in wb["summary"].iter_rows(min_row=2, values_only=True)}
    for metric in (
        "self_sufficiency",
        "self_consumption",
        "load_cover_factor",
        "time_autonomy",
        "import_wh",
        "export_wh",
        "load_wh",
        "generation_wh",
        "peak_import_w",
        "avoided_co2_kg",
    ):
        # XLSX keeps 15-16 significant digits
        assert summary[metric][3] == pytest.approx(expected["metrics"][metric], rel=1e-12, abs=1e-9), metric
        assert summary[metric][4] == pytest.approx(expected["sum_of_sites"][metric], rel=1e-12, abs=1e-9), metric
    info = {row[0]: row[1] for row in wb["read_me"].iter_rows(min_row=2, values_only=True)}
    assert info["method_version"] == expected["method_version"]
    # the per-interval CSV adds up to the same totals
    csv_resp = api.get("/api/v1/reports", params={"scope": scope, "period": period, "format": "csv"})
    assert 'filename="autonomy-' in csv_resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_resp.text)))
    assert sum(float(r["grid_import_wh"]) for r in rows) == pytest.approx(expected["metrics"]["import_wh"])


def test_pdf_from_the_api_renders(api: httpx.Client, tmp_path: Path) -> None:
    resp = api.get("/api/v1/reports", params={"scope": "site:iko-hydro", "period": "2026-10-25"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(resp.content)
    # page 3 holds the mean-power chart, drawn (a line chart over the day inks about 2 % of the page)
    assert "Mean power" in page_texts(pdf)[2] or "Puissance moyenne" in page_texts(pdf)[2]
    assert ink_share(render_page(pdf, 3, tmp_path / "charts")) > 0.01


@pytest.mark.parametrize(
    ("params", "parameter", "says"),
    [
        ({"scope": "district:atlantis", "period": "2026-10"}, "scope", "unknown district 'atlantis'"),
        ({"scope": "city", "period": "2026-10-32"}, "period", "day is out of range"),
        ({"scope": "city", "period": "2020..2026"}, "period", "more than services.api.max_range_days"),
        ({"scope": "city", "period": "2026-10", "format": "docx"}, "format", ""),
    ],
)
def test_bad_parameters_are_named(api: httpx.Client, params: dict[str, str], parameter: str, says: str) -> None:
    resp = api.get("/api/v1/reports", params=params)
    assert resp.status_code in (400, 422)
    body = resp.json()
    assert body["parameter"] == parameter
    assert says in body["detail"]


def test_reports_need_the_staff_role(api: httpx.Client) -> None:
    params = {"scope": "city", "period": "2026-10-25"}
    assert api.get("/api/v1/reports", params=params, headers={"Authorization": ""}).status_code == 401
    forbidden = api.get("/api/v1/reports", params=params, headers={"Authorization": f"Bearer {KEYS['operator']}"})
    assert forbidden.status_code == 403
