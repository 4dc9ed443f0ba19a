"""A week of the small test city in each real backend (SQLite file, real influxd), once per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.autonomy.stored_data import DAY_MS, T0, fill, make_config
from tests.support.services import Influxd
from tests.support.stores import settings_for
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
    config = make_config()
    store = open_store(settings_for(backend, tmp, influxd, rollup_refresh_s=3600))
    fill(store, config, T0 - DAY_MS, T0 + days * DAY_MS)
    return store, config


@pytest.fixture(scope="module")
def city(store_backend: str, tmp_path_factory: pytest.TempPathFactory, influxd: Influxd) -> Iterator[CityData]:
    store, config = open_filled(store_backend, tmp_path_factory.mktemp("city"), influxd)
    yield CityData(store_backend, store, config, T0, T0 + DAYS * DAY_MS)
    store.close()
