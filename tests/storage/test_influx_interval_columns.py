"""``InfluxStore.interval_columns``: ``intervals()`` as numpy columns on a real influxd, the same
numbers as its own ``intervals()`` and as the SQLite store's columns for the same readings (the
history and the ranges of tests/storage/test_sqlite_interval_columns.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.test_sqlite_interval_columns import RANGES, SERIES, history
from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.factory import open_store
from ville_autonome.storage.influx_store import InfluxStore
from ville_autonome.storage.rollups import STAT_FIELDS, columns_from_stats
from ville_autonome.storage.sqlite_store import SqliteStore


@pytest.fixture(scope="module")
def stores(influxd: Influxd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InfluxStore, SqliteStore]]:
    influx = open_store(StoreSettings(backend="influxdb", url=influxd.url, database="columns"))
    sqlite = SqliteStore(Path(tmp_path_factory.mktemp("columns")) / "store.sqlite")
    assert isinstance(influx, InfluxStore)
    points = list(history())
    for store in (influx, sqlite):
        assert store.write(points).written == len(points)
        store.refresh_rollups()
    yield influx, sqlite
    influx.close()
    sqlite.close()


@pytest.mark.parametrize(("start", "end", "interval_s"), RANGES)
@pytest.mark.parametrize(("device", "quantity"), SERIES)
def test_influx_columns_hold_the_numbers_of_intervals_and_of_sqlite(
    stores: tuple[InfluxStore, SqliteStore], device: str, quantity: str, start: int, end: int, interval_s: int
) -> None:
    influx, sqlite = stores
    expected = columns_from_stats(influx.intervals(device, quantity, start, end, interval_s))
    got = influx.interval_columns(device, quantity, start, end, interval_s)
    assert list(got) == ["start_ms", *STAT_FIELDS]
    for name in got:
        assert got[name].dtype == expected[name].dtype, name
        assert got[name].tobytes() == expected[name].tobytes(), name
    # the other backend, same readings: the same intervals (means to the last bits of rounding)
    other = sqlite.interval_columns(device, quantity, start, end, interval_s)
    for name in got:
        if name == "mean":
            assert got[name] == pytest.approx(other[name], rel=1e-12), name
        else:
            assert got[name].tobytes() == other[name].tobytes(), name


@pytest.mark.parametrize("fields", [("count", "first", "last", "minimum", "maximum"), ("count", "mean"), ("last",)])
@pytest.mark.parametrize(("start", "end", "interval_s"), RANGES[:5])
def test_only_the_asked_fields_come_back(
    stores: tuple[InfluxStore, SqliteStore], fields: tuple[str, ...], start: int, end: int, interval_s: int
) -> None:
    influx, _ = stores
    whole = influx.interval_columns("sun-grid", "energy_import_wh", start, end, interval_s)
    got = influx.interval_columns("sun-grid", "energy_import_wh", start, end, interval_s, fields=fields)
    assert list(got) == ["start_ms", *fields]
    for name in got:
        assert got[name].tobytes() == whole[name].tobytes(), name


def test_unknown_fields_are_refused(stores: tuple[InfluxStore, SqliteStore]) -> None:
    influx, _ = stores
    with pytest.raises(ValueError, match="unknown interval fields"):
        influx.interval_columns("sun-grid", "energy_import_wh", 0, 900_000, 900, fields=("count", "value"))
