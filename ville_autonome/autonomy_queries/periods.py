"""A scope's energy over a period, cut in bars (hours, days or months), with the engine's rules.

One engine run over the whole period (:func:`compute_scope` on :func:`scope_inputs`, the same
settings as :func:`compute_autonomy`), then each bar sums the run's per-interval flows and takes
its ratios from the engine's own :func:`autonomy.metrics.period_metrics`: a bar's
self-sufficiency is ΣLl / ΣL over its intervals, never an average of ratios, and the bars add up
to the period's totals. Generation by source per interval comes from the engine's site flows
(:func:`autonomy.flows.site_flows`), so derived producers are counted as the engine counts them.

A bar whose intervals hold no data at all has no figures (``None``: missing is never zero); a
bar with some missing or unbalanced intervals keeps its figures and says so (``coverage``,
``missing_intervals``, ``unbalanced_intervals``): the dashboard marks it.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np

from ville_autonome.autonomy import AutonomyResult, Metrics, compute_scope
from ville_autonome.autonomy.counters import FloatArray
from ville_autonome.autonomy.flows import site_flows
from ville_autonome.autonomy.metrics import period_metrics
from ville_autonome.autonomy_queries.reading import EnergyCache, scope_inputs
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.storage.base import Store


@dataclass(frozen=True)
class BarEnergy:
    """One bar [start_ms, end_ms): the engine's metrics of its intervals (None without any data)."""

    start_ms: int
    end_ms: int
    metrics: Metrics | None
    coverage: float | None  # mean energy-weighted coverage of its intervals (docs/metrics.md, Coverage)
    intervals: int
    missing_intervals: int  # intervals without any data in the scope
    unbalanced_intervals: int


@dataclass(frozen=True)
class PeriodEnergy:
    result: AutonomyResult  # the engine's run over the whole period: totals, coverage, flags
    bars: list[BarEnergy]


def _bar(
    r: AutonomyResult,
    by_source: dict[str, FloatArray],
    i0: int,
    i1: int,
    start_ms: int,
    end_ms: int,
    factor: float,
) -> BarEnergy:
    s = r.series
    part = slice(i0, i1)
    has_data = ~np.isnan(s.load_wh[part])
    n = i1 - i0
    unbalanced = int(np.count_nonzero(s.unbalanced[part]))
    if not has_data.any():
        return BarEnergy(start_ms, end_ms, None, None, n, n, unbalanced)

    def flows(a: FloatArray) -> FloatArray:
        return np.nan_to_num(a[part])

    metrics = period_metrics(
        generation_by_source_wh={k: np.where(has_data, v[part], 0.0) for k, v in by_source.items()},
        load_wh=flows(s.load_wh),
        charge_wh=flows(s.charge_wh),
        discharge_wh=flows(s.discharge_wh),
        import_wh=flows(s.import_wh),
        export_wh=flows(s.export_wh),
        grid_supply_wh=flows(s.grid_supply_wh),
        charge_from_grid_wh=np.zeros(n),  # not in the series: a bar does not report it
        start_ms=int(s.start_ms[i0]),
        interval_s=r.interval_s,
        emission_factor_g_per_kwh=factor,
        counted=has_data,
        local_storage_wh=flows(s.local_storage_wh),
    )
    cov = s.coverage[part]
    coverage = float(np.nanmean(cov)) if np.isfinite(cov).any() else None
    return BarEnergy(start_ms, end_ms, metrics, coverage, n, int(n - has_data.sum()), unbalanced)


def period_energy(
    store: Store,
    config: PlatformConfig,
    scope: str,
    bounds_ms: list[int],
    interval_s: int,
    *,
    cache: EnergyCache | None = None,
    now_ms: int | None = None,
) -> PeriodEnergy:
    """The scope's energy over [bounds_ms[0], bounds_ms[-1]) and in each bar [bounds_ms[i],
    bounds_ms[i+1]); every bound on an interval boundary. Raises :class:`ScopeError` for an unknown
    scope."""
    if len(bounds_ms) < 2 or any(b % (interval_s * 1000) for b in bounds_ms):
        raise ValueError("bounds must be at least two interval boundaries")
    metrics = config.services.metrics
    now = int(time.time() * 1000) if now_ms is None else now_ms
    inputs = scope_inputs(store, config, scope, bounds_ms[0], bounds_ms[-1], interval_s, cache=cache, now_ms=now)
    result = compute_scope(
        inputs,
        interval_s=interval_s,
        emission_factor_g_per_kwh=metrics.grid_emission_factor_g_per_kwh,
        coverage_threshold=metrics.coverage_threshold,
        balance_tolerance=metrics.balance_tolerance,
        balance_floor_wh=metrics.balance_floor_wh,
        closed_before_ms=now,
    )
    by_source: dict[str, FloatArray] = {}
    for site in inputs.sites:
        for src, arr in site_flows(site, inputs.window).generation_by_source_wh.items():
            by_source[src] = by_source.get(src, np.zeros(inputs.n_intervals)) + arr[inputs.warmup :]
    step = interval_s * 1000
    bars = []
    for a, b in itertools.pairwise(bounds_ms):
        i0, i1 = (a - inputs.start_ms) // step, (b - inputs.start_ms) // step
        bars.append(_bar(result, by_source, i0, i1, a, b, metrics.grid_emission_factor_g_per_kwh))
    return PeriodEnergy(result, bars)
