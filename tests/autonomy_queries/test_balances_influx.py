"""The day balances on a real InfluxDB: the same device energies as the rollups, bit for bit,
over the troubled days (:mod:`tests.autonomy_queries.troubled`), and across a compile lag: marks
from the rollup compiler's cursor on, and days noted and not compiled yet, read from the rollups."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.autonomy.stored_data import DAY_MS, T0
from tests.autonomy_queries.test_balances import STEP, compare, compile_all, windows, write
from tests.autonomy_queries.troubled import END, troubled, troubled_config
from tests.support.services import Influxd
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.storage.factory import open_store
from ville_autonome.storage.influx_store import InfluxStore


def opened(influxd: Influxd, database: str) -> InfluxStore:
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=database))
    assert isinstance(store, InfluxStore)
    return store


@pytest.fixture(scope="module")
def stored(influxd: Influxd) -> Iterator[tuple[InfluxStore, PlatformConfig]]:
    config = troubled_config()
    store = opened(influxd, "balances")
    # the compiler's clock a minute ahead: its cursor moves past the marks it compiled instead of
    # keeping them in its settling window (the reading would take them as not compiled yet, and
    # read them from the rollups); nothing is written after
    store._compiler.clock_ms = lambda: int(time.time() * 1000) + 60_000
    try:
        write(store, list(troubled(config)))
        compile_all(store, config)
        yield store, config
    finally:
        store.close()


def test_the_balances_are_read(stored: tuple[InfluxStore, PlatformConfig]) -> None:
    store, config = stored
    assert compare(store, config, T0, T0 + 7 * DAY_MS, END) == len(list(config.devices())) - 1


@pytest.mark.parametrize(("start", "end"), windows(10, seed=5))
def test_every_window_gives_the_device_energies_of_the_rollups(
    stored: tuple[InfluxStore, PlatformConfig], start: int, end: int
) -> None:
    store, config = stored
    compare(store, config, start, end, now_ms=min(end, END) + 30_000)


def test_what_is_not_compiled_is_read_from_the_rollups(influxd: Influxd) -> None:
    config = troubled_config()
    store = opened(influxd, "balances_lag")
    try:
        points = list(troubled(config))
        cut = T0 + 5 * DAY_MS
        write(store, [p for p in points if p.ts_ms < cut])
        balances = compile_all(store, config)
        write(store, [p for p in points if p.ts_ms >= cut])
        window = (T0 + DAY_MS, END)
        compare(store, config, *window, now_ms=END)  # marks after the cursor: read from the rollups
        store.refresh_rollups(on_compiled=balances.on_compiled)  # the days noted, not compiled yet
        assert store.balance_table().deferred(STEP)
        compare(store, config, *window, now_ms=END)
        assert balances.catch_up(budget_s=None)
        assert not store.balance_table().deferred(STEP)
        assert compare(store, config, *window, now_ms=END) == len(list(config.devices())) - 1
    finally:
        store.close()
