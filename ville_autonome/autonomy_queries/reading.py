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

When a device has none of its counters in the window, its mean ``active_power_w`` is integrated
(flagged ``power_integrated:<device>``; grid + import, battery + discharge).

What the reading passes to the engine's plausibility rules (docs/metrics.md, "Plausibility"):

- the fastest plausible counter rise: ``rated_power_w × PLAUSIBILITY_MARGIN × clock rate`` [W],
  the clock rate being the lab's (``services.simulator.speed``: the simulators run their physics
  that many times faster than the wall clock that stamps the readings; 1 for real devices); a
  device without ``rated_power_w`` has no bound (flag ``unrated:<device>``);
- where the counter rolls over, from its register profile (:mod:`autonomy_queries.wraps`);
- every reading stamped on an interval boundary moved to the interval it closes
  (``autonomy.close_at_boundary``).

Every read covers the period plus ``WARMUP_DAYS`` before it (the battery stock's starting state,
each device's expected energy for the coverage weights) and one interval after it (a reading on
the period's end boundary closes its last interval). Reads go through ``Store.interval_columns``
(numpy columns, no Python object per interval).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from ville_autonome.autonomy import (
    AutonomyResult,
    BatteryState,
    DeviceEnergy,
    ScopeInputs,
    SiteInputs,
    compute_scope,
)
from ville_autonome.autonomy.counters import Anomaly, AnomalyArray, FloatArray, StatusArray, stale_at
from ville_autonome.autonomy_queries.balance_read import LazyBalances
from ville_autonome.autonomy_queries.cache import TtlCache
from ville_autonome.autonomy_queries.counter_runs import (
    COUNTER_FIELDS,
    POWER,
    POWER_FIELDS,
    QUANTITIES_BY_ROLE,
    closed,
    highest,
    interval_arrays,
    max_counter_power_w,
    newest,
    power_run,
    run,
)
from ville_autonome.autonomy_queries.scopes import scope_sites
from ville_autonome.autonomy_queries.wraps import counter_wrap_wh
from ville_autonome.configuration.services import MetricsSettings
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.storage.base import Store

EnergyCache = TtlCache[tuple[DeviceEnergy, tuple[str, ...]]]
Progress = Callable[[str, int, int], None]  # (step, done, total): ("read", devices read, devices)

STALE_AFTER_S: float = MetricsSettings.model_fields["stale_after_s"].default  # the setting's default
WARMUP_DAYS = 7
# device reads in flight at once for a store whose class says ``concurrent_reads = True``
# (InfluxDB: each thread has its own HTTP connection, and the server answers them in parallel)
READ_THREADS = 4


def warmup_intervals(interval_s: int) -> int:
    """Intervals read before a period: ``WARMUP_DAYS``."""
    return WARMUP_DAYS * 86_400 // interval_s


def _counter(
    store: Store,
    device: DeviceConfig,
    quantities: tuple[str, ...],
    start_ms: int,
    n: int,
    interval_s: int,
    rate: float,
) -> tuple[FloatArray, StatusArray, AnomalyArray, str, int | None] | None:
    """Energy, status, anomalies, name and newest reading [UTC ms] of the first of ``quantities``
    with data over ``n`` intervals from ``start_ms``; one interval before gives the counter's
    starting value, one after closes the last interval."""
    interval_ms = interval_s * 1000
    before = start_ms - interval_ms
    for q in quantities:
        got = interval_arrays(store, device.id, q, before, n + 2, interval_s, COUNTER_FIELDS)
        if got is None:
            continue
        c = closed(got, before, interval_ms)
        wrap = counter_wrap_wh(device, q, highest(c))
        e = run(c, interval_s, max_power_w=max_counter_power_w(device, rate), wrap_wh=wrap)
        return e.energy[1:], e.status[1:], e.anomaly[1:], q, newest(c)
    return None


def max_age_ms(device: DeviceConfig, stale_after_s: float) -> float:
    """How long a device may be silent before the interval of its last reading is ``STALE``:
    ``stale_after_s`` (``services.metrics.stale_after_s``) or 3 poll intervals."""
    return max(stale_after_s, 3.0 * device.poll_interval_s) * 1000.0


def mark_stale(
    e: DeviceEnergy, device: DeviceConfig, start_ms: int, interval_s: int, now_ms: int, stale_after_s: float
) -> DeviceEnergy:
    """``e`` with ``STALE`` on the interval where the device went silent for good (as of ``now_ms``)."""
    age = max_age_ms(device, stale_after_s)
    i = stale_at(e.last_reading_ms, start_ms, interval_s * 1000, e.status.shape[0], now_ms, age)
    if i is None:
        return e
    anomaly = e.anomalies.copy()
    anomaly[i] |= Anomaly.STALE
    return replace(e, anomaly=anomaly)


def device_energy(
    store: Store,
    device: DeviceConfig,
    start_ms: int,
    n: int,
    interval_s: int,
    *,
    clock_rate: float = 1.0,
    now_ms: int | None = None,
    stale_after_s: float = STALE_AFTER_S,
) -> tuple[DeviceEnergy, tuple[str, ...]]:
    """One device's :class:`DeviceEnergy` over ``n`` intervals from ``start_ms``, and the stored
    quantities it came from. ``clock_rate``: the lab's clock rate (module docstring); ``now_ms``:
    mark the interval where the device went silent for good, silent ``stale_after_s`` (:func:`mark_stale`)."""
    supply_q, draw_q = QUANTITIES_BY_ROLE[device.role]
    zeros = np.zeros(n)
    used: list[str] = []
    parts: list[tuple[FloatArray, StatusArray, AnomalyArray, str, int | None] | None] = []
    for qs in (supply_q, draw_q):
        got = _counter(store, device, qs, start_ms, n, interval_s, clock_rate) if qs else None
        parts.append(got)
        if got is not None:
            used.append(got[3])
    supply, draw = parts
    # the rating in the lab's time (its counters rise `clock_rate` times faster): the coverage weights
    rated = device.rated_power_w * clock_rate if device.rated_power_w is not None else None
    if supply is None and draw is None:
        c = interval_arrays(store, device.id, POWER, start_ms, n, interval_s, POWER_FIELDS)
        if c is None:
            return DeviceEnergy.missing(device.id, device.role, n, device.source, rated), ()
        sup, drw, status, anomaly = power_run(c, interval_s, device, clock_rate)
        return DeviceEnergy(device.id, device.role, sup, drw, status, device.source, anomaly, rated), (POWER,)
    present = [p for p in parts if p is not None]
    # a device-interval is as good as the worse of its counters
    status = np.maximum.reduce([p[1] for p in present]) if len(present) > 1 else present[0][1]
    anomaly = np.bitwise_or.reduce([p[2] for p in present]) if len(present) > 1 else present[0][2]
    newest = max((p[4] for p in present if p[4] is not None), default=None)
    energy = DeviceEnergy(
        device.id,
        device.role,
        supply[0] if supply is not None else zeros,
        draw[0] if draw is not None else zeros,
        status.astype(np.int8),
        device.source,
        anomaly.astype(np.int8),
        rated,
        newest,
    )
    if now_ms is not None:
        energy = mark_stale(energy, device, start_ms, interval_s, now_ms, stale_after_s)
    return energy, tuple(used)


def scope_inputs(
    store: Store,
    config: PlatformConfig,
    scope: str,
    start_ms: int,
    end_ms: int,
    interval_s: int,
    *,
    cache: EnergyCache | None = None,
    progress: Progress | None = None,
    now_ms: int | None = None,
) -> ScopeInputs:
    """The engine's inputs for ``scope`` over [start_ms, end_ms) cut in ``interval_s`` intervals
    (``start_ms`` is aligned down and ``end_ms`` up to the interval), with ``WARMUP_DAYS`` before.
    ``progress("read", done, total)`` is called as each device is read."""
    interval_ms = interval_s * 1000
    start = start_ms // interval_ms * interval_ms
    n = max(0, -(-(end_ms - start) // interval_ms))
    warmup = warmup_intervals(interval_s)
    first = start - warmup * interval_ms
    pairs = scope_sites(config, scope)
    latest_soc = {v.context.device: v.value for v in store.latest() if v.quantity == "soc_pct" and v.value is not None}
    reads = [dev for _, site in pairs for dev in site.devices]
    rate = config.services.simulator.speed
    stale_after_s = config.services.metrics.stale_after_s
    balances = LazyBalances(store, reads, first, warmup + n, interval_s, rate)  # the compiled days, when fit
    done = [0]

    def read(dev: DeviceConfig) -> DeviceEnergy:
        e = _cached_energy(store, dev, first, warmup + n, interval_s, rate, now_ms, stale_after_s, cache, balances)
        if progress is not None:
            done[0] += 1
            progress("read", done[0], len(reads))
        return e

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
    return ScopeInputs(scope, start, n, sites, warmup)


def _cached_energy(
    store: Store,
    dev: DeviceConfig,
    start: int,
    n: int,
    interval_s: int,
    rate: float,
    now_ms: int | None,
    stale_after_s: float,
    cache: EnergyCache | None,
    balances: LazyBalances | None = None,
) -> DeviceEnergy:
    """The device's energy (from the cache when it has it), marked stale as of ``now_ms``
    (silent ``stale_after_s``): the cached part does not depend on the time of the request."""

    def read() -> tuple[DeviceEnergy, tuple[str, ...]]:
        got = balances.energy(dev) if balances is not None else None  # the same numbers, from the day balances
        return got if got is not None else device_energy(store, dev, start, n, interval_s, clock_rate=rate)

    if cache is None:
        e = read()[0]
    else:
        key = (id(store), dev.id, dev.role, dev.rated_power_w, start, n, interval_s, rate)
        e = cache.get_or_compute(key, read)[0]
    return mark_stale(e, dev, start, interval_s, now_ms, stale_after_s) if now_ms is not None else e


def compute_autonomy(
    store: Store,
    config: PlatformConfig,
    scope: str,
    start_ms: int,
    end_ms: int,
    interval_s: int,
    *,
    cache: EnergyCache | None = None,
    progress: Progress | None = None,
    now_ms: int | None = None,
) -> AutonomyResult:
    """Autonomy of ``scope`` (``city`` | ``district:<id>`` | ``site:<id>``) over [start_ms, end_ms),
    with the settings of ``config.services.metrics``. ``cache``: reuse device energies read in the
    last ``cache.ttl_s`` seconds; ``progress``: see :func:`scope_inputs`; ``now_ms`` (default: the
    wall clock): intervals ending later are still open. Raises :class:`autonomy_queries.ScopeError`
    for an unknown scope."""
    metrics = config.services.metrics
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return compute_scope(
        scope_inputs(store, config, scope, start_ms, end_ms, interval_s, cache=cache, progress=progress, now_ms=now),
        interval_s=interval_s,
        emission_factor_g_per_kwh=metrics.grid_emission_factor_g_per_kwh,
        coverage_threshold=metrics.coverage_threshold,
        balance_tolerance=metrics.balance_tolerance,
        balance_floor_wh=metrics.balance_floor_wh,
        closed_before_ms=now,
    )
