"""The Amiens scenario from the simulators' backfill, stored in each real backend and served by
uvicorn over real HTTP: the API gives the same metrics as the engine computes directly.

SQLite holds a whole month (January 2026). InfluxDB holds one day: its rollup refresh costs about
6 s per day of this scenario on the test machine (one query per 15-min bucket), which a month
would turn into minutes; the same code path is exercised either way."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.dashboard_api.serving import serve_in_thread
from tests.support.services import Influxd
from tests.support.stores import settings_for
from ville_autonome.autonomy import compute_scope
from ville_autonome.autonomy_queries import scope_inputs
from ville_autonome.configuration.loader import load_config
from ville_autonome.configuration.services import ApiKey
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.deps import digest
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.simulators.backfill import counter_resolutions, generate
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
START = 1_767_222_000_000  # 2026-01-01T00:00+01:00
DAY_MS = 86_400_000
PERIOD_DAYS = {"sqlite": 31, "influxdb": 1}
STAFF_KEY = "e2e-staff-key-0123456789"


def amiens_config() -> PlatformConfig:
    config = load_config(ROOT / "config" / "amiens.yaml", environ={})
    api = config.services.api.model_copy(update={"keys": [ApiKey(name="e2e", role="staff", sha256=digest(STAFF_KEY))]})
    services = config.services.model_copy(update={"api": api})
    return config.model_copy(update={"services": services})


# what the autonomy engine reads (the backfill also has voltages, flows, heads, states…)
ENGINE_QUANTITIES = frozenset(
    {
        "energy_import_wh",
        "energy_export_wh",
        "energy_produced_wh",
        "energy_consumed_wh",
        "energy_charged_wh",
        "energy_discharged_wh",
        "soc_pct",
    }
)


def store_backfill(store: Store, config: PlatformConfig, start_ms: int, end_ms: int) -> int:
    """The backfill's readings the engine reads, written in 5 000-point batches."""
    ctx = {dev.id: DeviceContext(d.id, s.id, dev.id, dev.role, dev.source or "") for d, s, dev in config.devices()}
    batch: list[StoredReading] = []
    written = 0
    for r in generate(config, start_ms, end_ms, 900):
        if r.quantity not in ENGINE_QUANTITIES:
            continue
        batch.append(StoredReading(ctx[r.device], r.quantity, r.ts_ms, r.value, r.quality))
        if len(batch) == 5000:
            written += store.write(batch).written
            batch = []
    written += store.write(batch).written if batch else 0
    store.refresh_rollups()
    return written


@pytest.fixture(scope="module")
def month(
    store_backend: str, tmp_path_factory: pytest.TempPathFactory, influxd: Influxd
) -> Iterator[tuple[Store, PlatformConfig, int]]:
    config = amiens_config()
    store = open_store(settings_for(store_backend, tmp_path_factory.mktemp("e2e"), influxd, rollup_refresh_s=3600))
    # one interval before the month gives the counters' values at its start
    end = START + PERIOD_DAYS[store_backend] * DAY_MS
    store_backfill(store, config, START - 900_000, end)
    yield store, config, end
    store.close()


@pytest.fixture
def base_url(month: tuple[Store, PlatformConfig, int]) -> Iterator[str]:
    store, config, _ = month
    with serve_in_thread(create_app(config, store)) as url:
        yield url


@pytest.mark.parametrize("scope", ["city", "district:saint-leu", "district:gare-la-vallee", "site:quai-innovation"])
def test_a_stored_month_gives_the_engines_metrics_over_http(
    month: tuple[Store, PlatformConfig, int], base_url: str, scope: str
) -> None:
    store, config, end = month
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {STAFF_KEY}"}, timeout=60) as http:
        r = http.get(
            "/api/v1/autonomy",
            params={"scope": scope, "start": "2026-01-01", "end": str(end), "interval": "15m", "series": "true"},
        )
    assert r.status_code == 200, r.text
    body = r.json()
    direct = compute_scope(
        scope_inputs(store, config, scope, START, end, 900),
        interval_s=900,
        emission_factor_g_per_kwh=config.services.metrics.grid_emission_factor_g_per_kwh,
        coverage_threshold=config.services.metrics.coverage_threshold,
    )
    assert body["metrics"] == json.loads(json.dumps(dataclasses.asdict(direct.metrics)))
    assert body["start_ms"] == START
    assert body["end_ms"] == end
    assert len(body["series"]["load_wh"]) == (end - START) // 900_000
    assert body["complete"] is True
    assert body["coverage"]["missing_share"] == 0.0
    m = body["metrics"]
    assert 0.0 <= m["self_sufficiency"] <= 1.0
    assert m["load_wh"] > 0
    # the backfill's sites balance exactly: no grid meter had to be derived
    assert not [f for f in body["flags"] if f.startswith("grid_derived")]
    series = body["series"]
    # the backfill's counters are floored to their registers' resolution (simulators/backfill.py):
    # an interval's balance holds to one step of each counter of the scope
    steps = sum(2 * step for step in counter_resolutions(config).values())
    for i in range(0, len(series["load_wh"]), 97):
        lhs = series["generation_wh"][i] + series["discharge_wh"][i] + series["import_wh"][i]
        rhs = series["load_wh"][i] + series["charge_wh"][i] + series["export_wh"][i]
        assert lhs == pytest.approx(rhs, rel=1e-6, abs=steps)
    if body["sum_of_sites"] is not None:
        assert m["self_sufficiency"] >= body["sum_of_sites"]["self_sufficiency"] - 1e-12


def test_health_and_openapi_over_http(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        assert http.get("/api/v1/health").json()["status"] == "ok"
        assert http.get("/api/v1/openapi.json").status_code == 200
        assert http.get("/api/v1/live").status_code == 401


def test_stream_over_http_sends_district_autonomy(base_url: str) -> None:
    params = {"api_key": STAFF_KEY, "max_events": "1", "autonomy_every_s": "1"}
    with httpx.Client(base_url=base_url, timeout=30) as http, http.stream("GET", "/api/v1/stream", params=params) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    assert "event: autonomy" in text
    data = json.loads(text.split("event: autonomy\ndata: ")[1].split("\n")[0])
    assert {d["district"] for d in data if d["scope"] != "city"} == {
        "hopital-nord",
        "citadelle",
        "saint-leu",
        "gare-la-vallee",
    }
    assert data[-1]["scope"] == "city"
