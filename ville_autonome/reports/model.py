"""What a report holds: the engine's result for the scope and period, and what the layout adds.

:func:`reports.compute.build_report` fills a :class:`ReportData` with the
:class:`autonomy.AutonomyResult` of the scope and period — the very numbers ``GET
/api/v1/autonomy`` serves — plus the per-day breakdown, the batteries' state of charge per
interval, the names to print, the same metrics for the previous period and a year earlier, the
trajectory to the targets and what it would take to reach the next one. ``tables``, ``charts`` and
``document`` only lay it out. Energies ``[Wh]``, powers ``[W]``, ratios in ``[0, 1]``, times in UTC
milliseconds (shown in Europe/Paris).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy import AutonomyResult, Metrics, ScopeInputs
from ville_autonome.planning.history import Trajectory
from ville_autonome.planning.sizing import SizingResult
from ville_autonome.reports.periods import Period

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DayRow:
    """One Europe/Paris calendar day of the period: the engine's metrics over that day's intervals."""

    day: date
    metrics: Metrics | None  # None: no data at all that day
    coverage: float  # mean energy-weighted coverage of the day's intervals [0, 1]
    generation_by_source_wh: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Comparison:
    """The same scope over another period (the previous one, or a year earlier)."""

    period: Period
    result: AutonomyResult | None  # None: no data at all then


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The smallest battery that reaches the next target (``planning.sizing``)."""

    target_year: int
    target: float
    site: str
    sizing: SizingResult
    before: float | None  # today's self-sufficiency


@dataclass(frozen=True, slots=True)
class ReportData:
    result: AutonomyResult
    scope_name: str  # human name from the configuration
    period: Period
    generated_at: datetime  # aware
    days: list[DayRow]
    soc_pct: FloatArray  # the scope's batteries' mean state of charge per interval [%], NaN when unknown
    emission_factor_g_per_kwh: float
    names: dict[str, str] = field(default_factory=dict)  # device, site and district ids → names
    inputs: ScopeInputs | None = None  # the engine's inputs (when each flag happened; CSV cells of silent meters)
    sources_wh: dict[str, FloatArray] = field(default_factory=dict)  # generation per source and interval
    previous: Comparison | None = None
    last_year: Comparison | None = None
    trajectory: Trajectory | None = None
    what_if: WhatIf | None = None

    @property
    def scope(self) -> str:
        return self.result.scope

    @property
    def scope_kind(self) -> str:
        return self.result.scope.split(":", 1)[0]

    @property
    def interval_s(self) -> int:
        return self.result.interval_s

    @property
    def method_version(self) -> str:
        return self.result.method_version

    def name(self, ident: str) -> str:
        """The configuration's name of a device, site or district (its id when it has none)."""
        return self.names.get(ident, ident)
