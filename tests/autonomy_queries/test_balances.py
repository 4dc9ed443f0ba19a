"""The day balances give exactly what the device rollups give, on a real SQLite store.

Every window over nine troubled days (:mod:`tests.autonomy_queries.troubled`: a spike, a dip, a
level shift, a reset, a stuck meter, gaps across midnight, a silent site, a battery that stops, a
turbine without a counter) gives the same device energies bit for bit, read from the balances
or from the rollups, hence the same autonomy; and across a compile lag — raw data not compiled,
rollups compiled but not the balances, the balances' days noted and not compiled yet — nothing
is missing and nothing differs: what is not compiled is read from the rollups.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from tests.autonomy.stored_data import DAY_MS, T0
from tests.autonomy_queries.troubled import END, HOUR, troubled, troubled_config
from ville_autonome.autonomy import Anomaly, AutonomyResult, DeviceEnergy, Status
from ville_autonome.autonomy_queries import compute_autonomy, scope_inputs
from ville_autonome.autonomy_queries.balance_read import device_energy_from_balances, read_balances
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.model import StoredReading
from ville_autonome.rollups.balances import BalanceCompiler
from ville_autonome.rollups.service import RollupCompiler
from ville_autonome.series.values import RollupKey
from ville_autonome.storage.base import Store, StoreTransientError
from ville_autonome.storage.sqlite_store import SqliteStore

STEP = 900


class WithoutBalances:
    """The same store without its day balances: the reading takes every device from its rollups."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "balance_table":
            raise AttributeError(name)
        return getattr(self._store, name)


def write(store: Store, points: Sequence[StoredReading]) -> None:
    for i in range(0, len(points), 5000):
        store.write(points[i : i + 5000])


def compile_all(store: Store, config: PlatformConfig) -> BalanceCompiler:
    balances = BalanceCompiler(store, config)
    assert RollupCompiler(store, interval_s=1, name="test", balances=balances).run_pass(budget_s=None)
    return balances


def same_energy(a: DeviceEnergy, b: DeviceEnergy) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, (a.device, f.name)
            assert x.tobytes() == y.tobytes(), (a.device, f.name)
        else:
            assert x == y, (a.device, f.name)


def same_result(a: AutonomyResult, b: AutonomyResult) -> None:
    assert (a.metrics, a.sum_of_sites, a.sites, a.sharing_gain_wh) == (
        b.metrics,
        b.sum_of_sites,
        b.sites,
        b.sharing_gain_wh,
    )
    assert (a.coverage, a.balance, a.flags, a.battery) == (b.coverage, b.balance, b.flags, b.battery)
    for f in fields(a.series):
        assert getattr(a.series, f.name).tobytes() == getattr(b.series, f.name).tobytes(), f.name


def windows(count: int, seed: int = 18) -> list[tuple[int, int]]:
    """Periods over the data and past its ends, aligned on the interval or not."""
    rng = random.Random(seed)
    out = [(T0, T0 + 7 * DAY_MS), (T0 + DAY_MS, T0 + 3 * DAY_MS), (T0 - 7 * HOUR, END + DAY_MS)]
    for _ in range(count - len(out)):
        start = T0 + rng.randrange(0, 7 * 24 * 4) * STEP * 1000 + rng.choice([0, 0, 450_000])
        out.append((start, start + rng.randrange(4, 5 * 24 * 4) * STEP * 1000 + rng.choice([0, 120_000])))
    return out


def compare(store: Store, config: PlatformConfig, start: int, end: int, now_ms: int) -> int:
    """Device energies of the city from the balances and from the rollups, compared bit for bit;
    returns how many devices the balances gave."""
    fast = scope_inputs(store, config, "city", start, end, STEP, now_ms=now_ms)
    slow = scope_inputs(cast(Store, WithoutBalances(store)), config, "city", start, end, STEP, now_ms=now_ms)
    for site_a, site_b in zip(fast.sites, slow.sites, strict=True):
        for a, b in zip(site_a.devices, site_b.devices, strict=True):
            same_energy(a, b)
    first, n = fast.start_ms - fast.warmup * STEP * 1000, fast.window
    devices = [dev for _, _, dev in config.devices()]
    balances = read_balances(store, devices, first, n, STEP, config.services.simulator.speed)
    if balances is None:
        return 0
    return sum(device_energy_from_balances(balances, store, dev, first, n) is not None for dev in devices)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqliteStore, PlatformConfig]]:
    config = troubled_config()
    store = SqliteStore(Path(tmp_path_factory.mktemp("balances")) / "city.sqlite")
    write(store, list(troubled(config)))
    compile_all(store, config)
    yield store, config
    store.close()


def test_the_trouble_is_there_and_the_balances_are_read(stored: tuple[SqliteStore, PlatformConfig]) -> None:
    store, config = stored
    result = compute_autonomy(store, config, "city", T0, T0 + 7 * DAY_MS, STEP, now_ms=END + DAY_MS)
    for flag in (
        "implausible_jump:sun-pv",
        "counter_glitch:sun-load",
        "implausible_jump:sun-load",
        "counter_reset:town-grid",
        "implausible_jump:town-load",
        "missing_data:sun-battery",
        "power_integrated:river-turbine",
    ):
        assert flag in result.flags
    inputs = scope_inputs(store, config, "city", T0, T0 + 7 * DAY_MS, STEP)
    devices = {d.device: d for s in inputs.sites for d in s.devices}
    assert (devices["town-load"].status == Status.IMPUTED).any()  # its gap across midnight
    assert (devices["town-load"].anomalies & Anomaly.JUMP).any()  # the stuck meter catching up
    assert (devices["river-grid"].status == Status.IMPUTED).sum() > 100  # the silent site, spread over 36 h
    # every device with a counter is read from its balances; the turbine (mean power) from its rollups
    assert compare(store, config, T0, T0 + 7 * DAY_MS, END + DAY_MS) == len(list(config.devices())) - 1


