"""A week of the small test city in each real backend (SQLite file, real influxd), once per module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.autonomy.stored_data import DAY_MS, T0, fill, make_config
from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

DAYS = 7


@dataclass
class CityData:
    backend: str
    store: Store
    config: PlatformConfig
    start_ms: int
    end_ms: int


def open_filled(backend: str, tmp: Path, influxd: Influxd, days: int = DAYS) -> tuple[Store, PlatformConfig]:
    if backend == "sqlite":
        settings = StoreSettings(backend="sqlite", path=str(tmp / "city.sqlite"), rollup_refresh_s=3600)
    else:
        settings = StoreSettings(
            backend="influxdb", url=influxd.url, database="t" + uuid.uuid4().hex[:10], rollup_refresh_s=3600
        )
    config = make_config()
    store = open_store(settings)
    fill(store, config, T0 - DAY_MS, T0 + days * DAY_MS)
    return store, config


@pytest.fixture(scope="module", params=["sqlite", "influxdb"])
def city(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, influxd: Influxd
) -> Iterator[CityData]:
    store, config = open_filled(request.param, tmp_path_factory.mktemp("city"), influxd)
    yield CityData(request.param, store, config, T0, T0 + DAYS * DAY_MS)
    store.close()
