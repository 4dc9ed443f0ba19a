"""A period's device energies from the day balances (:mod:`series.balance_days`): the numbers the
device rollups give (:func:`autonomy_queries.reading.device_energy`), bit for bit, at a fraction of
the reading.

The balances of a scope's devices are read once (:func:`read_balances`, the halves of the period
in parallel on a store that reads concurrently), then each device's run is spliced from its days
and, where a day is not usable, its rollups (:mod:`autonomy_queries.balance_splice`, which says
why the result is exact).

A device without counters in the period (mean power integrated), a device the compiler has not
compiled with the current parameters (:func:`autonomy_queries.balance_compile.device_digest`),
or a period shorter than two days is read from its rollups: ``None`` here.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ville_autonome.autonomy import DeviceEnergy
from ville_autonome.autonomy_queries.balance_compile import counter_quantities, device_digest
from ville_autonome.autonomy_queries.balance_splice import Balances, DeviceRun, Read, edge_windows
from ville_autonome.autonomy_queries.counter_runs import COUNTER_FIELDS, QUANTITIES_BY_ROLE, on_grid
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.series.balance_days import DAY_MS, FORMAT, BalanceDay, BalanceTable
from ville_autonome.storage.base import Store


def read_balances(
    store: Store, devices: Sequence[DeviceConfig], first_ms: int, n: int, interval_s: int, clock_rate: float
) -> Balances | None:
    """The balances of ``devices`` for a run over ``n`` intervals from ``first_ms`` (its lead one
    interval before, its closing one after), or None when the store has none for ``interval_s``."""
    getter = getattr(store, "balance_table", None)
    if getter is None:
        return None
    table: BalanceTable = getter()
    state = table.state(interval_s)
    if state is None or state.format != FORMAT:
        return None
    digests = {
        d.id: state.devices[d.id]
        for d in devices
        if state.devices.get(d.id) == device_digest(d, interval_s, clock_rate)
    }
    if not digests:
        return None
    interval_ms = interval_s * 1000
    lead, end = first_ms - interval_ms, first_ms + (n + 1) * interval_ms
    lo = lead - lead % DAY_MS
    mid = lo + (end - lo) // 2 // DAY_MS * DAY_MS
    series = [(d.id, q) for d in devices if d.id in digests for q in counter_quantities(d)]
    windows = edge_windows(first_ms, n, interval_s)
    if not getattr(type(store), "concurrent_reads", False):
        days = table.read_days(interval_s, lo, end, digests.keys())
        return Balances(
            table,
            interval_s,
            clock_rate,
            digests,
            days,
            table.outstanding(lo - interval_ms, end + 2 * interval_ms),
            table.deferred(interval_s),
            _edges(table, series, windows, interval_s),
        )
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="balance-read") as pool:  # one connection each
        halves = [pool.submit(table.read_days, interval_s, a, b, digests.keys()) for a, b in ((lo, mid), (mid, end))]
        outstanding = pool.submit(table.outstanding, lo - interval_ms, end + 2 * interval_ms)
        deferred = pool.submit(table.deferred, interval_s)
        edges = pool.submit(_edges, table, series, windows, interval_s)
        merged: dict[str, dict[int, BalanceDay]] = {}
        for half in halves:
            for device, got in half.result().items():
                merged.setdefault(device, {}).update(got)
        return Balances(
            table, interval_s, clock_rate, digests, merged, outstanding.result(), deferred.result(), edges.result()
        )


def _edges(
    table: BalanceTable, series: Sequence[tuple[str, str]], windows: Sequence[tuple[int, int]], interval_s: int
) -> dict[tuple[str, str], list[Read]]:
    """The rollups of ``series`` on each window (first interval, intervals) as the runs read them
    (``counter_runs.interval_arrays``: on the window's grid, None without data), when the table
    reads them together; empty otherwise (each run then reads its own)."""
    interval_ms = interval_s * 1000
    out: dict[tuple[str, str], list[Read]] = {}
    for start, size in windows:
        got = table.rollup_columns(series, start, start + size * interval_ms, interval_s, COUNTER_FIELDS)
        if got is None:
            return {}
        for key in series:
            cols = got.get(key)
            grid = (
                on_grid(cols["start_ms"], {f: cols[f] for f in COUNTER_FIELDS}, start, size, interval_ms)
                if cols is not None and cols["start_ms"].size
                else None
            )
            out.setdefault(key, []).append((start, size, grid))
    return out


def device_energy_from_balances(
    balances: Balances, store: Store, device: DeviceConfig, first_ms: int, n: int
) -> tuple[DeviceEnergy, tuple[str, ...]] | None:
    """What :func:`autonomy_queries.reading.device_energy` gives for ``device`` over ``n``
    intervals from ``first_ms`` (without the stale mark), or None when it must read the rollups."""
    if device.id not in balances.digests:
        return None
    reader = DeviceRun(balances, store, device, first_ms, n)
    if not reader.full_days:
        return None
    supply_q, draw_q = QUANTITIES_BY_ROLE[device.role]
    parts = [reader.side(side, qs) if qs else None for side, qs in (("supply", supply_q), ("draw", draw_q))]
    present = [p for p in parts if p is not None]
    if not present:
        return None  # mean power integrated, or nothing at all: from the rollups
    supply, draw = parts
    zeros = np.zeros(n)
    status = np.maximum.reduce([p[1] for p in present]) if len(present) > 1 else present[0][1]
    anomaly = np.bitwise_or.reduce([p[2] for p in present]) if len(present) > 1 else present[0][2]
    rate = balances.clock_rate
    energy = DeviceEnergy(
        device.id,
        device.role,
        supply[0] if supply is not None else zeros,
        draw[0] if draw is not None else zeros,
        status.astype(np.int8),
        device.source,
        anomaly.astype(np.int8),
        device.rated_power_w * rate if device.rated_power_w is not None else None,
        max((p[4] for p in present if p[4] is not None), default=None),
    )
    return energy, tuple(p[3] for p in present)


class LazyBalances:
    """:func:`read_balances` once, for the first device that needs them (a warm cache never does),
    then :func:`device_energy_from_balances` for each device. Thread-safe."""

    def __init__(
        self, store: Store, devices: Sequence[DeviceConfig], first_ms: int, n: int, interval_s: int, clock_rate: float
    ) -> None:
        self.store, self.devices, self.first_ms, self.n = store, devices, first_ms, n
        self.interval_s, self.clock_rate = interval_s, clock_rate
        self._lock = threading.Lock()
        self._read = False
        self._balances: Balances | None = None

    def energy(self, device: DeviceConfig) -> tuple[DeviceEnergy, tuple[str, ...]] | None:
        with self._lock:
            if not self._read:
                self._balances = read_balances(
                    self.store, self.devices, self.first_ms, self.n, self.interval_s, self.clock_rate
                )
                self._read = True
        if self._balances is None:
            return None
        return device_energy_from_balances(self._balances, self.store, device, self.first_ms, self.n)
