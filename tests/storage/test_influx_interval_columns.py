"""``InfluxStore.interval_columns``: ``intervals()`` as numpy columns on a real influxd, the same
numbers as its own ``intervals()`` and as the SQLite store's columns for the same readings (the
history and the ranges of tests/storage/test_sqlite_interval_columns.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.test_sqlite_interval_columns import HOUR, RANGES, SERIES, T0, history
from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.series.rollups import ROLLUP_1D_MS, STAT_FIELDS, columns_from_stats, rollup_source
from ville_autonome.storage import influx_balances
from ville_autonome.storage.factory import open_store
from ville_autonome.storage.influx_store import InfluxStore
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


@pytest.mark.parametrize(("start", "end", "interval_s"), RANGES)
def test_the_balance_tables_read_every_series_at_once_as_interval_columns(
    stores: tuple[InfluxStore, SqliteStore], start: int, end: int, interval_s: int
) -> None:
    """``BalanceTable.rollup_columns`` (the partial days of a period, every device in a few queries):
    per series the very columns ``interval_columns`` gives, a series without data empty; a window
    no rollup fits: None (the reader then asks each series alone)."""
    fields = ("count", "first", "last", "minimum", "maximum", "first_ts_ms", "last_ts_ms")
    series = [*SERIES, ("sun-grid", "energy_produced_wh"), ("nobody", "energy_import_wh")]
    for store in stores:
        got = store.balance_table().rollup_columns(series, start, end, interval_s, fields)
        if rollup_source(start, end, interval_s) is None:
            assert got is None
            continue
        assert got is not None
        assert sorted(got) == sorted(series)
        for device, quantity in series:
            expected = store.interval_columns(device, quantity, start, end, interval_s, fields=fields)
            assert list(got[(device, quantity)]) == list(expected)
            for name, column in expected.items():
                assert got[(device, quantity)][name].dtype == column.dtype, (device, quantity, name)
                assert got[(device, quantity)][name].tobytes() == column.tobytes(), (device, quantity, name)
        assert not got[("nobody", "energy_import_wh")]["start_ms"].size


def test_influxdb_reads_many_series_in_queries_under_the_row_limit(
    stores: tuple[InfluxStore, SqliteStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window of more rows than a query may answer is asked a few series at a time: the same columns."""
    influx, _ = stores
    start, end = T0 - HOUR, T0 + 4 * ROLLUP_1D_MS
    fields = ("count", "first", "last", "maximum", "first_ts_ms", "last_ts_ms")
    whole = influx.balance_table().rollup_columns(SERIES, start, end, 900, fields)
    monkeypatch.setattr(influx_balances, "ROWS_PER_QUERY", 300)  # under one series' 388 rows: a query each
    asked: list[str] = []
    query = influx.query
    monkeypatch.setattr(influx, "query", lambda q, **kw: asked.append(q) or query(q, **kw))
    cut = influx.balance_table().rollup_columns(SERIES, start, end, 900, fields)
    assert whole is not None
    assert cut is not None
    assert len(asked) == len(SERIES)
    for key in SERIES:
        for name in ("start_ms", *fields):
            assert cut[key][name].tobytes() == whole[key][name].tobytes(), (key, name)
