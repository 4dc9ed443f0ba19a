"""The autonomy reads through ``Store.interval_columns``: the same device energies bit for bit,
the same metrics, as the interval aggregates ``Store.intervals`` gives, on a real SQLite file.

The stored week has what the engine has to cope with: missed buckets and hours-long gaps in
counters, a counter reset mid-bucket, readings that are not good, a device with no counter at all
(mean power integrated), a battery that stops reporting (missing to the end of the period).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from tests.autonomy.stored_data import DAY_MS, T0, make_config, readings
from ville_autonome.autonomy_queries import compute_autonomy, device_energy, scope_inputs
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.model import Quality, StoredReading
from ville_autonome.series.rollups import IntervalColumns, columns_from_stats
from ville_autonome.storage.base import Store
from ville_autonome.storage.sqlite_store import SqliteStore

HOUR = 3_600_000


class PlainIntervals:
    """The same store behind a wrapper whose ``interval_columns`` is built from ``Store.intervals``
    (one ``IntervalStat`` per interval): the reference the columnar read must match."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def interval_columns(
        self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int, *, fields: Sequence[str]
    ) -> IntervalColumns:
        return columns_from_stats(self._store.intervals(device, quantity, start_ms, end_ms, interval_s), fields)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def with_trouble(stream: Iterator[StoredReading]) -> Iterator[StoredReading]:
    offset = 0.0
    for r in stream:
        t = r.ts_ms - T0
        if r.device == "town-load" and 20 * HOUR <= t < 26 * HOUR:
            continue  # six hours without the load meter
        if r.device == "sun-grid" and (40 * HOUR <= t < 41 * HOUR or 3 * HOUR <= t < 3 * HOUR + 900_000):
            continue  # an hour and a 15-min bucket without the grid meter
        if r.device == "sun-battery" and t >= 60 * HOUR:
            continue  # the battery stops reporting
        if r.device == "river-turbine" and r.quantity == "energy_produced_wh":
            continue  # no counter: the turbine's power is integrated
        if r.device == "town-grid" and r.quantity == "energy_import_wh" and r.value is not None:
            if t == 30 * HOUR + 450_000:
                offset = r.value - 2.0  # meter replaced mid-bucket
            yield StoredReading(r.context, r.quantity, r.ts_ms, r.value - offset, r.quality)
            continue
        if r.device == "sun-pv" and t % (5 * HOUR) == 0:
            yield StoredReading(r.context, r.quantity, r.ts_ms + 1, None, Quality.TIMEOUT)
            yield StoredReading(r.context, r.quantity, r.ts_ms + 2, 1e12, Quality.OUT_OF_RANGE)
        yield r


@dataclass
class Stored:
    store: SqliteStore
    config: PlatformConfig


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stored]:
    config = make_config()
    store = SqliteStore(Path(tmp_path_factory.mktemp("columnar")) / "city.sqlite")
    points = list(with_trouble(readings(config, T0 - DAY_MS, T0 + 4 * DAY_MS, 450)))
    for i in range(0, len(points), 5000):
        store.write(points[i : i + 5000])
    store.refresh_rollups()
    yield Stored(store, config)
    store.close()


GRIDS = [
    pytest.param(T0, T0 + 5 * DAY_MS, 900, id="15min"),
    pytest.param(T0 - 7 * HOUR, T0 + 3 * DAY_MS + 5 * HOUR, 3600, id="hourly"),
    pytest.param(T0 + 900_000, T0 + 2 * DAY_MS, 1800, id="30min"),
]


@pytest.mark.parametrize(("start", "end", "interval_s"), GRIDS)
def test_device_energies_are_the_same_bit_for_bit(stored: Stored, start: int, end: int, interval_s: int) -> None:
    plain = cast(Store, PlainIntervals(stored.store))
    n = (end - start) // (interval_s * 1000)
    statuses = set()
    for _, _, dev in stored.config.devices():
        fast, fast_used = device_energy(stored.store, dev, start, n, interval_s)
        slow, slow_used = device_energy(plain, dev, start, n, interval_s)
        assert fast_used == slow_used, dev.id
        for f in fields(fast):
            a, b = getattr(fast, f.name), getattr(slow, f.name)
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype, (dev.id, f.name)
                assert a.tobytes() == b.tobytes(), (dev.id, f.name)
            else:
                assert a == b, (dev.id, f.name)
        statuses.update(np.unique(fast.status).tolist())
    # measured, integrated, imputed all occur; missing too once the battery has stopped
    assert statuses == ({0, 1, 2, 3} if end > T0 + 61 * HOUR else {0, 1, 2})


@pytest.mark.parametrize(("start", "end", "interval_s"), GRIDS)
@pytest.mark.parametrize("scope", ["city", "district:north", "site:town"])
def test_autonomy_is_the_same(stored: Stored, scope: str, start: int, end: int, interval_s: int) -> None:
    fast = compute_autonomy(stored.store, stored.config, scope, start, end, interval_s)
    slow = compute_autonomy(cast(Store, PlainIntervals(stored.store)), stored.config, scope, start, end, interval_s)
    assert fast.metrics == slow.metrics
    assert fast.sum_of_sites == slow.sum_of_sites
    assert fast.sites == slow.sites
    assert fast.coverage == slow.coverage
    assert fast.flags == slow.flags
    assert fast.sharing_gain_wh == slow.sharing_gain_wh
    for f in fields(fast.series):
        assert getattr(fast.series, f.name).tobytes() == getattr(slow.series, f.name).tobytes(), f.name


def test_the_trouble_is_really_there(stored: Stored) -> None:
    inputs = scope_inputs(stored.store, stored.config, "city", T0, T0 + 5 * DAY_MS, 900)
    w = inputs.warmup
    devices = {d.device: d for s in inputs.sites for d in s.devices}
    # imputed across the gap; the reading stamped at 26:00 closes the gap's last interval
    assert (devices["town-load"].status[w + 20 * 4 : w + 26 * 4 - 1] == 2).all()
    assert devices["town-load"].status[w + 26 * 4 - 1] == 0
    assert (devices["river-turbine"].status[w : w + 4 * 96] == 1).all()  # integrated from power
    assert (devices["sun-battery"].status[w + 60 * 4 + 1 :] == 3).all()  # missing to the end
    assert devices["town-grid"].supply_wh[w + 30 * 4] > 0  # the reset loses a little, invents nothing
