"""A report of the default scenario (config/amiens.yaml) from the simulators' backfill, through the
real API: its numbers equal GET /api/v1/autonomy for the same scope and period."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

from tests.dashboard.server import KEYS, ApiServer, with_keys
from tests.reports.pdfcheck import ink_share, page_texts, render_page
from ville_autonome.configuration import PlatformConfig, load_config
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.reports.periods import parse_period
from ville_autonome.simulators.backfill import generate
from ville_autonome.storage.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10-05"


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> PlatformConfig:
    path = tmp_path_factory.mktemp("backfill") / "amiens.sqlite"
    config = load_config(ROOT / "config" / "amiens.yaml")
    data = config.model_dump(mode="python")
    data["services"]["store"] = {"backend": "sqlite", "path": str(path)}
    config = with_keys(PlatformConfig.model_validate(data))
    contexts = {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in config.devices()}
    p = parse_period(PERIOD)
    store = open_store(config.services.store)
    try:
        batch: list[StoredReading] = []
        for r in generate(config, p.start_ms - 900_000, p.end_ms + 900_000, step_s=300):
            batch.append(StoredReading(contexts[r.device], r.quantity, r.ts_ms, r.value, r.quality))
            if len(batch) >= 20_000:
                store.write(batch)
                batch = []
        store.write(batch)
        store.refresh_rollups()
    finally:
        store.close()
    return config


@pytest.fixture
def api(backfilled: PlatformConfig) -> Iterator[httpx.Client]:
    store = open_store(backfilled.services.store)
    try:
        with ApiServer(backfilled, store) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
            client.headers["Authorization"] = f"Bearer {KEYS['staff']}"
            yield client
    finally:
        store.close()


@pytest.mark.parametrize("scope", ["city", "district:gare-la-vallee"])
def test_backfilled_report_equals_the_api(api: httpx.Client, scope: str, tmp_path: Path) -> None:
    p = parse_period(PERIOD)
    auto = api.get("/api/v1/autonomy", params={"scope": scope, "start": PERIOD, "end": "2026-10-06", "series": "false"})
    assert auto.status_code == 200, auto.text
    expected = auto.json()
    assert expected["start_ms"] == p.start_ms
    assert expected["metrics"]["load_wh"] > 0
    xlsx = api.get("/api/v1/reports", params={"scope": scope, "period": PERIOD, "format": "xlsx"})
    assert xlsx.status_code == 200, xlsx.text
    summary = {r[0]: r for r in openpyxl.load_workbook(io.BytesIO(xlsx.content))["summary"].iter_rows(values_only=True)}
    for metric in (
        "self_sufficiency",
        "self_consumption",
        "supply_cover_factor",
        "grid_interaction_index",
        "load_wh",
        "generation_wh",
        "import_wh",
        "export_wh",
        "net_balance_wh",
        "avoided_co2_kg",
    ):
        assert summary[metric][3] == pytest.approx(expected["metrics"][metric], rel=1e-12, abs=1e-9), metric
    pdf = api.get("/api/v1/reports", params={"scope": scope, "period": PERIOD, "format": "pdf", "lang": "en"})
    assert pdf.status_code == 200
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.content)
    # page 3 holds the mean-power chart, drawn (a line chart over the day inks about 2 % of the page)
    assert "Mean power" in page_texts(path)[2] or "Puissance moyenne" in page_texts(path)[2]
    assert ink_share(render_page(path, 3, tmp_path / "charts")) > 0.01
