"""Every bad parameter is a 4xx naming it; nothing reaches the store unvalidated."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.autonomy.stored_data import T0, make_config
from tests.dashboard_api.conftest import auth
from tests.dashboard_api.test_access import client_for, empty_store  # noqa: F401  (module fixture)
from ville_autonome.dashboard_api.params import parse_time
from ville_autonome.storage.base import Store

DAY = 86_400_000
S = str(T0)
CASES = [
    # (route, params, status, parameter)
    ("/api/v1/autonomy", {"scope": "town"}, 400, "scope"),
    ("/api/v1/autonomy", {"scope": "district:atlantis"}, 400, "scope"),
    ("/api/v1/autonomy", {"scope": "site:nowhere"}, 400, "scope"),
    ("/api/v1/autonomy", {"scope": "city", "start": str(T0 + DAY), "end": S}, 400, "start"),
    ("/api/v1/autonomy", {"scope": "city", "start": S, "end": S}, 400, "start"),
    ("/api/v1/autonomy", {"scope": "city", "start": S, "end": str(T0 + 401 * DAY)}, 400, "end"),
    ("/api/v1/autonomy", {"scope": "city", "start": S, "end": str(T0 + 60 * DAY)}, 400, "interval"),
    ("/api/v1/autonomy", {"scope": "city", "interval": "5m"}, 400, "interval"),
    ("/api/v1/autonomy", {"scope": "city", "start": "yesterday"}, 400, "start"),
    ("/api/v1/autonomy", {"scope": "city", "end": "2026-13-01"}, 400, "end"),
    ("/api/v1/autonomy", {"scope": "city", "start": "2026-01-01T00:00:00"}, 400, "start"),
    ("/api/v1/autonomy", {"scope": "city", "start": "1767222000"}, 400, "start"),  # seconds, not ms: 1970
    ("/api/v1/autonomy", {"scope": "city", "series": "maybe"}, 422, "series"),
    ("/api/v1/series", {"device": "sun-pv"}, 422, "quantity"),
    ("/api/v1/series", {"device": "sun-pv", "quantity": "power"}, 400, "quantity"),
    ("/api/v1/series", {"quantity": "active_power_w"}, 400, "device"),
    ("/api/v1/series", {"device": "sun-pv", "site": "sun", "quantity": "active_power_w"}, 400, "device"),
    ("/api/v1/series", {"device": "x'; DROP", "quantity": "active_power_w"}, 400, "device"),
    ("/api/v1/series", {"site": "nowhere", "quantity": "active_power_w"}, 400, "site"),
    ("/api/v1/series", {"district": "nowhere", "quantity": "active_power_w"}, 400, "district"),
    ("/api/v1/series", {"device": "sun-pv", "quantity": "active_power_w", "resolution": "1s"}, 400, "resolution"),
    ("/api/v1/series", {"device": "sun-pv", "quantity": "active_power_w", "limit": "0"}, 422, "limit"),
    ("/api/v1/series", {"device": "sun-pv", "quantity": "active_power_w", "limit": "x"}, 422, "limit"),
    ("/api/v1/series", {"device": "sun-pv", "quantity": "active_power_w", "limit": "5001"}, 400, "limit"),
    (
        "/api/v1/series",
        {"device": "sun-pv", "quantity": "active_power_w", "resolution": "15m", "start": S, "end": str(T0 + 90 * DAY)},
        400,
        "resolution",
    ),
    ("/api/v1/sites/nowhere/energy", {}, 404, "site"),
    ("/api/v1/sites/sun/energy", {"interval": "1d"}, 400, "interval"),
    ("/api/v1/sites/sun/energy", {"start": "2026-01-01T00:00:00+25:00"}, 400, "start"),
    ("/api/v1/gaps", {"gateway": "gw-unknown"}, 400, "gateway"),
    ("/api/v1/stream", {"poll_s": "0"}, 422, "poll_s"),
]


@pytest.fixture
async def client(empty_store: Store) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with await client_for(make_config(), empty_store) as c:
        yield c


@pytest.mark.parametrize(("route", "params", "status", "parameter"), CASES)
async def test_bad_parameters_are_named(
    client: httpx.AsyncClient, route: str, params: dict[str, str], status: int, parameter: str
) -> None:
    r = await client.get(route, params=params, headers=auth("admin"))
    assert r.status_code == status, r.text
    body = r.json()
    assert body["parameter"] == parameter
    assert parameter in body["detail"] or parameter in ("start", "end", "device")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2026-01-01T00:00:00Z", 1_767_225_600_000),
        ("2026-01-01T00:00:00+01:00", 1_767_222_000_000),
        ("2026-01-01", 1_767_222_000_000),  # midnight in Europe/Paris
        ("2026-07-01", 1_782_856_800_000),  # summer time: UTC+2
        ("1767222000000", 1_767_222_000_000),
    ],
)
def test_times_are_iso_8601_dates_or_epoch_ms(text: str, ms: int) -> None:
    assert parse_time(text, "start") == ms
