"""The engine's entry point: :func:`compute_scope` turns a scope's per-interval device energies
into an :class:`AutonomyResult`. Pure numpy, no I/O (``autonomy_queries`` reads the store).

A result holds the headline :class:`~autonomy.metrics.Metrics` of the scope with flows netted
across its sites per interval, the same metrics for the sites taken alone and summed
(``sum_of_sites``: the gain from sharing is the difference), each site's own metrics, the
per-interval series, the data coverage, the balance closure, the flags naming what may distort a
figure, and the method version (docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy.balance import DEFAULT_FLOOR_WH, DEFAULT_TOLERANCE, Balance, summarise
from ville_autonome.autonomy.counters import Anomaly, BoolArray, FloatArray, Status
from ville_autonome.autonomy.coverage import Coverage, coverage
from ville_autonome.autonomy.flows import Attribution, SiteFlows, attribute, import_share, site_flows
from ville_autonome.autonomy.inputs import ScopeInputs
from ville_autonome.autonomy.metrics import Metrics, period_metrics

METHOD_VERSION = "2.1.0"
"""Bumped whenever a formula or an attribution rule changes (docs/metrics.md, "Method versions")."""

# anomaly bit → flag prefix (docs/metrics.md, "Flags")
ANOMALY_FLAGS = (
    (Anomaly.JUMP, "implausible_jump"),
    (Anomaly.GLITCH, "counter_glitch"),
    (Anomaly.REJECTED, "implausible_power"),
    (Anomaly.RESET, "counter_reset"),
)


@dataclass(frozen=True)
class BatteryStatus:
    """Storage of the scope now: energy stored and how long it lasts at the current deficit."""

    devices: list[str]
    capacity_wh: float
    stored_wh: float | None  # Σ soc × capacity of the batteries whose state is known [Wh]
    soc_pct: float | None  # stored / capacity of those batteries [%]
    current_deficit_w: float | None  # (L − G) over the last closed interval with data [W]; ≤ 0: surplus
    hours_at_current_deficit: float | None  # stored / deficit [h]; None without a deficit
    deficit_interval_ms: int | None = None  # start of the interval the deficit comes from [UTC ms]


@dataclass(frozen=True)
class IntervalSeries:
    """Per-interval values of the scope (netted), one entry per interval [Wh unless named].
    Flows are NaN (null in JSON, an empty cell in a table, a gap in a chart) where no device of
    the scope has data: missing is never zero."""

    start_ms: npt.NDArray[np.int64]  # interval starts [UTC ms]
    generation_wh: FloatArray
    load_wh: FloatArray
    charge_wh: FloatArray
    discharge_wh: FloatArray
    import_wh: FloatArray
    export_wh: FloatArray
    local_supply_wh: FloatArray
    grid_supply_wh: FloatArray
    local_storage_wh: FloatArray  # Sl: storage balance of local origin (cover factors)
    self_sufficiency: FloatArray  # Ll / L, NaN where L = 0 or no data
    coverage: FloatArray  # energy-weighted share of the scope's expected energy measured
    unbalanced: BoolArray  # some site's balance did not close


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
    balance: Balance
    battery: BatteryStatus | None
    flags: list[str] = field(default_factory=list)  # grid_derived:<site>, implausible_jump:<device>, …

    @property
    def complete(self) -> bool:
        return self.coverage.complete


def _sum(flows: list[SiteFlows], name: str, n: int) -> FloatArray:
    return np.sum([getattr(f, name) for f in flows], axis=0) if flows else np.zeros(n)


def _period_metrics(
    flows: list[SiteFlows],
    att: Attribution,
    imp: FloatArray,
    exp: FloatArray,
    counted: BoolArray,
    w0: int,
    inputs: ScopeInputs,
    interval_s: int,
    factor: float,
    *,
    cover_sites: bool,
) -> Metrics:
    """Metrics over the period (the window from ``w0`` on) of ``flows`` attributed by ``att``."""
    n = inputs.window
    by_source: dict[str, FloatArray] = {}
    for f in flows:
        for src, arr in f.generation_by_source_wh.items():
            by_source[src] = by_source.get(src, np.zeros(n)) + arr
    return period_metrics(
        generation_by_source_wh={k: v[w0:] for k, v in by_source.items()},
        load_wh=_sum(flows, "load_wh", n)[w0:],
        charge_wh=_sum(flows, "charge_wh", n)[w0:],
        discharge_wh=_sum(flows, "discharge_wh", n)[w0:],
        import_wh=imp[w0:],
        export_wh=exp[w0:],
        grid_supply_wh=att.grid_supply_wh[w0:],
        charge_from_grid_wh=att.charge_from_grid_wh[w0:],
        start_ms=inputs.start_ms,
        interval_s=interval_s,
        emission_factor_g_per_kwh=factor,
        counted=counted[w0:],
        cover_wh=att.cover_sites_wh[w0:] if cover_sites else None,
        local_storage_wh=att.local_storage_wh[w0:],
    )


def _battery(
    inputs: ScopeInputs, load: FloatArray, gen: FloatArray, counted: BoolArray, interval_s: int, closed_before_ms: int
) -> BatteryStatus | None:
    batteries = [b for s in inputs.sites for b in s.batteries]
    if not batteries:
        return None
    known = [b for b in batteries if b.soc_pct is not None]
    capacity = float(sum(b.capacity_wh for b in batteries))
    stored = float(sum(b.capacity_wh * (b.soc_pct or 0.0) / 100.0 for b in known)) if known else None
    known_capacity = float(sum(b.capacity_wh for b in known))
    soc = stored / known_capacity * 100.0 if stored is not None and known_capacity > 0 else None
    step = interval_s * 1000
    ends = inputs.start_ms + (np.arange(inputs.n_intervals, dtype=np.int64) + 1) * step
    idx = np.flatnonzero(counted & (ends <= closed_before_ms))  # closed intervals with every site's data
    deficit = float((load[idx[-1]] - gen[idx[-1]]) * 3600.0 / interval_s) if idx.size else None
    hours = stored / deficit if stored is not None and deficit is not None and deficit > 0 else None
    at = int(inputs.start_ms + idx[-1] * step) if idx.size else None
    return BatteryStatus(sorted(b.device for b in batteries), capacity, stored, soc, deficit, hours, at)


def _flags(inputs: ScopeInputs, flows: list[SiteFlows], balance: Balance, cov: Coverage) -> list[str]:
    w0 = inputs.warmup
    flags = sorted({fl for f in flows for fl in f.flags})
    devices = [d for s in inputs.sites for d in s.devices]
    named: set[str] = set()
    for d in devices:
        status, anomaly = d.status[w0:], d.anomalies[w0:]
        if np.any(status == Status.INTEGRATED):
            named.add(f"power_integrated:{d.device}")
        if np.any(status == Status.MISSING) or np.any(anomaly & Anomaly.STALE):
            named.add(f"missing_data:{d.device}")
        for bit, name in ANOMALY_FLAGS:
            if np.any(anomaly & bit):
                named.add(f"{name}:{d.device}")
        if d.rated_power_w is None:
            named.add(f"unrated:{d.device}")
    flags += sorted(named)
    flags += [f"unbalanced:{s}" for s in balance.unbalanced_sites]
    if cov.ratio < cov.threshold or any(v < cov.threshold for v in cov.by_role.values()):
        flags.append("below_coverage_threshold")
    return flags


def compute_scope(
    inputs: ScopeInputs,
    *,
    interval_s: int = 900,
    emission_factor_g_per_kwh: float = 52.0,
    coverage_threshold: float = 0.9,
    balance_tolerance: float = DEFAULT_TOLERANCE,
    balance_floor_wh: float = DEFAULT_FLOOR_WH,
    closed_before_ms: int | None = None,
) -> AutonomyResult:
    """Autonomy metrics of a scope over ``inputs.n_intervals`` intervals of ``interval_s`` seconds.

    ``emission_factor_g_per_kwh``: grid emission factor for avoided CO2 [gCO2/kWh];
    ``coverage_threshold``: the energy-weighted measured share below which the result is incomplete;
    ``balance_tolerance`` (share of throughput) and ``balance_floor_wh`` [Wh]: when a site's
    residual makes an interval unbalanced; ``closed_before_ms``: intervals ending after it are
    still open (the battery's current deficit is never taken from them; default: the period's end).
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    n, w0, window = inputs.n_intervals, inputs.warmup, inputs.window
    flows = [site_flows(s, window) for s in sorted(inputs.sites, key=lambda s: s.site)]
    end_ms = inputs.start_ms + n * interval_s * 1000
    closed_by = end_ms if closed_before_ms is None else closed_before_ms
    closed = inputs.start_ms + (np.arange(n, dtype=np.int64) + 1) * interval_s * 1000 <= closed_by
    balance, unbalanced = summarise(flows, w0, inputs.start_ms, interval_s, balance_tolerance, balance_floor_wh, closed)
    cov, per_interval = coverage(inputs, interval_s, coverage_threshold, balance.unbalanced_intervals)
    netted = not inputs.scope.startswith("site:")
    ones = np.ones(window)
    alone = [attribute([f], ones) for f in flows]
    all_counted = np.logical_and.reduce([f.counted for f in flows]) if flows else np.zeros(window, dtype=bool)
    has_data = np.logical_or.reduce([f.has_data for f in flows]) if flows else np.zeros(window, dtype=bool)
    sites_import, sites_export = _sum(flows, "import_wh", window), _sum(flows, "export_wh", window)
    args = (w0, inputs, interval_s, emission_factor_g_per_kwh)
    site_metrics = {
        f.site: _period_metrics([f], a, f.import_wh, f.export_wh, f.counted, *args, cover_sites=True)
        for f, a in zip(flows, alone, strict=True)
    }
    summed = Attribution(
        *(
            np.sum([getattr(a, k) for a in alone], axis=0) if alone else np.zeros(window)
            for k in Attribution.__dataclass_fields__
        )
    )
    if netted:
        net = sites_import - sites_export
        scope_import, scope_export = np.maximum(net, 0.0), np.maximum(-net, 0.0)
        att = attribute(flows, import_share(flows)) if flows else summed
        metrics = _period_metrics(flows, att, scope_import, scope_export, all_counted, *args, cover_sites=False)
        sum_of_sites = _period_metrics(flows, summed, sites_import, sites_export, all_counted, *args, cover_sites=True)
    else:
        scope_import, scope_export, att = sites_import, sites_export, summed
        metrics = _period_metrics(flows, att, scope_import, scope_export, all_counted, *args, cover_sites=True)
        sum_of_sites = None

    p = slice(w0, None)
    load, gen = _sum(flows, "load_wh", window)[p], _sum(flows, "generation_wh", window)[p]
    grid_supply = att.grid_supply_wh[p]
    data = has_data[p]

    def shown(a: FloatArray) -> FloatArray:
        return np.where(data, a, np.nan)

    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.where(data & (load > 0), (load - grid_supply) / np.where(load > 0, load, 1.0), np.nan)
    series = IntervalSeries(
        start_ms=inputs.start_ms + np.arange(n, dtype=np.int64) * interval_s * 1000,
        generation_wh=shown(gen),
        load_wh=shown(load),
        charge_wh=shown(_sum(flows, "charge_wh", window)[p]),
        discharge_wh=shown(_sum(flows, "discharge_wh", window)[p]),
        import_wh=shown(scope_import[p]),
        export_wh=shown(scope_export[p]),
        local_supply_wh=shown(load - grid_supply),
        grid_supply_wh=shown(grid_supply),
        local_storage_wh=shown(att.local_storage_wh[p]),
        self_sufficiency=ss,
        coverage=per_interval,
        unbalanced=unbalanced,
    )
    return AutonomyResult(
        scope=inputs.scope,
        start_ms=inputs.start_ms,
        end_ms=end_ms,
        interval_s=interval_s,
        method_version=METHOD_VERSION,
        metrics=metrics,
        sum_of_sites=sum_of_sites,
        sharing_gain_wh=float(sites_import[p].sum()) - metrics.import_wh,
        sites=site_metrics,
        series=series,
        coverage=cov,
        balance=balance,
        battery=_battery(inputs, load, gen, all_counted[p], interval_s, closed_by),
        flags=_flags(inputs, flows, balance, cov),
    )
