"""Per-day metrics of a report, by Europe/Paris calendar day.

Each day's metrics are :func:`autonomy.metrics.period_metrics` applied to that day's intervals of
the engine's series (:func:`planning.trajectory.group_metrics`) — the same definitions as the
period's, never a second implementation. The day's load is split into local and grid supply as
the engine attributed it interval by interval. A day without any data has no metrics (``None``:
empty cells, a gap in a chart), never zeros.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import numpy as np

from ville_autonome.autonomy import AutonomyResult
from ville_autonome.planning.trajectory import group_metrics
from ville_autonome.reports.model import DayRow, FloatArray
from ville_autonome.reports.periods import Period


def local_days(start_ms: np.ndarray, period: Period) -> list[date]:
    """The Europe/Paris calendar day of each interval start."""
    return [datetime.fromtimestamp(int(ms) / 1000, tz=period.tz).date() for ms in start_ms]


def daily_rows(
    result: AutonomyResult,
    period: Period,
    emission_factor_g_per_kwh: float,
    sources_wh: Mapping[str, FloatArray] | None = None,
) -> list[DayRow]:
    """One row per day of ``period``; ``sources_wh``: generation per source and interval (else all in one)."""
    s = result.series
    sources = dict(sources_wh) if sources_wh else {"all": np.nan_to_num(s.generation_wh)}
    keys = np.array([d.toordinal() for d in local_days(s.start_ms, period)], dtype=np.int64)
    wanted = [d.toordinal() for d in period.days]
    rows = []
    for day, (m, cov) in zip(
        period.days, group_metrics(result, sources, keys, wanted, emission_factor_g_per_kwh), strict=True
    ):
        by_source = dict(m.generation_by_source_wh) if m is not None and sources_wh else {}
        rows.append(DayRow(day, m, cov, by_source))
    return rows
