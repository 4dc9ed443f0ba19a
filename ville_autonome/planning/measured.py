"""The measured side of planning: a scope's engine inputs read from the store, and the profiles
of production per kW that a scenario scales.

The one module of the package that reads data: it goes through ``autonomy_queries`` (the same
reading as ``GET /api/v1/autonomy`` and the reports), so a scenario with no change reproduces
today's figures exactly. Everything else in :mod:`planning` is pure.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ville_autonome.autonomy import AutonomyResult, DeviceEnergy, ScopeInputs, Status
from ville_autonome.autonomy_queries import EnergyCache, scope_inputs, scope_sites
from ville_autonome.autonomy_queries.reading import Progress, warmup_intervals
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.planning.dispatch import FloatArray
from ville_autonome.planning.pv_model import DEFAULT_CLEAR_SKY_RATIO, clear_sky_pv_wh_per_kwp
from ville_autonome.planning.run import EngineSettings, compute
from ville_autonome.planning.scenario import Profiles, Scenario
from ville_autonome.planning.wind_curve import rooftop_wind_wh_per_kw
from ville_autonome.storage.base import Store


@dataclass(frozen=True)
class Measured:
    inputs: ScopeInputs
    result: AutonomyResult  # equal to autonomy_queries.compute_autonomy for the same arguments
    settings: EngineSettings


def engine_settings(config: PlatformConfig, interval_s: int, now_ms: int) -> EngineSettings:
    """The engine's settings as ``autonomy_queries.compute_autonomy`` passes them."""
    m = config.services.metrics
    return EngineSettings(
        interval_s=interval_s,
        emission_factor_g_per_kwh=m.grid_emission_factor_g_per_kwh,
        coverage_threshold=m.coverage_threshold,
        balance_tolerance=m.balance_tolerance,
        balance_floor_wh=m.balance_floor_wh,
        closed_before_ms=now_ms,
    )


