from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.reports.citydata import city_config, fill
from ville_autonome.configuration import PlatformConfig
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def city_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PlatformConfig, Path]]:
    """A SQLite store holding 2026-10-23 .. 2026-10-27 (Paris) of the small city; closed before
    the tests open it again, so that no test inherits another's threads."""
    path = tmp_path_factory.mktemp("city") / "city.sqlite"
    config = city_config(str(path))
    store = open_store(config.services.store)
    try:
        fill(store, config, datetime(2026, 10, 23, tzinfo=PARIS), datetime(2026, 10, 28, tzinfo=PARIS))
    finally:
        store.close()
    return config, path


@pytest.fixture
def store(city_store: tuple[PlatformConfig, Path]) -> Iterator[Store]:
    s = open_store(city_store[0].services.store)
    yield s
    s.close()
