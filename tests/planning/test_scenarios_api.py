"""``POST /api/v1/scenarios`` and ``GET /api/v1/trajectory`` on the real API over a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.dashboard.server import KEYS, ApiServer, with_keys
from ville_autonome.configuration import PlatformConfig
from ville_autonome.storage.base import Store

PERIOD = "2026-10-24..2026-10-26"


@pytest.fixture
def api(store: Store, city_store: tuple[PlatformConfig, Path]) -> Iterator[httpx.Client]:
    config = city_store[0].model_copy(deep=True)
    data = config.model_dump(mode="python")
    data["city"].update(latitude=49.894, longitude=2.302)
    data["targets"] = [{"scope": "district:saint-leu", "self_sufficiency": {2026: 0.5, 2030: 0.7}}]
    config = PlatformConfig.model_validate(data)
    with ApiServer(with_keys(config), store) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {KEYS['staff']}"
        yield client


def test_no_change_gives_todays_figures_and_a_battery_raises_self_sufficiency(api: httpx.Client) -> None:
    auto = api.get(
        "/api/v1/autonomy",
        params={"scope": "district:saint-leu", "start": "2026-10-24", "end": "2026-10-27", "series": "false"},
    )
    assert auto.status_code == 200, auto.text
    today = auto.json()["metrics"]
    zero = api.post("/api/v1/scenarios", json={"scope": "district:saint-leu", "period": PERIOD})
    assert zero.status_code == 200, zero.text
    body = zero.json()
    rows = {r["metric"]: r for r in body["comparison"]}
    for metric in ("self_sufficiency", "import_wh", "export_wh", "load_wh", "avoided_co2_kg"):
        assert rows[metric]["before"] == pytest.approx(today[metric], rel=1e-12)
        assert rows[metric]["after"] == pytest.approx(today[metric], rel=1e-12)
    more = api.post(
        "/api/v1/scenarios",
        json={
            "scope": "district:saint-leu",
            "period": PERIOD,
            "storage": [{"site": "saint-leu-housing", "capacity_kwh": 200, "power_kw": 50}],
            "load": [{"site": "saint-leu-housing", "change_pct": -10}],
        },
    ).json()
    rows = {r["metric"]: r for r in more["comparison"]}
    assert rows["self_sufficiency"]["after"] > rows["self_sufficiency"]["before"]
    assert rows["load_wh"]["after"] < rows["load_wh"]["before"]
    [battery] = more["batteries"]
    assert battery["cycles_per_year"] > 0
    assert more["exported_surplus_wh"] == rows["export_wh"]["after"]


def test_city_scenario_gives_each_district_and_a_sizing(api: httpx.Client) -> None:
    resp = api.post(
        "/api/v1/scenarios",
        json={
            "scope": "city",
            "period": PERIOD,
            "pv": [{"site": "saint-leu-housing", "added_kwp": 50}],
            "wind": [{"site": "campus", "added_kw": 10}],
            "sizing": {"site": "campus", "target_self_sufficiency": 0.99},
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [d["name"] for d in body["districts"]] == ["Citadelle", "Saint-Leu"]
    # the site has no PV: pvlib's model; the city measures no wind: the rooftop unit's power curve
    assert body["assumptions"] == ["pv_modelled:saint-leu-housing", "wind_modelled:campus"]
    assert body["sizing"]["target"] == 0.99
    assert body["sizing"]["evaluations"] >= 2


@pytest.mark.parametrize(
    ("body", "status", "parameter"),
    [
        ({"scope": "district:saint-leu", "pv": [{"site": "campus", "added_kwp": 5}]}, 400, "pv[0].site"),
        ({"scope": "district:atlantis"}, 400, "scope"),
        ({"scope": "city", "period": "2099"}, 400, "period"),
        (
            {"scope": "city", "storage": [{"site": "campus", "capacity_kwh": -1, "power_kw": 1}]},
            422,
            "storage.0.capacity_kwh",
        ),
        ({"scope": "city", "colour": "green"}, 422, "colour"),
        ({"scope": "city", "hydro": [{"device": "cit-pv", "head_gain_pct": 10}]}, 400, "hydro[0].device"),
    ],
)
def test_bad_bodies_are_named(api: httpx.Client, body: dict[str, object], status: int, parameter: str) -> None:
    resp = api.post("/api/v1/scenarios", json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["parameter"] == parameter


def test_scenarios_and_trajectory_need_the_staff_role(api: httpx.Client) -> None:
    for role, status in (("viewer", 403), ("operator", 403)):
        headers = {"Authorization": f"Bearer {KEYS[role]}"}
        assert api.post("/api/v1/scenarios", json={"scope": "city"}, headers=headers).status_code == status
        assert api.get("/api/v1/trajectory", headers=headers).status_code == status
    assert api.post("/api/v1/scenarios", json={"scope": "city"}, headers={"Authorization": ""}).status_code == 401


def test_trajectory_has_months_years_and_the_target_path(api: httpx.Client) -> None:
    resp = api.get("/api/v1/trajectory", params={"scope": "district:saint-leu"})
    assert resp.status_code == 200, resp.text
    t = resp.json()
    assert t["first_data"].startswith("2026-10-2")
    assert [m["label"] for m in t["months"]][:1] == ["2026-10"]
    october = t["months"][0]
    assert 0 < october["self_sufficiency"] < 1
    assert october["generation_by_source_wh"]["hydro"] > 0
    assert t["targets"] == [{"year": 2026, "self_sufficiency": 0.5}, {"year": 2030, "self_sufficiency": 0.7}]
    assert t["next_target"] is not None
    # the months after the data (November: no data) have no figures, never zeros
    assert all(m["self_sufficiency"] is None for m in t["months"][1:])
    # the year holds two days of data: its figures carry the engine's flags, naming the devices
    [year] = [y for y in t["years"] if y["label"] == "2026"]
    assert year["coverage"] < 0.9
    assert "below_coverage_threshold" in year["flags"]
    assert any(f.startswith("missing_data:") for f in year["flags"])
    # ... and, measured below the threshold, it sets neither the pace nor the path's start
    assert t["latest_self_sufficiency"] is None
    assert t["measured_pace_per_year"] is None
    assert t["path"][0]["year"] == 2027.0  # the first target (2026), reached at the end of 2026
