"""Fixtures of tests/journals: a store's settings on both backends (a SQLite file, a real influxd)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.factory import open_store


@pytest.fixture(params=["sqlite", "influxdb"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, unique_name: str, influxd: Influxd) -> StoreSettings:
    if request.param == "sqlite":
        return StoreSettings(backend="sqlite", path=str(tmp_path / "store.sqlite"))
    settings = StoreSettings(backend="influxdb", url=influxd.url, database=unique_name)
    open_store(settings).close()  # the store creates its database
    return settings
