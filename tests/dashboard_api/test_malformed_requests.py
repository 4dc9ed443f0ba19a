"""A corpus of malformed requests, each answered with a 4xx whose JSON names the parameter or the
problem, on both real backends (SQLite, the real influxd) holding a day of the small test city.

Keys (401), roles (403), scopes, time ranges, limits, unknown ids, injection attempts in every
identifier and query parameter, oversize bodies (413), wrong methods (405), unknown routes (404).
After every injection attempt the database holds exactly what it held before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.autonomy.conftest import open_filled
from tests.autonomy.stored_data import DAY_MS, T0
from tests.dashboard_api.conftest import add_recent, auth
from tests.support.services import Influxd
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.storage.base import Store

S, E = str(T0), str(T0 + DAY_MS)
DAY = {"start": S, "end": E}
PV = {"device": "sun-pv", "quantity": "active_power_w"}
ADMIN = auth("admin")


@pytest.fixture(scope="module")
def filled(
    store_backend: str, tmp_path_factory: pytest.TempPathFactory, influxd: Influxd
) -> Iterator[tuple[Store, PlatformConfig]]:
    store, config = open_filled(store_backend, tmp_path_factory.mktemp("malformed"), influxd, days=1)
    add_recent(store, T0 + DAY_MS)
    yield store, config
    store.close()


@pytest.fixture
async def client(filled: tuple[Store, PlatformConfig]) -> AsyncIterator[httpx.AsyncClient]:
    store, config = filled
    transport = httpx.ASGITransport(app=create_app(config, store))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
        yield c


def assert_names(
    r: httpx.Response, status: int, parameter: str | None = None, error: str | None = None, *, echo: bool = False
) -> None:
    """``status``, a JSON error body, naming ``parameter`` when given, never echoing a long input whole
    (unless ``echo``)."""
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["error"], str)
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert echo or len(body["detail"]) < 600, "the detail echoes a long input whole"
    if parameter is not None:
        assert body["parameter"] == parameter, body
    if error is not None:
        assert body["error"] == error, body


# ------------------------------------------------------------------ keys and roles

ROUTES = ["/api/v1/live", "/api/v1/series?device=sun-pv&quantity=active_power_w", "/api/v1/autonomy", "/metrics"]
BAD_KEYS = [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer not-a-key"},
    {"Authorization": "Basic dmlld2VyOmtleQ=="},
    {"Authorization": auth("admin")["Authorization"] + "x"},
    {"X-API-Key": ""},
    {"X-API-Key": "' OR 1=1 --"},
    {"X-API-Key": "k" * 10_000},
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("headers", BAD_KEYS, ids=[f"key{i}" for i in range(len(BAD_KEYS))])
async def test_a_missing_or_unknown_key_is_401(client: httpx.AsyncClient, route: str, headers: dict[str, str]) -> None:
    r = await client.get(route, headers=headers)
    assert_names(r, 401, error="unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_a_key_in_the_query_is_only_for_the_stream(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/live", params={"api_key": auth("admin")["Authorization"].split()[1]})
    assert_names(r, 401, error="unauthorized")


@pytest.mark.parametrize(
    ("role", "route", "needed"),
    [
        ("viewer", "/api/v1/series?device=sun-pv&quantity=active_power_w", "operator"),
        ("viewer", "/api/v1/gaps", "operator"),
        ("operator", "/api/v1/autonomy", "staff"),
        ("operator", "/api/v1/reports?scope=city&period=2026-01-01&format=csv", "staff"),
        ("staff", "/api/v1/config", "admin"),
    ],
)
async def test_a_role_below_the_route_is_403_naming_the_role(
    client: httpx.AsyncClient, role: str, route: str, needed: str
) -> None:
    r = await client.get(route, headers=auth(role))
    assert_names(r, 403, error="forbidden")
    assert needed in r.json()["detail"]


# ------------------------------------------------------------------ parameters

BAD_PARAMETERS: list[tuple[str, dict[str, str], int, str]] = [
    # unknown or malformed scopes
    ("/api/v1/autonomy", {"scope": "district:atlantis", **DAY}, 400, "scope"),
    ("/api/v1/autonomy", {"scope": "site:", **DAY}, 400, "scope"),
    ("/api/v1/autonomy", {"scope": "planet:earth", **DAY}, 400, "scope"),
    ("/api/v1/autonomy", {"scope": "", **DAY}, 400, "scope"),
    ("/api/v1/autonomy", {"scope": "CITY", **DAY}, 400, "scope"),
    ("/api/v1/reports", {"scope": "district:atlantis", "period": "2026-01-01", "format": "csv"}, 400, "scope"),
    # start after end, empty range
    ("/api/v1/autonomy", {"start": E, "end": S}, 400, "start"),
    ("/api/v1/series", {**PV, "start": S, "end": S}, 400, "start"),
    ("/api/v1/sites/sun/energy", {"start": "2026-01-02", "end": "2026-01-01"}, 400, "start"),
    # malformed dates
    ("/api/v1/autonomy", {"start": "2026-02-30"}, 400, "start"),
    ("/api/v1/autonomy", {"end": "2026-01-01T25:00:00Z"}, 400, "end"),
    ("/api/v1/autonomy", {"start": "last tuesday"}, 400, "start"),
    ("/api/v1/autonomy", {"start": "2026-01-01T00:00:00"}, 400, "start"),  # no offset
    ("/api/v1/autonomy", {"start": "1767222000"}, 400, "start"),  # seconds, not milliseconds
    ("/api/v1/autonomy", {"end": "99999999999999999999999"}, 400, "end"),
    ("/api/v1/autonomy", {"end": "-1"}, 400, "end"),
    ("/api/v1/series", {**PV, "start": "NaN"}, 400, "start"),
    ("/api/v1/series", {**PV, "end": "2026-01-01T00:00:00+99:00"}, 400, "end"),
    ("/api/v1/reports", {"scope": "city", "period": "2026-13", "format": "csv"}, 400, "period"),
    # over the limits (tests/autonomy/stored_data.py: 400 days, 5 000 points)
    ("/api/v1/autonomy", {"start": S, "end": str(T0 + 401 * DAY_MS)}, 400, "end"),
    ("/api/v1/autonomy", {"start": S, "end": str(T0 + 60 * DAY_MS), "interval": "15m"}, 400, "interval"),
    ("/api/v1/series", {**PV, "limit": "5001"}, 400, "limit"),
    ("/api/v1/series", {**PV, "limit": "0"}, 422, "limit"),
    ("/api/v1/series", {**PV, "limit": "-5"}, 422, "limit"),
    ("/api/v1/series", {**PV, "resolution": "15m", "start": S, "end": str(T0 + 60 * DAY_MS)}, 400, "resolution"),
    ("/api/v1/sites/sun/energy", {"start": S, "end": str(T0 + 60 * DAY_MS)}, 400, "interval"),
    ("/api/v1/reports", {"scope": "city", "period": "2026-01-01..2027-06-01", "format": "csv"}, 400, "period"),
    # unknown devices, sites, districts, gateways, quantities
    ("/api/v1/series", {"device": "moon-pv", "quantity": "active_power_w"}, 400, "device"),
    ("/api/v1/series", {"site": "moon", "quantity": "active_power_w"}, 400, "site"),
    ("/api/v1/series", {"district": "moon", "quantity": "active_power_w"}, 400, "district"),
    ("/api/v1/series", {"device": "sun-pv", "quantity": "power"}, 400, "quantity"),
    ("/api/v1/series", {"device": "sun-pv"}, 422, "quantity"),
    ("/api/v1/gaps", {"gateway": "gw-moon"}, 400, "gateway"),
    ("/api/v1/sites/moon/energy", {}, 404, "site"),
    # wrong types and unknown choices
    ("/api/v1/autonomy", {"series": "perhaps"}, 422, "series"),
    ("/api/v1/autonomy", {"interval": "1h"}, 400, "interval"),
    ("/api/v1/series", {**PV, "resolution": "1y"}, 400, "resolution"),
    ("/api/v1/stream", {"poll_s": "often"}, 422, "poll_s"),
    ("/api/v1/stream", {"max_events": "0"}, 422, "max_events"),
    ("/api/v1/reports", {"scope": "city", "period": "2026-01-01", "format": "docx"}, 422, "format"),
]


@pytest.mark.parametrize(("route", "params", "status", "parameter"), BAD_PARAMETERS)
async def test_a_bad_parameter_is_a_4xx_naming_it(
    client: httpx.AsyncClient, route: str, params: dict[str, str], status: int, parameter: str
) -> None:
    r = await client.get(route, params=params, headers=ADMIN)
    assert_names(r, status, parameter)
    assert parameter in r.json()["detail"] or parameter in ("start", "end", "period")


# ------------------------------------------------------------------ injection attempts

PAYLOADS = [
    "sun-pv'",
    "sun-pv' OR 1=1 --",
    "' OR '1'='1",
    '" OR ""="',
    "x'; DROP MEASUREMENT readings; --",
    "sun-pv; DELETE FROM readings",
    "sun-pv\nDROP DATABASE x",
    "sun-pv\r\n",
    "/^.*$/",
    "sun-pv\\",
    "${jndi:ldap://x}",
    "sun-pv\x00",
    "énergie-☀-电",
    "\U0001d530\U0001d532\U0001d52b",  # mathematical letters that NFKC folds to "sun"
    "x" * 10_000,
]
PAYLOAD_IDS = [f"p{i}" for i in range(len(PAYLOADS))]
# (route, base parameters, the parameter that gets the payload, expected status)
TARGETS: list[tuple[str, dict[str, str], str, int]] = [
    ("/api/v1/series", {"quantity": "active_power_w", **DAY}, "device", 400),
    ("/api/v1/series", {"quantity": "active_power_w", **DAY}, "site", 400),
    ("/api/v1/series", {"quantity": "active_power_w", **DAY}, "district", 400),
    ("/api/v1/series", {"device": "sun-pv", **DAY}, "quantity", 400),
    ("/api/v1/series", {**PV, "end": E}, "start", 400),
    ("/api/v1/series", {**PV, "start": S}, "end", 400),
    ("/api/v1/series", {**PV, **DAY}, "resolution", 400),
    ("/api/v1/series", {**PV, **DAY}, "limit", 422),
    ("/api/v1/autonomy", {**DAY}, "scope", 400),
    ("/api/v1/autonomy", {"scope": "district:north", **DAY}, "interval", 400),
    ("/api/v1/autonomy", {"scope": "city", "end": E}, "start", 400),
    ("/api/v1/autonomy", {**DAY}, "series", 422),
    ("/api/v1/sites/sun/energy", {"end": E}, "start", 400),
    ("/api/v1/sites/sun/energy", {**DAY}, "interval", 400),
    ("/api/v1/gaps", {}, "gateway", 400),
    ("/api/v1/stream", {}, "poll_s", 422),
    ("/api/v1/stream", {}, "autonomy_every_s", 422),
    ("/api/v1/stream", {}, "max_events", 422),
    ("/api/v1/reports", {"period": "2026-01-01", "format": "csv"}, "scope", 400),
    ("/api/v1/reports", {"scope": "city", "format": "csv"}, "period", 400),
    ("/api/v1/reports", {"scope": "city", "period": "2026-01-01"}, "format", 422),
    ("/api/v1/reports", {"scope": "city", "period": "2026-01-01", "format": "csv"}, "lang", 422),
    ("/api/v1/reports", {"scope": "city", "period": "2026-01-01", "format": "csv"}, "table", 422),
]
# (route, parameter) pairs allowed to quote an input whole: none (reports.periods caps a period at 64 characters)
ECHOED: set[tuple[str, str]] = set()
TARGET_IDS = [f"{route.rsplit('/', 1)[1]}-{p}" for route, _, p, _ in TARGETS]


async def send_injection(
    client: httpx.AsyncClient, route: str, base: dict[str, str], parameter: str, payload: str
) -> httpx.Response:
    return await client.get(route, params={**base, parameter: payload}, headers=ADMIN)


@pytest.mark.parametrize(("route", "base", "parameter", "status"), TARGETS, ids=TARGET_IDS)
async def test_an_injection_in_a_query_parameter_is_a_4xx_naming_it(
    client: httpx.AsyncClient, route: str, base: dict[str, str], parameter: str, status: int
) -> None:
    for payload in PAYLOADS:
        r = await send_injection(client, route, base, parameter, payload)
        assert_names(r, status, parameter, echo=(route, parameter) in ECHOED)


PATH_PAYLOADS = {i: p for i, p in zip(PAYLOAD_IDS, PAYLOADS, strict=True) if "/" not in p}  # "/" is another route


@pytest.mark.parametrize("payload", list(PATH_PAYLOADS.values()), ids=list(PATH_PAYLOADS))
async def test_an_injection_in_the_site_path_is_a_404_naming_the_site(client: httpx.AsyncClient, payload: str) -> None:
    r = await client.get(f"/api/v1/sites/{quote(payload, safe='')}/energy", params=DAY, headers=ADMIN)
    assert_names(r, 404, "site", error="not_found")


def contents(store: Store) -> dict[str, Any]:
    """Everything the store holds: every series in full, health, sequence gaps, counters."""
    latest = store.latest()
    series = {
        (v.context.device, v.quantity): store.series(
            v.context.device, v.quantity, T0 - 2 * DAY_MS, T0 + 3 * DAY_MS, limit=1_000_000
        )
        for v in latest
    }
    return {
        "latest": sorted((v.context.device, v.quantity, v.ts_ms, v.value) for v in latest),
        "series": series,
        "health": sorted(store.health(), key=lambda h: h.device),
        "gaps": store.gaps(),
        "counters": store.service_stats(),
    }


async def test_injections_leave_the_database_as_it_was(
    client: httpx.AsyncClient, filled: tuple[Store, PlatformConfig]
) -> None:
    store, _ = filled
    before = contents(store)
    assert len(before["series"]) > 10
    for route, base, parameter, status in TARGETS:
        for payload in PAYLOADS:
            assert (await send_injection(client, route, base, parameter, payload)).status_code == status
    for payload in PAYLOADS:
        await client.get(f"/api/v1/sites/{quote(payload, safe='')}/energy", params=DAY, headers=ADMIN)
        if payload.isascii() and payload.isprintable():  # what a header can carry
            assert (await client.get("/api/v1/live", headers={"X-API-Key": payload})).status_code == 401
    assert contents(store) == before
    assert store.ping()


# ------------------------------------------------------------------ bodies, methods, routes


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/live", content=b"{" * 1_000_001, headers=ADMIN)
    assert_names(r, 413, error="too_large")
    assert "1000000 bytes" in r.json()["detail"]
    r = await client.get("/api/v1/live", headers={**ADMIN, "Content-Length": "999999999999"})
    assert_names(r, 413, error="too_large")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("route", ["/api/v1/live", "/api/v1/autonomy", "/api/v1/health", "/metrics"])
async def test_a_wrong_method_is_405_with_allow(client: httpx.AsyncClient, method: str, route: str) -> None:
    r = await client.request(method, route, headers=ADMIN)
    assert_names(r, 405)
    assert "method" in r.json()["detail"].lower()
    assert "GET" in r.headers["allow"]


@pytest.mark.parametrize(
    "route", ["/api/v1/nope", "/api/v2/live", "/api/v1/sites/sun", "/api/v1/live/x", "/api/v1/%27%20OR%201%3D1"]
)
async def test_an_unknown_route_is_404(client: httpx.AsyncClient, route: str) -> None:
    r = await client.get(route, headers=ADMIN)
    assert_names(r, 404)
    assert "not found" in r.json()["detail"].lower()
