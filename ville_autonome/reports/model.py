"""What a report holds: the engine's result for the scope and period, and what the layout adds.

:func:`reports.compute.build_report` fills a :class:`ReportData` with the
:class:`autonomy.AutonomyResult` that ``autonomy_queries.compute_autonomy`` returns — the very
numbers the API serves — plus the per-day breakdown, the batteries' state of charge per interval
and the names to print. ``tables`` and ``pdf`` only lay it out. Energies ``[Wh]``, powers
``[W]``, ratios in ``[0, 1]``, times in UTC milliseconds (shown in Europe/Paris).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy import AutonomyResult, Metrics
from ville_autonome.reports.periods import Period

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DayRow:
    """One Europe/Paris calendar day of the period: the engine's metrics over that day's intervals."""

    day: date
    metrics: Metrics
    coverage: float  # mean share of the scope's devices measured in the day's intervals [0, 1]


@dataclass(frozen=True, slots=True)
class ReportData:
    result: AutonomyResult
    scope_name: str  # human name from the configuration
    period: Period
    generated_at: datetime  # aware
    days: list[DayRow]
    soc_pct: FloatArray  # the scope's batteries' mean state of charge per interval [%], NaN when unknown
    emission_factor_g_per_kwh: float

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
