"""What a report holds, independent of how it is computed or drawn.

:func:`reports.compute.build_report` fills a :class:`ReportData` from the autonomy engine's
result (the same numbers the API serves); ``tables`` and ``pdf`` only lay it out. Energies are
in watt-hours per interval ``[Wh]``, powers in watts ``[W]``, ratios in ``[0, 1]``, times in UTC
milliseconds (converted to Europe/Paris only when drawn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from reports.periods import Period

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Flows:
    """Energy flows per interval of one scope, all ``[Wh]`` ≥ 0 except where stated.

    ``soc_pct`` is the scope's battery state of charge at the end of each interval ``[%]``
    (NaN where there is no battery or no reading); ``measured`` is the share of the scope's
    device-intervals that were measured (not imputed, not missing) ``[0, 1]``.
    """

    start_ms: IntArray
    load_wh: FloatArray
    generation_wh: FloatArray
    generation_by_source_wh: dict[str, FloatArray]
    battery_charge_wh: FloatArray
    battery_discharge_wh: FloatArray
    grid_import_wh: FloatArray
    grid_export_wh: FloatArray
    soc_pct: FloatArray
    measured: FloatArray

    def __len__(self) -> int:
        return int(self.start_ms.shape[0])


@dataclass(frozen=True, slots=True)
class Headline:
    """The period's metrics for one way of counting (netted scope, or sum of sites alone)."""

    self_sufficiency: float | None
    self_consumption: float | None
    load_cover_factor: float | None
    supply_cover_factor: float | None
    time_autonomy: float | None
    grid_interaction_index: float | None
    load_wh: float
    generation_wh: float
    grid_import_wh: float
    grid_export_wh: float
    net_balance_wh: float
    balance_ratio: float | None
    peak_import_w: float
    avoided_co2_kg: float
    energy_by_source_wh: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeviceCoverage:
    device: str
    measured: float  # share of the device's intervals [0, 1]
    imputed: float
    missing: float


@dataclass(frozen=True, slots=True)
class Coverage:
    measured: float
    imputed: float
    missing: float
    threshold: float
    devices: list[DeviceCoverage] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.measured + self.imputed >= self.threshold

    @property
    def missing_devices(self) -> list[DeviceCoverage]:
        return [d for d in self.devices if d.missing > 0]


@dataclass(frozen=True, slots=True)
class DayRow:
    """One local (Europe/Paris) day of the period, totals ``[Wh]`` and that day's ratios."""

    day: date
    load_wh: float
    generation_wh: float
    grid_import_wh: float
    grid_export_wh: float
    battery_charge_wh: float
    battery_discharge_wh: float
    self_sufficiency: float | None
    self_consumption: float | None
    measured: float


@dataclass(frozen=True, slots=True)
class ReportData:
    scope: str  # "city", "district:saint-leu", "site:iko-hydro"
    scope_name: str  # human name from the configuration
    period: Period
    generated_at: datetime  # aware, UTC
    interval_s: int
    method_version: str
    headline: Headline
    sum_of_sites: Headline | None  # None for a single site
    flows: Flows
    days: list[DayRow]
    coverage: Coverage
    battery_hours: float | None = None  # hours of autonomy at the end of the period
    emission_factor_g_per_kwh: float = 0.0
    sites: list[str] = field(default_factory=list)
