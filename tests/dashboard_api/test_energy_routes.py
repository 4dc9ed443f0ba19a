"""The dashboard's energy routes on both real backends: bars by calendar period, the previous
period, mean power over a range, and one device's details; the viewer key reads the charts."""

from __future__ import annotations

import httpx
import pytest

from tests.autonomy.conftest import CityData
from tests.autonomy.stored_data import DAY_MS, T0
from tests.dashboard_api.conftest import auth
from ville_autonome.autonomy_queries import compute_autonomy

VIEWER, OPERATOR = auth("viewer"), auth("operator")
DAY2 = T0 + DAY_MS  # 2026-01-02 00:00 in Paris


def _sum(values: list[float | None]) -> float:
    return sum(v for v in values if v is not None)


async def test_a_day_in_hourly_bars_adds_up_to_the_engine_s_day(client: httpx.AsyncClient, city: CityData) -> None:
    r = await client.get(
        "/api/v1/energy", params={"scope": "city", "period": "day", "date": "2026-01-02"}, headers=VIEWER
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start_ms"], body["end_ms"]) == (DAY2, DAY2 + DAY_MS)
    assert (body["previous_date"], body["next_date"]) == ("2026-01-01", "2026-01-03")
    bars = body["bars"]
    assert [b["label"] for b in bars[:2]] == ["2026-01-02T00:00", "2026-01-02T01:00"]
    assert len(bars) == 24
    engine = compute_autonomy(city.store, city.config, "city", DAY2, DAY2 + DAY_MS, 900).metrics
    totals = body["totals"]
    assert totals["load_wh"] == pytest.approx(engine.load_wh)
    assert totals["self_sufficiency"] == pytest.approx(engine.self_sufficiency)
    # the bars are the period cut in hours: they add up to it, source by source
    assert _sum([b["totals"]["load_wh"] for b in bars]) == pytest.approx(engine.load_wh)
    for src, wh in engine.generation_by_source_wh.items():
        assert _sum([b["totals"]["generation_by_source_wh"].get(src, 0.0) for b in bars]) == pytest.approx(wh)
    # a bar's self-sufficiency is the engine's over its intervals, never an average of ratios
    hour = compute_autonomy(city.store, city.config, "city", DAY2 + 12 * 3_600_000, DAY2 + 13 * 3_600_000, 900)
    assert bars[12]["totals"]["self_sufficiency"] == pytest.approx(hour.metrics.self_sufficiency)
    # the previous day and the change, computed on the server
    prev = body["previous"]
    assert prev["date"] == "2026-01-01"
    assert len(prev["bars"]) == 24
    before = compute_autonomy(city.store, city.config, "city", T0, DAY2, 900).metrics
    assert body["change"]["load"] == pytest.approx(engine.load_wh / before.load_wh - 1)
    # the flow diagram's links come from the engine's attribution and balance the load
    into_load = sum(link["value"] for link in body["links"] if link["target"] == "load")
    assert into_load == pytest.approx(engine.load_wh, rel=1e-6)


async def test_a_week_before_the_data_has_missing_bars_not_zeros(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/v1/energy", params={"scope": "district:north", "period": "week", "date": "2026-01-02"}, headers=VIEWER
    )
    assert r.status_code == 200, r.text
    bars = r.json()["bars"]
    assert [b["label"] for b in bars] == [f"2025-12-{d}" for d in (29, 30, 31)] + [f"2026-01-0{d}" for d in range(1, 5)]
    # the data starts on 31 December 00:00: before it, no figure. The reading on the boundary closes the
    # last interval of the 30th (docs/metrics.md "Interval boundaries"), but alone it measured nothing:
    # the 30th has no figure either, never a measured 0 Wh
    assert [b["totals"] is None for b in bars] == [True, True, False, False, False, False, False]
    assert bars[0]["missing_intervals"] == bars[0]["intervals"] == 96
    assert bars[1]["missing_intervals"] == 96
    assert bars[2]["missing_intervals"] == 0


@pytest.mark.parametrize(("period", "date", "n"), [("month", "2026-01-15", 31), ("year", "2026-06-01", 12)])
async def test_months_and_years(client: httpx.AsyncClient, period: str, date: str, n: int) -> None:
    r = await client.get("/api/v1/energy", params={"period": period, "date": date, "compare": "false"}, headers=VIEWER)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["bars"]) == n
    assert body["previous"] is None
    assert body["bars"][0]["label"] == ("2026-01-01" if period == "month" else "2026-01")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"period": "decade"}, "period"), ({"date": "2026-13-01"}, "date"), ({"scope": "district:atlantis"}, "scope")],
)
async def test_bad_parameters_are_named(client: httpx.AsyncClient, params: dict[str, str], parameter: str) -> None:
    r = await client.get("/api/v1/energy", params=params, headers=VIEWER)
    assert r.status_code == 400
    assert r.json()["parameter"] == parameter


async def test_power_over_a_day_is_the_engine_s_energy_per_interval_in_watts(
    client: httpx.AsyncClient, city: CityData
) -> None:
    params = {"scope": "site:sun", "start": "2026-01-02T00:00[Europe/Paris]", "end": "2026-01-03"}
    r = await client.get("/api/v1/power", params=params, headers=VIEWER)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start_ms"], body["end_ms"], body["resolution"]) == (DAY2, DAY2 + DAY_MS, "interval")
    assert (body["start_local"], body["end_local"]) == ("2026-01-02T00:00", "2026-01-03T00:00")
    series = compute_autonomy(city.store, city.config, "site:sun", DAY2, DAY2 + DAY_MS, 900).series
    assert body["times_ms"] == series.start_ms.tolist()
    for i in (0, 40, 95):
        assert body["load_w"][i] == pytest.approx(series.load_wh[i] * 4)
        grid = (series.import_wh[i] - series.export_wh[i]) * 4
        assert body["grid_w"][i] == pytest.approx(grid, abs=1e-6)


async def test_power_over_a_month_comes_in_days_and_a_preset_is_resolved_on_the_server(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/power", params={"start": "2025-12-15", "end": "2026-01-20"}, headers=VIEWER)
    body = r.json()
    assert body["resolution"] == "1d"
    assert len(body["times_ms"]) == 36
    assert body["load_w"][0] is None  # before the data: null (never 0)
    assert body["load_w"][17] is not None
    assert body["load_w"][17] > 0
    r = await client.get("/api/v1/power", params={"preset": "yesterday"}, headers=VIEWER)
    body = r.json()
    assert body["start_local"].endswith("T00:00")
    assert body["end_local"].endswith("T00:00")
    assert body["end_ms"] - body["start_ms"] in (23 * 3_600_000, DAY_MS, 25 * 3_600_000)
    r = await client.get("/api/v1/power", params={"preset": "soon"}, headers=VIEWER)
    assert r.status_code == 400
    assert r.json()["parameter"] == "preset"


async def test_device_details_give_registers_and_health_to_an_operator(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/devices/sun-pv/details", headers=OPERATOR)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["site"], body["district"], body["gateway"], body["protocol"]) == ("sun", "north", "gw-1", "modbus-tcp")
    assert body["profile"] == "sunspec-meter-203"
    power = next(x for x in body["registers"] if x["quantity"] == "active_power_w")
    assert power["source"].startswith("holding ")
    assert power["scale"].startswith("10^")
    assert body["health"]["errors"] == {"timeout": 7}
    assert (await client.get("/api/v1/devices/sun-pv/details", headers=VIEWER)).status_code == 403
    assert (await client.get("/api/v1/devices/atlantis/details", headers=OPERATOR)).status_code == 404
