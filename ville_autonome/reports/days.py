"""Per-day metrics of a report, by Europe/Paris calendar day.

Each day's metrics are :func:`autonomy.metrics.period_metrics` applied to that day's intervals of
the engine's series — the same definitions as the period's, never a second implementation. The
day's load is split into local and grid supply as the engine attributed it interval by interval
(the battery's stock by origin, docs/metrics.md). Intervals without data (NaN in the series) count
no energy and no time.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from ville_autonome.autonomy import AutonomyResult
from ville_autonome.autonomy.metrics import period_metrics
from ville_autonome.reports.model import DayRow
from ville_autonome.reports.periods import Period


def local_days(start_ms: np.ndarray, period: Period) -> list[date]:
    """The Europe/Paris calendar day of each interval start."""
    return [datetime.fromtimestamp(int(ms) / 1000, tz=period.tz).date() for ms in start_ms]


def daily_rows(result: AutonomyResult, period: Period, emission_factor_g_per_kwh: float) -> list[DayRow]:
    """One row per day of ``period`` (a day without intervals has zero totals and no ratios)."""
    s = result.series

    def z(a: np.ndarray) -> np.ndarray:
        return np.nan_to_num(a, nan=0.0)

    days = np.array([d.toordinal() for d in local_days(s.start_ms, period)], dtype=np.int64)
    rows = []
    for day in period.days:
        sel = days == day.toordinal()
        idx = np.flatnonzero(sel)
        start_ms = int(s.start_ms[idx[0]]) if idx.size else period.start_ms
        m = period_metrics(
            generation_by_source_wh={"all": z(s.generation_wh[sel])},
            load_wh=z(s.load_wh[sel]),
            charge_wh=z(s.charge_wh[sel]),
            discharge_wh=z(s.discharge_wh[sel]),
            import_wh=z(s.import_wh[sel]),
            export_wh=z(s.export_wh[sel]),
            grid_supply_wh=z(s.grid_supply_wh[sel]),
            charge_from_grid_wh=np.zeros(int(sel.sum())),
            start_ms=start_ms,
            interval_s=result.interval_s,
            emission_factor_g_per_kwh=emission_factor_g_per_kwh,
            counted=(s.coverage[sel] > 0) & np.isfinite(s.load_wh[sel]),
            local_storage_wh=z(s.local_storage_wh[sel]),
        )
        rows.append(DayRow(day=day, metrics=m, coverage=float(s.coverage[sel].mean()) if idx.size else 0.0))
    return rows
