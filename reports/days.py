"""Per-day totals of a report's interval flows, by Europe/Paris calendar day.

Pure: arrays in, rows out. A day's ratios follow the same definitions as the period's
(docs/metrics.md), applied to that day's sums of per-interval flows::

    self-sufficiency = 1 − ΣI / ΣL        self-consumption = 1 − ΣX / ΣG

``None`` where the denominator is zero (no load, no generation).
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from reports.model import DayRow, FloatArray, Flows
from reports.periods import Period


def ratio_complement(numerator_wh: float, denominator_wh: float) -> float | None:
    """``1 − numerator / denominator`` clipped to [0, 1]; ``None`` when the denominator is 0."""
    if denominator_wh <= 0:
        return None
    return float(min(1.0, max(0.0, 1.0 - numerator_wh / denominator_wh)))


def local_days(start_ms: np.ndarray, period: Period) -> list[date]:
    """The Europe/Paris calendar day of each interval start."""
    return [datetime.fromtimestamp(int(ms) / 1000, tz=period.tz).date() for ms in start_ms]


def daily_rows(flows: Flows, period: Period) -> list[DayRow]:
    """One row per day of ``period`` (days without intervals have zero totals and no ratios)."""
    days = local_days(flows.start_ms, period)
    index = {d: i for i, d in enumerate(period.days)}
    which = np.array([index.get(d, -1) for d in days], dtype=np.int64)
    n = len(index)

    def per_day(values: FloatArray) -> FloatArray:
        ok = which >= 0
        out = np.zeros(n)
        np.add.at(out, which[ok], np.nan_to_num(values[ok]))
        return out

    load = per_day(flows.load_wh)
    gen = per_day(flows.generation_wh)
    imp = per_day(flows.grid_import_wh)
    exp = per_day(flows.grid_export_wh)
    chg = per_day(flows.battery_charge_wh)
    dis = per_day(flows.battery_discharge_wh)
    counts = np.bincount(which[which >= 0], minlength=n)
    measured_sum = per_day(flows.measured)
    rows = []
    for d, i in index.items():
        rows.append(
            DayRow(
                day=d,
                load_wh=float(load[i]),
                generation_wh=float(gen[i]),
                grid_import_wh=float(imp[i]),
                grid_export_wh=float(exp[i]),
                battery_charge_wh=float(chg[i]),
                battery_discharge_wh=float(dis[i]),
                self_sufficiency=ratio_complement(float(imp[i]), float(load[i])),
                self_consumption=ratio_complement(float(exp[i]), float(gen[i])),
                measured=float(measured_sum[i] / counts[i]) if counts[i] else 0.0,
            )
        )
    return rows