def measure(
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
) -> Measured:
    """Today's inputs and result for ``scope`` over [start_ms, end_ms) (raises ``ScopeError``)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    inputs = scope_inputs(
        store, config, scope, start_ms, end_ms, interval_s, cache=cache, progress=progress, now_ms=now
    )
    settings = engine_settings(config, interval_s, now)
    return Measured(inputs, compute(inputs, settings), settings)


def measure_with_profiles(
    store: Store,
    config: PlatformConfig,
    scope: str,
    start_ms: int,
    end_ms: int,
    interval_s: int,
    scenario: Scenario,
    *,
    cache: EnergyCache | None = None,
) -> tuple[Measured, Profiles]:
    """:func:`measure`, then :func:`profiles_for`; the clear-sky PV model a scenario needs is
    computed in a second thread while the store is read (the model is mostly the sun's position,
    the read mostly waits on the store: on two cores the cold answer loses most of the model's time)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="planning-pv") as pool:
        if (where := _pv_model_location(config, scope, scenario)) is not None:
            # the window scope_inputs will read (should it differ, the model is computed again: time only)
            interval_ms = interval_s * 1000
            start = start_ms // interval_ms * interval_ms
            warmup = warmup_intervals(interval_s)
            window = warmup + max(0, -(-(end_ms - start) // interval_ms))
            pool.submit(
                clear_sky_pv_wh_per_kwp,
                start - warmup * interval_ms,
                window,
                interval_s,
                latitude=where[0],
                longitude=where[1],
            )
        m = measure(store, config, scope, start_ms, end_ms, interval_s, cache=cache)
    return m, profiles_for(store, config, m, scenario, cache=cache)


def _pv_model_location(config: PlatformConfig, scope: str, scenario: Scenario) -> tuple[float, float] | None:
    """The city's (latitude, longitude) when the scenario adds PV to a site without PV, else None."""
    lat, lon = config.city.latitude, config.city.longitude
    with_pv = {s.id for _, s in scope_sites(config, scope) if any(d.source == "pv" for d in s.devices)}
    if lat is None or lon is None or all(g.source != "pv" or g.site in with_pv for g in scenario.generation):
        return None
    return lat, lon


def ratings(config: PlatformConfig) -> dict[str, float]:
    """Every device's rated power from the configuration [W]."""
    return {dev.id: dev.rated_power_w for _, _, dev in config.devices() if dev.rated_power_w is not None}


def source_energies(
    store: Store,
    config: PlatformConfig,
    measured: Measured,
    source: str,
    *,
    cache: EnergyCache | None = None,
) -> list[tuple[DeviceEnergy, float]]:
    """Every rated production device of ``source`` in the city with its rated power [W], over the
    window of ``measured``: taken from the scope's inputs when the device is in the scope (no
    second read), else read by ``autonomy_queries.scope_inputs`` for its site (the day balances,
    through ``cache``), the very read of ``GET /api/v1/autonomy``."""
    rated = {dev.id: (s.id, dev.rated_power_w) for _, s, dev in config.devices() if dev.source == source}
    rated = {d: (site, w) for d, (site, w) in rated.items() if w}
    have = {d.device: d for s in measured.inputs.sites for d in s.devices if d.device in rated}
    found = dict(have)
    inputs, interval_ms = measured.inputs, measured.settings.interval_s * 1000
    end_ms = inputs.start_ms + inputs.n_intervals * interval_ms
    for site in sorted({site for d, (site, _) in rated.items() if d not in have}):
        read = scope_inputs(
            store, config, f"site:{site}", inputs.start_ms, end_ms, measured.settings.interval_s, cache=cache
        )
        found |= {d.device: d for s in read.sites for d in s.devices if d.device in rated}
    return [(found[d], w) for d, (_, w) in rated.items() if d in found and w is not None]


def _city_per_kw(
    store: Store, config: PlatformConfig, measured: Measured, source: str, cache: EnergyCache | None
) -> FloatArray | None:
    """The city's measured production of ``source`` per kW installed, over the inputs' window [Wh/kW];
    None when no device of that source has a single measured interval."""
    devices = source_energies(store, config, measured, source, cache=cache)
    kw = sum(w / 1000.0 for _, w in devices)
    if kw <= 0 or not any((e.status != Status.MISSING).any() for e, _ in devices):
        return None
    return np.sum([e.supply_wh for e, _ in devices], axis=0) / kw


def profiles_for(
    store: Store,
    config: PlatformConfig,
    measured: Measured,
    scenario: Scenario,
    sources: Iterable[str] = ("pv", "wind"),
    *,
    cache: EnergyCache | None = None,
) -> Profiles:
    """Production per kW for each source a scenario adds to a site that has none of it: the city's
    measured wind per kW, or, where the city measured no wind at all, the rooftop unit's power
    curve on the site wind profile (:mod:`planning.wind_curve`); for PV a pvlib clear-sky profile
    scaled to the city's measured PV yield (or :data:`planning.pv_model.DEFAULT_CLEAR_SKY_RATIO`
    without measured PV). ``cache``: the API's device-energy cache, for the devices outside the scope."""
    inputs, interval_s = measured.inputs, measured.settings.interval_s
    have = {(s.site, d.source) for s in inputs.sites for d in s.devices if d.role == "production"}
    wanted = {g.source for g in scenario.generation if (g.site, g.source) not in have} & set(sources)
    out: dict[str, FloatArray] = {}
    modelled: set[str] = set()
    first = inputs.start_ms - inputs.warmup * interval_s * 1000
    if "wind" in wanted:
        wind = _city_per_kw(store, config, measured, "wind", cache)
        if wind is None:
            wind = rooftop_wind_wh_per_kw(first, inputs.window, interval_s)
            modelled.add("wind")
        out["wind"] = wind
    if "pv" in wanted and config.city.latitude is not None and config.city.longitude is not None:
        model = clear_sky_pv_wh_per_kwp(
            first, inputs.window, interval_s, latitude=config.city.latitude, longitude=config.city.longitude
        )
        measured_pv = _city_per_kw(store, config, measured, "pv", cache)
        ratio = DEFAULT_CLEAR_SKY_RATIO
        if measured_pv is not None and model.sum() > 0 and measured_pv.sum() > 0:
            ratio = float(min(measured_pv.sum() / model.sum(), 1.0))
        out["pv"] = model * ratio
        modelled.add("pv")
    return Profiles(out, frozenset(modelled))
