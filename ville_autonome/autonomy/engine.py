"""The engine's entry point: :func:`compute_scope` turns a scope's per-interval device energies
into an :class:`AutonomyResult`. Pure numpy, no I/O (``autonomy_queries`` reads the store).

A result holds the headline :class:`~autonomy.metrics.Metrics` of the scope with flows netted
across its sites per interval, the same metrics for the sites taken alone and summed
(``sum_of_sites``: the gain from sharing is the difference), each site's own metrics, the
per-interval series, the data coverage and the method version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy.counters import FloatArray, Status
from ville_autonome.autonomy.flows import SiteFlows, attribute, import_share, site_flows
from ville_autonome.autonomy.inputs import ScopeInputs
from ville_autonome.autonomy.metrics import Metrics, period_metrics

BoolArray = npt.NDArray[np.bool_]

METHOD_VERSION = "1.0.0"
"""Bumped whenever a formula or an attribution rule changes (docs/metrics.md, "Method versions")."""


@dataclass(frozen=True)
class DeviceCoverage:
    device: str
    site: str
    measured: int  # intervals from the counter
    integrated: int  # intervals from mean power (fallback)
    imputed: int  # intervals spread from a counter rise, or derived from the site balance
    missing: int  # intervals without data (0 Wh)


@dataclass(frozen=True)
class Coverage:
    """How much of a result rests on data: shares of device-intervals, and which devices lack some."""

    device_intervals: int
    measured_share: float
    integrated_share: float
    imputed_share: float
    missing_share: float
    ratio: float  # measured + integrated share: what the threshold is compared with
    threshold: float
    complete: bool  # ratio ≥ threshold
    incomplete_devices: list[str]
    devices: list[DeviceCoverage]


@dataclass(frozen=True)
class BatteryStatus:
    """Storage of the scope now: energy stored and how long it lasts at the current deficit."""

    devices: list[str]
    capacity_wh: float
    stored_wh: float | None  # Σ soc × capacity of the batteries whose state is known [Wh]
    soc_pct: float | None  # stored / capacity of those batteries [%]
    current_deficit_w: float | None  # (L − G) over the last interval with data [W]; ≤ 0: surplus
    hours_at_current_deficit: float | None  # stored / deficit [h]; None without a deficit


@dataclass(frozen=True)
class IntervalSeries:
    """Per-interval values of the scope (netted), one entry per interval [Wh unless named]."""

    start_ms: npt.NDArray[np.int64]  # interval starts [UTC ms]
    generation_wh: FloatArray
    load_wh: FloatArray
    charge_wh: FloatArray
    discharge_wh: FloatArray
    import_wh: FloatArray
    export_wh: FloatArray
    local_supply_wh: FloatArray
    grid_supply_wh: FloatArray
    self_sufficiency: FloatArray  # Ll / L, NaN where L = 0
    coverage: FloatArray  # share of the scope's devices measured in the interval


@dataclass(frozen=True)
class AutonomyResult:
    scope: str
    start_ms: int  # [UTC ms], inclusive
    end_ms: int  # [UTC ms], exclusive
    interval_s: int
    method_version: str
    metrics: Metrics  # the scope with flows netted across its sites per interval
    sum_of_sites: Metrics | None  # the same sites each alone, summed (None for a site scope)
    sharing_gain_wh: float  # import avoided by netting: Σ_sites import − scope import [Wh]
    sites: dict[str, Metrics]
    series: IntervalSeries
    coverage: Coverage
    battery: BatteryStatus | None
    flags: list[str] = field(default_factory=list)  # grid_derived:<site>, power_integrated:<device>, …

    @property
    def complete(self) -> bool:
        return self.coverage.complete


def _metrics(
    flows: list[SiteFlows], netted: bool, inputs: ScopeInputs, interval_s: int, factor: float, counted: BoolArray
) -> tuple[Metrics, FloatArray, FloatArray, FloatArray]:
    """Metrics of ``flows`` together: netted across sites per interval, or each site alone and summed."""
    n = inputs.n_intervals

    def total(name: str) -> FloatArray:
        return np.sum([getattr(f, name) for f in flows], axis=0) if flows else np.zeros(n)

    if netted:
        k = import_share(flows) if flows else np.ones(n)
        net = total("import_wh") - total("export_wh")
        imp, exp = np.maximum(net, 0.0), np.maximum(-net, 0.0)
    else:
        k = np.ones(n)
        imp, exp = total("import_wh"), total("export_wh")
    att = attribute(flows, k)
    by_source: dict[str, FloatArray] = {}
    for f in flows:
        for src, arr in f.generation_by_source_wh.items():
            by_source[src] = by_source.get(src, np.zeros(n)) + arr
    m = period_metrics(
        generation_by_source_wh=by_source,
        load_wh=total("load_wh"),
        charge_wh=total("charge_wh"),
        discharge_wh=total("discharge_wh"),
        import_wh=imp,
        export_wh=exp,
        grid_supply_wh=att.grid_supply_wh,
        charge_from_grid_wh=att.charge_from_grid_wh,
        start_ms=inputs.start_ms,
        interval_s=interval_s,
        emission_factor_g_per_kwh=factor,
        counted=counted,
        cover_wh=None
        if netted
        else np.sum([np.minimum(f.generation_wh - (f.charge_wh - f.discharge_wh), f.load_wh) for f in flows], axis=0),
    )
    return m, att.grid_supply_wh, imp, exp


def _coverage(inputs: ScopeInputs, threshold: float) -> tuple[Coverage, FloatArray]:
    n = inputs.n_intervals
    per_device: list[DeviceCoverage] = []
    measured_per_interval = np.zeros(n)
    n_devices = 0
    for s in inputs.sites:
        for d in s.devices:
            counts = np.bincount(d.status.astype(np.int64), minlength=4)
            per_device.append(DeviceCoverage(d.device, s.site, *(int(c) for c in counts[:4])))
            measured_per_interval += d.status <= Status.INTEGRATED
            n_devices += 1
    per_device.sort(key=lambda c: c.device)
    total = n * n_devices
    sums = [sum(getattr(c, k) for c in per_device) for k in ("measured", "integrated", "imputed", "missing")]
    shares = [x / total if total else 0.0 for x in sums]
    ratio = shares[0] + shares[1]
    incomplete = [c.device for c in per_device if c.imputed or c.missing]
    per_interval = measured_per_interval / n_devices if n_devices else np.zeros(n)
    cov = Coverage(
        device_intervals=total,
        measured_share=shares[0],
        integrated_share=shares[1],
        imputed_share=shares[2],
        missing_share=shares[3],
        ratio=ratio,
        threshold=threshold,
        complete=ratio >= threshold,
        incomplete_devices=incomplete,
        devices=per_device,
    )
    return cov, per_interval


def _battery(
    inputs: ScopeInputs, load: FloatArray, gen: FloatArray, has_data: BoolArray, interval_s: int
) -> BatteryStatus | None:
    batteries = [b for s in inputs.sites for b in s.batteries]
    if not batteries:
        return None
    known = [b for b in batteries if b.soc_pct is not None]
    capacity = float(sum(b.capacity_wh for b in batteries))
    stored = float(sum(b.capacity_wh * (b.soc_pct or 0.0) / 100.0 for b in known)) if known else None
    known_capacity = float(sum(b.capacity_wh for b in known))
    soc = stored / known_capacity * 100.0 if stored is not None and known_capacity > 0 else None
    idx = np.flatnonzero(has_data)
    deficit = float((load[idx[-1]] - gen[idx[-1]]) * 3600.0 / interval_s) if idx.size else None
    hours = stored / deficit if stored is not None and deficit is not None and deficit > 0 else None
    return BatteryStatus(sorted(b.device for b in batteries), capacity, stored, soc, deficit, hours)


def compute_scope(
    inputs: ScopeInputs,
    *,
    interval_s: int = 900,
    emission_factor_g_per_kwh: float = 52.0,
    coverage_threshold: float = 0.9,
) -> AutonomyResult:
    """Autonomy metrics of a scope over ``inputs.n_intervals`` intervals of ``interval_s`` seconds.

    ``emission_factor_g_per_kwh``: grid emission factor for avoided CO2 [gCO2/kWh];
    ``coverage_threshold``: the measured share below which the result is marked incomplete.
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    n = inputs.n_intervals
    flows = [site_flows(s, n) for s in sorted(inputs.sites, key=lambda s: s.site)]
    coverage, per_interval = _coverage(inputs, coverage_threshold)
    has_data = per_interval > 0
    netted = not inputs.scope.startswith("site:")
    metrics, grid_supply, scope_import, scope_export = _metrics(
        flows, netted, inputs, interval_s, emission_factor_g_per_kwh, has_data
    )
    site_metrics = {
        f.site: _metrics([f], False, inputs, interval_s, emission_factor_g_per_kwh, has_data)[0] for f in flows
    }
    sum_of_sites = None
    if netted:  # the same sites each alone: flows summed, not netted
        sum_of_sites = _metrics(flows, False, inputs, interval_s, emission_factor_g_per_kwh, has_data)[0]
    sites_import = float(np.sum([f.import_wh for f in flows])) if flows else 0.0

    def total(name: str) -> FloatArray:
        return np.sum([getattr(f, name) for f in flows], axis=0) if flows else np.zeros(n)

    load, gen = total("load_wh"), total("generation_wh")
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.where(load > 0, (load - grid_supply) / np.where(load > 0, load, 1.0), np.nan)
    series = IntervalSeries(
        start_ms=inputs.start_ms + np.arange(n, dtype=np.int64) * interval_s * 1000,
        generation_wh=gen,
        load_wh=load,
        charge_wh=total("charge_wh"),
        discharge_wh=total("discharge_wh"),
        import_wh=scope_import,
        export_wh=scope_export,
        local_supply_wh=load - grid_supply,
        grid_supply_wh=grid_supply,
        self_sufficiency=ss,
        coverage=per_interval,
    )
    flags = sorted({fl for f in flows for fl in f.flags})
    flags += sorted(
        f"power_integrated:{d.device}" for s in inputs.sites for d in s.devices if np.any(d.status == Status.INTEGRATED)
    )
    if not coverage.complete:
        flags.append("below_coverage_threshold")
    return AutonomyResult(
        scope=inputs.scope,
        start_ms=inputs.start_ms,
        end_ms=inputs.start_ms + n * interval_s * 1000,
        interval_s=interval_s,
        method_version=METHOD_VERSION,
        metrics=metrics,
        sum_of_sites=sum_of_sites,
        sharing_gain_wh=sites_import - metrics.import_wh,
        sites=site_metrics,
        series=series,
        coverage=coverage,
        battery=_battery(inputs, load, gen, has_data, interval_s),
        flags=flags,
    )
