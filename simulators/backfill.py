"""Backfill: the readings every device would have produced over a past period, straight into the uplink.

:func:`generate` is pure (the same models as the live service, :mod:`simulators.sites`, evaluated
on a regular grid); :mod:`simulators.backfill_publish` publishes them into the uplink.

Per interval and site, from the counters: Δconsumed = Δproduced + Δdischarged − Δcharged +
Δimport − Δexport (exactly, up to float rounding).

Counters are floored to the resolution of the device's registers (``10^sf`` Wh, the energy scale
factor the live registers use: :mod:`simulators.register_images`), as the meter itself shows
them, so that the first live reading after a backfill never reads below the backfill's last one (a
drop the engine would book as a counter reset). The identity above holds to that resolution.

Stamps: every reading is the device's state at the instant it is stamped with, ``start_ms + k ×
step`` for every such instant in [start_ms, end_ms] — the end included, so that the counter
reading on the period's last boundary closes its last interval (a counter reading stamped on a
boundary closes the interval before it: docs/metrics.md, "Interval boundaries"). Live data that
takes over after ``end_ms`` continues the same counters: no interval is counted twice.

Errors::

    ValueError                                                      a bad period or step
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import numpy as np

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.model import Reading
from ville_autonome.simulators.register_images import energy_sf
from ville_autonome.simulators.scenario import Scenario, effective_seed, resolve, scenario_for
from ville_autonome.simulators.sites import EPOCH_S, build_engines

log = logging.getLogger(__name__)

CHUNK_S = 30 * 86_400  # evaluate a month at a time: bounded memory for long periods
ProgressFn = Callable[[int, int], None]

# the quantities a backfill writes per kind of device (a subset of what the registers show)
BACKFILL_QUANTITIES: dict[str, tuple[str, ...]] = {
    "meter": ("active_power_w", "energy_import_wh", "energy_export_wh"),
    "load": ("active_power_w", "energy_consumed_wh"),
    "battery": ("active_power_w", "soc_pct", "energy_charged_wh", "energy_discharged_wh"),
    "production": ("active_power_w", "energy_produced_wh"),
    "hydro": ("active_power_w", "energy_produced_wh", "flow_m3_s", "head_m", "water_level_m", "operating_state"),
    "chp": ("active_power_w", "energy_produced_wh", "gas_flow_m3_h", "heat_power_w"),
}


def _check_period(start_ms: int, end_ms: int, step_s: int) -> None:
    if step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    if end_ms <= start_ms:
        raise ValueError(f"the period is empty: end {end_ms} ≤ start {start_ms}")
    if start_ms < EPOCH_S * 1000:
        raise ValueError(f"the simulators start on 2024-01-01T00:00Z ({EPOCH_S * 1000} ms); asked {start_ms}")


def generate(
    config: PlatformConfig,
    start_ms: int,
    end_ms: int,
    step_s: int = 900,
    seed: int | None = None,
    *,
    scenario: Scenario | None = None,
) -> Iterator[Reading]:
    """Readings of every simulated device at ``start_ms, start_ms + step, …`` (≤ ``end_ms``)."""
    _check_period(start_ms, end_ms, step_s)
    scenario = scenario if scenario is not None else scenario_for(config)
    seed = effective_seed(config, scenario, seed)
    engines = build_engines([s for _, s in config.sites()], resolve(config, scenario), seed)
    step_ms = step_s * 1000
    n_total = _stamps(start_ms, end_ms, step_ms)
    chunk_n = max(1, CHUNK_S // step_s)
    for c0 in range(0, n_total, chunk_n):
        idx = np.arange(c0, min(c0 + chunk_n, n_total), dtype=np.int64)
        ts_ms = start_ms + idx * step_ms
        t_s = ts_ms / 1000.0
        ts_list = ts_ms.tolist()
        for engine in engines:
            out = engine.evaluate(t_s)
            for dev in engine.devices:
                kind = dev.kind
                if kind == "production":
                    kind = dev.spec.model if dev.spec.model in ("hydro", "chp") else "production"
                values = out[dev.id]
                resolution_wh = 10.0 ** energy_sf(dev.rated_power_w)
                for quantity in BACKFILL_QUANTITIES[kind]:
                    series = values[quantity]
                    if quantity.startswith("energy_"):
                        series = np.floor(series / resolution_wh) * resolution_wh
                    column = series.tolist()
                    device_id = dev.id
                    for ts, v in zip(ts_list, column, strict=True):
                        yield Reading(device_id, quantity, ts, v)


def counter_resolutions(config: PlatformConfig) -> dict[str, float]:
    """Each simulated device's energy register resolution [Wh]: ``10^sf`` for the scale factor its
    rating gives (what :func:`generate` floors the device's counters to)."""
    scenario = scenario_for(config)
    engines = build_engines([s for _, s in config.sites()], resolve(config, scenario), scenario.seed)
    return {dev.id: 10.0 ** energy_sf(dev.rated_power_w) for engine in engines for dev in engine.devices}


def _stamps(start_ms: int, end_ms: int, step_ms: int) -> int:
    """How many instants ``start_ms + k × step_ms`` lie in [start_ms, end_ms] (the end included)."""
    return (end_ms - start_ms) // step_ms + 1


def count_readings(config: PlatformConfig, start_ms: int, end_ms: int, step_s: int = 900) -> int:
    """How many readings :func:`generate` yields (for progress reports)."""
    n = _stamps(start_ms, end_ms, step_s * 1000)
    scenario = scenario_for(config)
    specs = resolve(config, scenario)
    per_step = 0
    for _, _, dev in config.devices():
        spec = specs[dev.id]
        if spec.model == "meter":
            per_step += len(BACKFILL_QUANTITIES["meter"])
        elif spec.model == "load":
            per_step += len(BACKFILL_QUANTITIES["load"])
        elif spec.model == "battery":
            per_step += len(BACKFILL_QUANTITIES["battery"])
        elif spec.model in ("hydro", "chp"):
            per_step += len(BACKFILL_QUANTITIES[spec.model])
        else:
            per_step += len(BACKFILL_QUANTITIES["production"])
    return max(n, 0) * per_step
