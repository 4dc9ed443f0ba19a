"""On InfluxDB the autonomy reads rollups as columns, several devices at a time
(``InfluxStore.concurrent_reads``): the same results as reading one device after another through
``Store.intervals`` (as columns), and as the SQLite store holding the same troubled week."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import cast

import pytest

from tests.autonomy.stored_data import DAY_MS, T0, make_config, readings
from tests.autonomy_queries.test_columnar_path import GRIDS, PlainIntervals, with_trouble
from tests.support.services import Influxd
from ville_autonome.autonomy_queries import compute_autonomy
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store
from ville_autonome.storage.influx_store import InfluxStore
from ville_autonome.storage.sqlite_store import SqliteStore


@pytest.fixture(scope="module")
def stores(
    influxd: Influxd, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PlatformConfig, InfluxStore, SqliteStore]]:
    config = make_config()
    influx = open_store(StoreSettings(backend="influxdb", url=influxd.url, database="autonomy_reads"))
    sqlite = SqliteStore(Path(tmp_path_factory.mktemp("reads")) / "city.sqlite")
    assert isinstance(influx, InfluxStore)
    points = list(with_trouble(readings(config, T0 - DAY_MS, T0 + 4 * DAY_MS, 450)))
    for store in (influx, sqlite):
        for i in range(0, len(points), 5000):
            store.write(points[i : i + 5000])
        store.refresh_rollups()
    yield config, influx, sqlite
    influx.close()
    sqlite.close()


@pytest.mark.parametrize(("start", "end", "interval_s"), GRIDS)
@pytest.mark.parametrize("scope", ["city", "district:north"])
def test_concurrent_column_reads_give_what_one_by_one_reads_give(
    stores: tuple[PlatformConfig, InfluxStore, SqliteStore], scope: str, start: int, end: int, interval_s: int
) -> None:
    config, influx, sqlite = stores
    assert InfluxStore.concurrent_reads
    fast = compute_autonomy(influx, config, scope, start, end, interval_s)
    slow = compute_autonomy(cast(Store, PlainIntervals(influx)), config, scope, start, end, interval_s)
    assert (fast.metrics, fast.sum_of_sites, fast.sites) == (slow.metrics, slow.sum_of_sites, slow.sites)
    assert (fast.coverage, fast.flags, fast.sharing_gain_wh) == (slow.coverage, slow.flags, slow.sharing_gain_wh)
    for f in fields(fast.series):
        assert getattr(fast.series, f.name).tobytes() == getattr(slow.series, f.name).tobytes(), f.name
    # the embedded store, same readings: the same autonomy (a mean may differ in its last bits)
    other = compute_autonomy(sqlite, config, scope, start, end, interval_s)
    assert fast.coverage == other.coverage
    assert fast.flags == other.flags
    for f in fields(fast.metrics):
        a, b = getattr(fast.metrics, f.name), getattr(other.metrics, f.name)
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9) if isinstance(a, float) else a == b, f.name
