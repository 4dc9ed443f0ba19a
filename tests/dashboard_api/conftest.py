"""The API on both real backends: the small test city (tests/autonomy/stored_data.py) stored once
per module in SQLite and in the real influxd, and an HTTP client speaking ASGI to the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.autonomy.conftest import DAYS, CityData, open_filled
from tests.autonomy.stored_data import DAY_MS, KEYS, T0
from tests.support.services import Influxd
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.base import Store

NOW_DEVICE = "town-load"


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def add_recent(store: Store, now_ms: int) -> None:
    """A few readings and health records 'now', for /live, /stream and /topology."""
    ctx = DeviceContext("north", "town", NOW_DEVICE, "consumption", "")
    store.write([StoredReading(ctx, "active_power_w", now_ms - 1000 * i, 3000.0 + i) for i in range(3)])
    store.write_health(
        [
            DeviceHealth("town-load", "gw-1", True, now_ms - 1000, now_ms),
            DeviceHealth("sun-pv", "gw-1", False, now_ms - 3_600_000, now_ms, "timeout", {"timeout": 7}),
        ]
    )
    store.record_sequences("gw-1", [1, 2, 3, 7, 8], worker="w1", received_ms=now_ms)


@pytest.fixture(scope="module")
def city(store_backend: str, tmp_path_factory: pytest.TempPathFactory, influxd: Influxd) -> Iterator[CityData]:
    import time

    store, config = open_filled(store_backend, tmp_path_factory.mktemp("api"), influxd, days=DAYS)
    add_recent(store, int(time.time() * 1000))
    yield CityData(store_backend, store, config, T0, T0 + DAYS * DAY_MS)
    store.close()


@pytest.fixture
async def client(city: CityData) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(city.config, city.store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
        yield c
