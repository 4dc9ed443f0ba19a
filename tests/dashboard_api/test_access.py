"""Keys and roles on every route, rate limits, CORS and the body limit (empty stores of both kinds)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.autonomy.stored_data import KEYS, make_config
from tests.dashboard_api.conftest import auth
from tests.support.services import Influxd
from tests.support.stores import settings_for
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.deps import RateLimiter, find_key
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

ROLES = ["viewer", "operator", "staff", "admin"]
# route → the least role that may call it
ROUTES = {
    "/api/v1/live": "viewer",
    "/api/v1/topology": "viewer",
    "/api/v1/whoami": "viewer",
    "/api/v1/stream?max_events=1": "viewer",
    "/api/v1/devices/health": "operator",
    "/api/v1/series?device=sun-pv&quantity=active_power_w": "operator",
    "/api/v1/sites/sun/energy": "operator",
    "/api/v1/gaps": "operator",
    "/metrics": "operator",
    "/api/v1/autonomy?scope=site:sun": "staff",
    "/api/v1/config": "admin",
}


@pytest.fixture(scope="module")
def empty_store(store_backend: str, tmp_path_factory: pytest.TempPathFactory, influxd: Influxd) -> Iterator[Store]:
    store = open_store(settings_for(store_backend, tmp_path_factory.mktemp("acl"), influxd))
    yield store
    store.close()


async def client_for(config: PlatformConfig, store: Store) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(config, store)), base_url="http://api.test")


@pytest.fixture
async def client(empty_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(make_config(), empty_store) as c:
        yield c


@pytest.mark.parametrize("route", list(ROUTES))
async def test_every_route_but_health_needs_a_key(client: httpx.AsyncClient, route: str) -> None:
    r = await client.get(route)
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = await client.get(route, headers={"Authorization": "Bearer not-a-key"})
    assert r.status_code == 401
    assert r.json()["detail"] == "unknown API key"


async def test_whoami_gives_the_role_of_the_key(client: httpx.AsyncClient) -> None:
    for role in ROLES:
        r = await client.get("/api/v1/whoami", headers=auth(role))
        assert r.status_code == 200
        assert r.json() == {"name": role, "role": role}  # the keys of make_config are named for their role


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("role", ROLES)
async def test_roles_are_ordered(client: httpx.AsyncClient, route: str, role: str) -> None:
    r = await client.get(route, headers=auth(role))
    if ROLES.index(role) >= ROLES.index(ROUTES[route]):
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403
        assert ROUTES[route] in r.json()["detail"]


async def test_x_api_key_header_works_and_query_key_only_on_streams(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/topology", headers={"X-API-Key": KEYS["viewer"]})).status_code == 200
    assert (await client.get("/api/v1/topology", params={"api_key": KEYS["viewer"]})).status_code == 401
    r = await client.get("/api/v1/stream", params={"api_key": KEYS["viewer"], "max_events": "1"})
    assert r.status_code == 200


def test_keys_are_found_by_digest_only() -> None:
    keys = make_config().services.api.keys
    assert find_key(keys, KEYS["staff"]) is not None
    assert find_key(keys, hashlib.sha256(KEYS["staff"].encode()).hexdigest()) is None  # the digest is not a key
    assert find_key(keys, "") is None


async def test_rate_limit_per_key_answers_429_with_retry_after(empty_store: Store) -> None:
    config = make_config(extra_api="    rate_limit_per_minute: 3\n")
    async with await client_for(config, empty_store) as c:
        codes = [(await c.get("/api/v1/topology", headers=auth("viewer"))).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = await c.get("/api/v1/topology", headers=auth("viewer"))
        assert int(r.headers["retry-after"]) >= 1
        # another key has its own budget
        assert (await c.get("/api/v1/topology", headers=auth("operator"))).status_code == 200


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.allow("k")[0]
    assert limiter.allow("k")[0]
    allowed, retry = limiter.allow("k")
    assert not allowed
    assert retry == 60.0
    now[0] = 60.5
    assert limiter.allow("k")[0]


async def test_cors_is_closed_by_default_and_opens_for_configured_origins(empty_store: Store) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    async with await client_for(make_config(), empty_store) as c:
        r = await c.get("/api/v1/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        r = await c.options("/api/v1/live", headers=preflight)
        assert "access-control-allow-origin" not in r.headers
    config = make_config(extra_api="    cors_origins: ['https://dashboard.amiens.example']\n")
    async with await client_for(config, empty_store) as c:
        r = await c.get("/api/v1/health", headers={"Origin": "https://dashboard.amiens.example"})
        assert r.headers["access-control-allow-origin"] == "https://dashboard.amiens.example"
        r = await c.get("/api/v1/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


async def test_request_bodies_over_the_limit_are_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/live", content=b"x" * 2_000_000, headers=auth("viewer"))
    assert r.status_code == 413
    assert r.json()["error"] == "too_large"


async def test_health_reports_an_unreachable_store(tmp_path: Path) -> None:
    free = StoreSettings(backend="influxdb", url="http://127.0.0.1:9", database="x", timeout_s=1)
    from ville_autonome.storage.influx_http import InfluxHttp
    from ville_autonome.storage.influx_store import InfluxStore

    store = InfluxStore(InfluxHttp(free.url, timeout_s=1), database="x")
    try:
        async with await client_for(make_config(), store) as c:
            r = await c.get("/api/v1/health")
            assert r.status_code == 503
            assert r.json()["status"] == "degraded"
    finally:
        store.close()
