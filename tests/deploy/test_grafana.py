"""Grafana's provisioned datasource and dashboards (deploy/grafana) against the platform's schema.

Every InfluxQL query of every dashboard runs on a real InfluxDB (the test suite's influxd 1.x:
InfluxQL is the same language on 2.x through its DBRP mapping) holding points written by the
platform's own store, with Grafana's macros expanded; each visible query must return data.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.storage.factory import open_store
from ville_autonome.storage.influx_store import HEALTH, READINGS, ROLLUP_15M, InfluxStore

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_UID = "va-influxdb"
MINUTE_MS = 60_000

DEVICES = [
    DeviceContext("saint-leu", "iko-hydro", "iko-turbine", "production", "hydro"),
    DeviceContext("saint-leu", "iko-hydro", "iko-grid-meter", "grid", ""),
    DeviceContext("gare-la-vallee", "quai-innovation", "qi-wind-roof", "production", "wind"),
    DeviceContext("gare-la-vallee", "quai-innovation", "qi-load", "consumption", ""),
    DeviceContext("gare-la-vallee", "quai-innovation", "qi-grid-meter", "grid", ""),
    DeviceContext("gare-la-vallee", "quai-innovation", "hub-energie-battery", "storage", ""),
]


def _targets(dashboard: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target


def _influxql(dashboard: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(title, t) for title, t in _targets(dashboard) if t["datasource"]["uid"] == DATASOURCE_UID]


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict[str, Any]]:
    assert DASHBOARDS, "no dashboard in deploy/grafana/dashboards"
    return {p.stem: json.loads(p.read_text()) for p in DASHBOARDS}


def test_the_three_dashboards_exist_with_unique_uids(dashboards: dict[str, dict[str, Any]]) -> None:
    assert set(dashboards) == {"live-flows", "device-health", "autonomy"}
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids)
    for d in dashboards.values():
        assert d["timezone"] == "Europe/Paris"  # local time in dashboards, UTC in the store
        ids = [p["id"] for p in d["panels"]]
        assert len(set(ids)) == len(ids)


def test_datasource_is_influxql_as_the_read_only_user_from_the_environment() -> None:
    doc = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "influxdb.yaml").read_text())
    (ds,) = doc["datasources"]
    assert ds["uid"] == DATASOURCE_UID
    assert ds["type"] == "influxdb"
    assert ds["url"] == "http://influxdb:8086"
    assert ds["jsonData"]["version"] == "InfluxQL"
    assert ds["jsonData"]["dbName"] == "${VA_INFLUXDB_DATABASE}"
    assert ds["user"] == "${VA_INFLUXDB_USER}"
    assert ds["secureJsonData"] == {"password": "${VA_INFLUXDB_PASSWORD}"}
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "ville-autonome.yaml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"


def test_every_query_uses_the_provisioned_datasource_and_is_bounded(dashboards: dict[str, dict[str, Any]]) -> None:
    for name, d in dashboards.items():
        for title, t in _targets(d):
            uid = t["datasource"]["uid"]
            assert uid in (DATASOURCE_UID, "__expr__"), (name, title)
            if uid == DATASOURCE_UID:
                query = t["query"]
                # an unbounded GROUP BY time() fills buckets up to now(): every query is bounded
                assert "$timeFilter" in query or "now() - " in query, (name, title, query)
                assert not re.search(r'FROM "(?!readings|rollup_15m|device_health|service_counters)', query), query
            else:
                refs = {r["refId"] for _, r in _targets(d) if _ == title}
                assert set(re.findall(r"\$([A-Z])\b", t["expression"])) <= refs, (name, title)


def _expand(query: str, start_ms: int, end_ms: int) -> str:
    """Grafana's macros and template variables ("All" selected), as Grafana substitutes them."""
    districts = "|".join(sorted({d.district for d in DEVICES}))
    sites = "|".join(sorted({d.site for d in DEVICES}))
    return (
        query.replace("$timeFilter", f"time >= {start_ms}ms AND time <= {end_ms}ms")
        .replace("$__interval", "1m")
        .replace("$district", f"({districts})")
        .replace("$site", f"({sites})")
    )


@pytest.fixture(scope="module")
def populated(influxd: Influxd) -> Iterator[tuple[InfluxStore, int, int]]:
    """Two hours of one-minute readings up to a minute ago, their rollups, health and counters."""
    store = open_store(
        StoreSettings(backend="influxdb", url=influxd.url, database=f"grafana_{int(time.time() * 1000)}")
    )
    assert isinstance(store, InfluxStore)
    end_ms = (int(time.time() * 1000) // MINUTE_MS - 1) * MINUTE_MS
    start_ms = end_ms - 120 * MINUTE_MS
    points = []
    for i, ts in enumerate(range(start_ms, end_ms + 1, MINUTE_MS)):
        for n, ctx in enumerate(DEVICES):
            power = {"production": 1000.0 + n, "consumption": 1500.0, "grid": 400.0 - 10 * (i % 80)}.get(
                ctx.role, -50.0
            )
            points.append(StoredReading(ctx, "active_power_w", ts, power))
            if ctx.role == "storage":
                points.append(StoredReading(ctx, "soc_pct", ts, 50.0 + i / 10))
        points.append(StoredReading(DEVICES[0], "head_m", ts, None, Quality.TIMEOUT))
    result = store.write(points)
    assert result.rejected == {}
    store.refresh_rollups()
    store.write_health(
        [
            DeviceHealth(
                d.device, "gw-" + d.district, online=(d.device != "qi-load"), last_seen_ms=end_ms, updated_ms=end_ms
            )
            for d in DEVICES
        ]
    )
    store.write_service_stats("ingest-1", {"received": 10.0, "written": 10.0})
    yield store, start_ms, end_ms
    store.close()


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_every_dashboard_query_runs_and_returns_data(
    path: Path, populated: tuple[InfluxStore, int, int], influxd: Influxd
) -> None:
    store, start_ms, _ = populated
    end_ms = int(time.time() * 1000)  # the dashboards' ranges end "now"
    dashboard = json.loads(path.read_text())
    for variable in dashboard["templating"]["list"]:
        values = store.http.query(_expand(variable["query"], start_ms, end_ms), store.database)
        assert values, (variable["name"], variable["query"])
        assert values[0]["values"], (variable["name"], variable["query"])
    for title, target in _influxql(dashboard):
        series = store.http.query(_expand(target["query"], start_ms, end_ms), store.database)
        got = [v for s in series for row in s["values"] for v in row[1:] if v is not None]
        assert got, f"{path.name}: panel {title!r} query {target['refId']} returned nothing: {target['query']}"


def test_dashboards_read_the_schema_the_store_writes(dashboards: dict[str, dict[str, Any]]) -> None:
    text = json.dumps(dashboards)
    for measurement in (READINGS, ROLLUP_15M, HEALTH):
        assert f'\\"{measurement}\\"' in text
    for tag in ("district", "site", "device", "role", "source", "quantity"):
        assert f'\\"{tag}\\"' in text, tag
