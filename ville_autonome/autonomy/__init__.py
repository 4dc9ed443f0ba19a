"""The autonomy engine: energy-autonomy metrics of a site, a district or the city. Pure numpy, no I/O.

Entry point::

    from ville_autonome.autonomy import ScopeInputs, SiteInputs, DeviceEnergy, compute_scope
    result = compute_scope(inputs, interval_s=900, emission_factor_g_per_kwh=52.0, coverage_threshold=0.9)
    result.metrics.self_sufficiency, result.sum_of_sites, result.coverage, result.flags, result.method_version

Modules: ``counters`` (energy per interval from counters with the plausibility rules, or power as
a flagged fallback), ``boundaries`` (a reading on a boundary closes the interval before it),
``inputs`` (what the engine takes), ``flows`` (site balance, attribution, netting across sites),
``stock`` (the battery's content by origin), ``balance`` (closure of each site's balance),
``coverage`` (energy-weighted data coverage), ``metrics`` (period metrics), ``live`` (flows now
from instantaneous powers), ``engine`` (``compute_scope`` and the result types).
Formulas and references: docs/metrics.md.
"""

from ville_autonome.autonomy.balance import Balance
from ville_autonome.autonomy.boundaries import close_at_boundary
from ville_autonome.autonomy.counters import Anomaly, CounterEnergy, Status, counter_energy, power_energy
from ville_autonome.autonomy.coverage import Coverage, DeviceCoverage
from ville_autonome.autonomy.engine import (
    METHOD_VERSION,
    AutonomyResult,
    BatteryStatus,
    IntervalSeries,
    compute_scope,
)
from ville_autonome.autonomy.inputs import BatteryState, DeviceEnergy, ScopeInputs, SiteInputs
from ville_autonome.autonomy.metrics import Metrics

__all__ = [
    "METHOD_VERSION",
    "Anomaly",
    "AutonomyResult",
    "Balance",
    "BatteryState",
    "BatteryStatus",
    "CounterEnergy",
    "Coverage",
    "DeviceCoverage",
    "DeviceEnergy",
    "IntervalSeries",
    "Metrics",
    "ScopeInputs",
    "SiteInputs",
    "Status",
    "close_at_boundary",
    "compute_scope",
    "counter_energy",
    "power_energy",
]