@pytest.mark.parametrize(("start", "end"), windows(40))
def test_every_window_gives_the_device_energies_of_the_rollups(
    stored: tuple[SqliteStore, PlatformConfig], start: int, end: int
) -> None:
    store, config = stored
    compare(store, config, start, end, now_ms=min(end, END) + 30_000)


@pytest.mark.parametrize("scope", ["city", "district:north", "site:river", "site:town"])
def test_the_autonomy_is_the_same(stored: tuple[SqliteStore, PlatformConfig], scope: str) -> None:
    store, config = stored
    for start, end in windows(6, seed=7):
        fast = compute_autonomy(store, config, scope, start, end, STEP, now_ms=END)
        slow = compute_autonomy(cast(Store, WithoutBalances(store)), config, scope, start, end, STEP, now_ms=END)
        same_result(fast, slow)


def test_other_intervals_and_other_parameters_read_the_rollups(stored: tuple[SqliteStore, PlatformConfig]) -> None:
    store, config = stored
    start, end = T0 + HOUR, T0 + 6 * DAY_MS
    slow = compute_autonomy(cast(Store, WithoutBalances(store)), config, "city", start, end, 1800, now_ms=END)
    same_result(compute_autonomy(store, config, "city", start, end, 1800, now_ms=END), slow)
    # a rating changed since the compile: that device is read from its rollups, with its new rating
    assert compare(store, troubled_config({"sun-load": 3000.0}), start, end, END) == len(list(config.devices())) - 2


# ---------------------------------------------------------------------- across a compile lag


class FailingBalances(BalanceCompiler):
    """A balance compiler whose store refuses its notes: the rollup pass fails after its rollups."""

    def on_compiled(self, keys: Sequence[RollupKey]) -> None:
        raise StoreTransientError("balance table unreachable")


def test_what_is_not_compiled_is_read_from_the_rollups(tmp_path: Path) -> None:
    config = troubled_config()
    store = SqliteStore(tmp_path / "lag.sqlite")
    points = list(troubled(config))
    cut = T0 + 5 * DAY_MS
    write(store, [p for p in points if p.ts_ms < cut])
    balances = compile_all(store, config)
    later = [p for p in points if p.ts_ms >= cut]
    # a day goes on, and a meter's readings of two days ago come again with other values
    replay = [
        StoredReading(p.context, p.quantity, p.ts_ms, p.value + 10.0, p.quality)
        for p in points
        if p.device == "town-grid"
        and p.quantity == "energy_import_wh"
        and cut - 2 * DAY_MS <= p.ts_ms < cut - DAY_MS
        and p.value is not None
    ]
    write(store, later + replay)
    window = (T0 + DAY_MS, END)
    counter_devices = len(list(config.devices())) - 1

    def measured_since_cut() -> int:
        inputs = scope_inputs(store, config, "city", *window, STEP)
        since = inputs.warmup + (cut - window[0]) // (STEP * 1000)
        return sum(int((d.status[since:] == Status.MEASURED).sum()) for s in inputs.sites for d in s.devices)

    compare(store, config, *window, now_ms=END)  # 1. written, nothing compiled (the rollups lag too)
    assert measured_since_cut() == 0

    failing = RollupCompiler(store, interval_s=1, name="lag", balances=FailingBalances(store, config))
    assert not failing.run_pass(budget_s=None)  # 2. a chunk's rollups written, its marks kept: from the rollups
    compare(store, config, *window, now_ms=END)
    assert measured_since_cut() > 0  # what the rollups hold is there, not missing

    store.refresh_rollups(on_compiled=balances.on_compiled)  # 3. the days noted, not compiled yet
    assert store.balance_table().deferred(STEP)
    compare(store, config, *window, now_ms=END)

    assert balances.catch_up(budget_s=None)  # 4. compiled: from the balances again
    assert not store.balance_table().deferred(STEP)
    assert compare(store, config, *window, now_ms=END) == counter_devices
    store.close()


def test_a_store_older_than_the_balances_is_compiled_from_its_history(tmp_path: Path) -> None:
    config = troubled_config()
    store = SqliteStore(tmp_path / "history.sqlite")
    write(store, list(troubled(config)))
    store.refresh_rollups()  # a compiler without balances
    assert compare(store, config, T0, T0 + 7 * DAY_MS, END) == 0  # nothing compiled: all from the rollups
    balances = BalanceCompiler(store, config)
    assert not balances.catch_up(budget_s=0.0)  # a slice at a time
    while not balances.catch_up(budget_s=0.0):
        pass
    state = store.balance_table().state(STEP)
    assert state is not None
    assert set(state.devices) == {d.id for _, _, d in config.devices()}
    assert compare(store, config, T0, T0 + 7 * DAY_MS, END) == len(list(config.devices())) - 1
    store.close()
