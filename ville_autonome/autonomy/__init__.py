"""The autonomy engine: energy-autonomy metrics of a site, a district or the city. Pure numpy, no I/O.

Entry point::

    from ville_autonome.autonomy import ScopeInputs, SiteInputs, DeviceEnergy, compute_scope
    result = compute_scope(inputs, interval_s=900, emission_factor_g_per_kwh=52.0, coverage_threshold=0.9)
    result.metrics.self_sufficiency, result.sum_of_sites, result.coverage, result.method_version

Modules: ``counters`` (energy per interval from counters, or power as a flagged fallback),
``inputs`` (what the engine takes), ``flows`` (site balance, attribution, netting across sites),
``metrics`` (period metrics), ``engine`` (``compute_scope`` and the result types).
Formulas and references: docs/metrics.md.
"""

from ville_autonome.autonomy.counters import Status, counter_energy, power_energy
from ville_autonome.autonomy.engine import (
    METHOD_VERSION,
    AutonomyResult,
    BatteryStatus,
    Coverage,
    DeviceCoverage,
    IntervalSeries,
    compute_scope,
)
from ville_autonome.autonomy.inputs import BatteryState, DeviceEnergy, ScopeInputs, SiteInputs
from ville_autonome.autonomy.metrics import Metrics

__all__ = [
    "METHOD_VERSION",
    "AutonomyResult",
    "BatteryState",
    "BatteryStatus",
    "Coverage",
    "DeviceCoverage",
    "DeviceEnergy",
    "IntervalSeries",
    "Metrics",
    "ScopeInputs",
    "SiteInputs",
    "Status",
    "compute_scope",
    "counter_energy",
    "power_energy",
]
