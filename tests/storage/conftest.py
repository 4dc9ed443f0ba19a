"""Both backends behind one ``store`` fixture: the same tests run against SQLite and a real influxd."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store


@pytest.fixture(params=["sqlite", "influxdb"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path, unique_name: str, influxd: Influxd) -> StoreSettings:
    # influxd is a session fixture requested up front (started before the per-test leak check)
    if request.param == "sqlite":
        return StoreSettings(backend="sqlite", path=str(tmp_path / "store.sqlite"), rollup_refresh_s=0)
    return StoreSettings(backend="influxdb", url=influxd.url, database=unique_name, rollup_refresh_s=0)


@pytest.fixture
def store(store_settings: StoreSettings) -> Iterator[Store]:
    s = open_store(store_settings)
    yield s
    s.close()
