"""Per-interval device energies from the store's interval aggregates, then the engine.

Which stored quantity feeds which flow (docs/metrics.md, "Which counter"), first found wins:

========== ============================================== ==============================================
role       supply to the site                             draw from the site
========== ============================================== ==============================================
grid       energy_import_wh                               energy_export_wh
production energy_produced_wh, else energy_export_wh      —
consumption —                                             energy_consumed_wh, else energy_import_wh
storage    energy_discharged_wh, else energy_export_wh    energy_charged_wh, else energy_import_wh
========== ============================================== ==============================================

When a device has none of its counters in the period, its mean ``active_power_w`` is integrated
(flagged ``power_integrated:<device>``; grid + import, battery + discharge).

A store whose class also reads its interval aggregates as numpy columns (:class:`ColumnarIntervals`:
``SqliteStore.interval_columns``) is read that way — the same numbers without one Python object
per interval; any other store (InfluxDB, a wrapper) through ``Store.intervals``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy import (
    AutonomyResult,
    BatteryState,
    DeviceEnergy,
    ScopeInputs,
    SiteInputs,
    compute_scope,
    counter_energy,
    power_energy,
)
from ville_autonome.autonomy.counters import FloatArray, StatusArray
from ville_autonome.autonomy_queries.cache import TtlCache
from ville_autonome.autonomy_queries.scopes import scope_sites
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.storage.base import IntervalStat, Store

EnergyCache = TtlCache[tuple[DeviceEnergy, tuple[str, ...]]]

# role → (supply quantities, draw quantities), each in order of preference
QUANTITIES_BY_ROLE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "grid": (("energy_import_wh",), ("energy_export_wh",)),
    "production": (("energy_produced_wh", "energy_export_wh"), ()),
    "consumption": ((), ("energy_consumed_wh", "energy_import_wh")),
    "storage": (("energy_discharged_wh", "energy_export_wh"), ("energy_charged_wh", "energy_import_wh")),
}
POWER = "active_power_w"
COUNTER_FIELDS = ("count", "first", "last", "minimum", "maximum")  # what counter_energy reads
POWER_FIELDS = ("count", "mean")  # what power_energy reads
# device reads in flight at once for a store whose class says ``concurrent_reads = True``
# (InfluxDB: each thread has its own HTTP connection, and the server answers them in parallel)
READ_THREADS = 4


class ColumnarIntervals(Protocol):
    """A store that also gives ``Store.intervals`` as numpy columns (``SqliteStore``): ``start_ms``
    and the asked ``fields`` (``storage.rollups.STAT_FIELDS``), one entry per interval with data."""

    def interval_columns(
        self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int, *, fields: Sequence[str]
    ) -> dict[str, npt.NDArray[Any]]: ...


def columnar(store: Store) -> ColumnarIntervals | None:
    """``store`` if its class reads intervals as columns, else None. Asked of the class, not the
    object: a wrapper that forwards attributes to a store (the report's progress counter) and
    overrides ``intervals`` must see every read, so it goes through ``intervals``."""
    if callable(getattr(type(store), "interval_columns", None)):
        return cast(ColumnarIntervals, store)
    return None


def _on_grid(
    starts: npt.NDArray[np.int64], values: dict[str, npt.NDArray[Any]], start_ms: int, size: int, interval_ms: int
) -> dict[str, FloatArray]:
    """``values`` of the intervals starting at ``starts``, on the grid of ``size`` intervals from
    ``start_ms`` (zeros where absent)."""
    cols = {name: np.zeros(size) for name in values}
    idx = (starts - start_ms) // interval_ms
    keep = (idx >= 0) & (idx < size)
    for name, v in values.items():
        cols[name][idx[keep]] = v[keep]
    return cols


def _stats_arrays(
    stats: list[IntervalStat], fields: tuple[str, ...], start_ms: int, size: int, interval_ms: int
) -> dict[str, FloatArray]:
    """``fields`` of ``stats`` on the grid of ``size`` intervals from ``start_ms`` (zeros where absent)."""
    starts = np.fromiter((st.start_ms for st in stats), dtype=np.int64, count=len(stats))
    values = {
        name: np.fromiter((getattr(st, name) for st in stats), dtype=np.float64, count=len(stats)) for name in fields
    }
    return _on_grid(starts, values, start_ms, size, interval_ms)


def _interval_arrays(
    store: Store, device: str, quantity: str, start_ms: int, size: int, interval_s: int, fields: tuple[str, ...]
) -> dict[str, FloatArray] | None:
    """The interval aggregates ``fields`` of (``device``, ``quantity``) on the grid of ``size``
    intervals from ``start_ms`` (zeros where absent); None when none of them has data."""
    interval_ms = interval_s * 1000
    end_ms = start_ms + size * interval_ms
    reader = columnar(store)
    if reader is not None:
        cols = reader.interval_columns(device, quantity, start_ms, end_ms, interval_s, fields=fields)
        if not cols["start_ms"].size:
            return None
        return _on_grid(cols["start_ms"], {f: cols[f] for f in fields}, start_ms, size, interval_ms)
    stats = store.intervals(device, quantity, start_ms, end_ms, interval_s)
    return _stats_arrays(stats, fields, start_ms, size, interval_ms) if stats else None


def _counter(
    store: Store, device: str, quantities: tuple[str, ...], start_ms: int, n: int, interval_s: int
) -> tuple[FloatArray, StatusArray, str] | None:
    """Energy, status and name of the first of ``quantities`` with data; one interval before the period gives the
    counter's value at its start."""
    before = start_ms - interval_s * 1000
    for q in quantities:
        c = _interval_arrays(store, device, q, before, n + 1, interval_s, COUNTER_FIELDS)
        if c is None:
            continue
        e, status = counter_energy(c["first"], c["last"], c["minimum"], c["maximum"], c["count"])
        return e[1:], status[1:], q
    return None


def device_energy(
    store: Store, device: DeviceConfig, start_ms: int, n: int, interval_s: int
) -> tuple[DeviceEnergy, tuple[str, ...]]:
    """One device's :class:`DeviceEnergy` over ``n`` intervals from ``start_ms``, and the stored
    quantities it came from."""
    supply_q, draw_q = QUANTITIES_BY_ROLE[device.role]
    zeros = np.zeros(n)
    used: list[str] = []
    parts: list[tuple[FloatArray, StatusArray, str] | None] = []
    for qs in (supply_q, draw_q):
        got = _counter(store, device.id, qs, start_ms, n, interval_s) if qs else None
        parts.append(got)
        if got is not None:
            used.append(got[2])
    supply, draw = parts
    if supply is None and draw is None:
        c = _interval_arrays(store, device.id, POWER, start_ms, n, interval_s, POWER_FIELDS)
        if c is None:
            return DeviceEnergy.missing(device.id, device.role, n, device.source), ()
        e, status = power_energy(c["mean"], c["count"], interval_s)
        if device.role == "consumption":
            return DeviceEnergy(device.id, device.role, zeros, np.abs(e), status, device.source), (POWER,)
        return (
            DeviceEnergy(device.id, device.role, np.maximum(e, 0.0), np.maximum(-e, 0.0), status, device.source),
            (POWER,),
        )
    present = [p for p in parts if p is not None]
    # a device-interval is as good as the worse of its counters
    status = np.maximum.reduce([p[1] for p in present]) if len(present) > 1 else present[0][1]
    return (
        DeviceEnergy(
            device.id,
            device.role,
            supply[0] if supply is not None else zeros,
            draw[0] if draw is not None else zeros,
            status.astype(np.int8),
            device.source,
        ),
        tuple(used),
    )


def scope_inputs(
    store: Store,
    config: PlatformConfig,
    scope: str,
    start_ms: int,
    end_ms: int,
    interval_s: int,
    *,
    cache: EnergyCache | None = None,
) -> ScopeInputs:
    """The engine's inputs for ``scope`` over [start_ms, end_ms) cut in ``interval_s`` intervals
    (``start_ms`` is aligned down and ``end_ms`` up to the interval)."""
    interval_ms = interval_s * 1000
    start = start_ms // interval_ms * interval_ms
    n = max(0, -(-(end_ms - start) // interval_ms))
    pairs = scope_sites(config, scope)
    latest_soc = {v.context.device: v.value for v in store.latest() if v.quantity == "soc_pct" and v.value is not None}
    reads = [dev for _, site in pairs for dev in site.devices]

    def read(dev: DeviceConfig) -> DeviceEnergy:
        return _cached_energy(store, dev, start, n, interval_s, cache)

    if getattr(type(store), "concurrent_reads", False) and len(reads) > 1:
        with ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="autonomy-read") as pool:
            energies = dict(zip((id(dev) for dev in reads), pool.map(read, reads), strict=True))
    else:
        energies = {id(dev): read(dev) for dev in reads}
    sites = []
    for district, site in pairs:
        devices = [energies[id(dev)] for dev in site.devices]
        batteries = [
            BatteryState(dev.id, dev.capacity_wh, latest_soc.get(dev.id))
            for dev in site.devices
            if dev.role == "storage" and dev.capacity_wh
        ]
        sites.append(SiteInputs(site.id, district.id, devices, batteries))
    return ScopeInputs(scope, start, n, sites)


def _cached_energy(
    store: Store, dev: DeviceConfig, start: int, n: int, interval_s: int, cache: EnergyCache | None
) -> DeviceEnergy:
    if cache is None:
        return device_energy(store, dev, start, n, interval_s)[0]
    key = (id(store), dev.id, dev.role, start, n, interval_s)
    return cache.get_or_compute(key, lambda: device_energy(store, dev, start, n, interval_s))[0]


def compute_autonomy(
    store: Store,
    config: PlatformConfig,
    scope: str,
    start_ms: int,
    end_ms: int,
    interval_s: int,
    *,
    cache: EnergyCache | None = None,
) -> AutonomyResult:
    """Autonomy of ``scope`` (``city`` | ``district:<id>`` | ``site:<id>``) over [start_ms, end_ms),
    with the emission factor and coverage threshold of ``config.services.metrics``.
    ``cache``: reuse device energies read in the last ``cache.ttl_s`` seconds.
    Raises :class:`autonomy_queries.ScopeError` for an unknown scope."""
    metrics = config.services.metrics
    return compute_scope(
        scope_inputs(store, config, scope, start_ms, end_ms, interval_s, cache=cache),
        interval_s=interval_s,
        emission_factor_g_per_kwh=metrics.grid_emission_factor_g_per_kwh,
        coverage_threshold=metrics.coverage_threshold,
    )
