"""Every route against both real backends, with the keys of the roles that may call it."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from tests.autonomy.conftest import CityData
from tests.autonomy.stored_data import DAY_MS, T0
from tests.dashboard_api.conftest import NOW_DEVICE, auth
from ville_autonome.autonomy_queries import compute_autonomy

STAFF, OPERATOR, VIEWER, ADMIN = auth("staff"), auth("operator"), auth("viewer"), auth("admin")


async def test_health_needs_no_key_and_names_the_store(client: httpx.AsyncClient, city: CityData) -> None:
    r = await client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["store"]


async def test_live_returns_the_latest_value_of_each_device_and_quantity(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/live", headers=VIEWER)
    assert r.status_code == 200
    rows = [v for v in r.json()["values"] if v["device"] == NOW_DEVICE and v["quantity"] == "active_power_w"]
    assert len(rows) == 1
    assert rows[0]["value"] == 3000.0
    assert rows[0]["unit"] == "W"
    assert rows[0]["site"] == "town"


async def test_topology_has_roles_and_health(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/topology", headers=VIEWER)
    assert r.status_code == 200
    devices = {d["id"]: d for dist in r.json()["districts"] for s in dist["sites"] for d in s["devices"]}
    assert devices["town-load"]["status"] == "online"
    assert devices["sun-pv"]["status"] == "offline"
    assert devices["sun-pv"]["source"] == "pv"
    assert devices["river-grid"]["status"] == "unknown"
    assert devices["sun-battery"]["capacity_wh"] == 20000


async def test_device_health_details(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/devices/health", headers=OPERATOR)
    assert r.status_code == 200
    pv = next(h for h in r.json() if h["device"] == "sun-pv")
    assert pv["errors"] == {"timeout": 7}
    assert pv["online"] is False


async def test_raw_series_of_a_device_with_limit(client: httpx.AsyncClient) -> None:
    params = {"device": "sun-pv", "quantity": "active_power_w", "start": str(T0), "end": str(T0 + 3_600_000)}
    r = await client.get("/api/v1/series", params=params, headers=OPERATOR)
    assert r.status_code == 200
    body = r.json()
    assert [p["ts"] for p in body["points"]] == [T0 + i * 450_000 for i in range(8)]
    assert body["unit"] == "W"
    r = await client.get("/api/v1/series", params={**params, "limit": "3"}, headers=OPERATOR)
    assert len(r.json()["points"]) == 3
    assert r.json()["series"][0]["truncated"] is True


async def test_rolled_up_series_of_a_site_and_a_district(client: httpx.AsyncClient) -> None:
    day = {"start": "2026-01-01", "end": "2026-01-02", "resolution": "15m"}
    r = await client.get(
        "/api/v1/series", params={"site": "sun", "quantity": "energy_import_wh", **day}, headers=OPERATOR
    )
    assert r.status_code == 200
    body = r.json()
    assert body["points"] is None
    assert {s["device"] for s in body["series"]} == {"sun-grid", "sun-load", "sun-pv", "sun-battery"}
    grid = next(s for s in body["series"] if s["device"] == "sun-grid")
    assert len(grid["points"]) == 96
    assert grid["points"][0]["ts"] == T0
    r = await client.get(
        "/api/v1/series",
        params={"district": "north", "quantity": "active_power_w", **day, "resolution": "1d"},
        headers=OPERATOR,
    )
    assert r.status_code == 200
    assert {s["device"] for s in r.json()["series"]} == {
        "sun-grid",
        "sun-load",
        "sun-pv",
        "sun-battery",
        "town-grid",
        "town-load",
    }


async def test_site_energy_per_interval_from_counters(client: httpx.AsyncClient, city: CityData) -> None:
    r = await client.get(
        "/api/v1/sites/town/energy", params={"start": str(T0), "end": str(T0 + DAY_MS)}, headers=OPERATOR
    )
    assert r.status_code == 200
    body = r.json()
    assert body["district"] == "north"
    assert len(body["intervals_ms"]) == 96
    load = next(d for d in body["devices"] if d["device"] == "town-load")
    assert load["quantities"] == ["energy_consumed_wh"]
    assert set(load["status"]) == {"measured"}
    # 3000 W + 1000 W·cos over the day: about 72 kWh (the cosine integrates to 0 over 24 h)
    assert sum(load["draw_wh"]) == pytest.approx(72_000, rel=0.01)


@pytest.mark.parametrize("scope", ["city", "district:north", "district:south", "site:sun"])
async def test_autonomy_through_the_api_is_the_engine(client: httpx.AsyncClient, city: CityData, scope: str) -> None:
    params = {"scope": scope, "start": str(city.start_ms), "end": str(city.end_ms), "interval": "15m", "series": "true"}
    r = await client.get("/api/v1/autonomy", params=params, headers=STAFF)
    assert r.status_code == 200, r.text
    body = r.json()
    direct = compute_autonomy(city.store, city.config, scope, city.start_ms, city.end_ms, 900)
    assert body["metrics"] == json.loads(json.dumps(dataclasses.asdict(direct.metrics)))
    assert body["method_version"] == direct.method_version
    assert body["complete"] is True
    assert len(body["series"]["load_wh"]) == DAY_MS * 7 // 900_000
    assert body["coverage"]["ratio"] == 1.0
    if scope.startswith("site:"):
        assert body["sum_of_sites"] is None
    else:
        assert body["sum_of_sites"]["import_wh"] >= body["metrics"]["import_wh"]


async def test_autonomy_at_30_minutes_and_without_series(client: httpx.AsyncClient, city: CityData) -> None:
    params = {"scope": "city", "start": "2026-01-01T00:00:00+01:00", "end": "2026-01-02T00:00:00+01:00"}
    r = await client.get("/api/v1/autonomy", params={**params, "interval": "30m", "series": "false"}, headers=STAFF)
    assert r.status_code == 200
    assert r.json()["interval_s"] == 1800
    assert "series" not in r.json()
    # without the parameter: no series either (a city-year's would be 35,040 rows)
    r = await client.get("/api/v1/autonomy", params=params, headers=STAFF)
    assert r.status_code == 200
    assert "series" not in r.json()


async def test_gaps_and_prometheus_metrics(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/gaps", headers=OPERATOR)
    assert r.status_code == 200
    assert r.json()["gaps"] == [{"gateway": "gw-1", "first_seq": 4, "last_seq": 6, "missing": 3}]
    await client.get("/api/v1/live", headers=VIEWER)
    r = await client.get("/metrics", headers=OPERATOR)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert 'va_gateway_missing_envelopes{gateway="gw-1"} 3' in r.text
    assert 'va_api_requests_total{route="/api/v1/live",method="GET",status="200"} 1' in r.text
    assert 'va_api_request_duration_seconds_count{route="/api/v1/live"} 1' in r.text


async def test_configuration_view_redacts_secrets(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/config", headers=ADMIN)
    assert r.status_code == 200
    keys = r.json()["services"]["api"]["keys"]
    assert keys
    assert all(k["sha256"] == "**********" for k in keys)


async def test_stream_sends_readings_and_district_autonomy(client: httpx.AsyncClient, city: CityData) -> None:
    from tests.autonomy.stored_data import KEYS

    r = await client.get("/api/v1/stream", params={"api_key": KEYS["viewer"], "max_events": "2", "poll_s": "0.2"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [block for block in r.text.split("\n\n") if block.startswith("event:")]
    names = [e.split("\n")[0].removeprefix("event: ") for e in events]
    assert names[0] == "reading"
    data = [json.loads(e.split("\n")[1].removeprefix("data: ")) for e in events]
    assert data[0]["device"] == NOW_DEVICE
    r = await client.get("/api/v1/stream", params={"api_key": KEYS["viewer"], "max_events": "2", "poll_s": "0.2"})
    assert "event: autonomy" in r.text
    scopes = json.loads(r.text.split("event: autonomy\ndata: ")[1].split("\n")[0])
    assert [d["scope"] for d in scopes] == ["district:north", "district:south", "city"]
    assert [d["district"] for d in scopes] == ["north", "south", None]
    city = scopes[-1]
    assert city["load_wh"] == pytest.approx(sum(d["load_wh"] for d in scopes[:-1]))


async def test_openapi_document_lists_every_route_with_examples(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()
    paths = set(doc["paths"])
    for p in (
        "/api/v1/health",
        "/api/v1/live",
        "/api/v1/stream",
        "/api/v1/topology",
        "/api/v1/devices/health",
        "/api/v1/series",
        "/api/v1/sites/{site}/energy",
        "/api/v1/autonomy",
        "/api/v1/gaps",
        "/api/v1/config",
        "/metrics",
    ):
        assert p in paths
    assert "example" in json.dumps(doc["paths"]["/api/v1/autonomy"])
