"""The road to 2050: measured months and years of a scope against its target path. Pure numpy.

Months and years are Europe/Paris calendar periods. Each one's metrics are
``autonomy.metrics.period_metrics`` applied to that period's intervals of the engine's series —
the definitions of every other figure, never a second implementation — with the generation by
source from the engine's own site flows (``autonomy.flows.site_flows``, producers filled from the
balance included). A period without any data has no metrics (``None``), never zeros.

The target path joins the configured points (``targets:``, ``configuration.targets``) with
straight lines; before the first target year it starts from the first measured year, so the pace
the city needs is visible next to the pace it has had.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from ville_autonome.autonomy import AutonomyResult, Metrics, ScopeInputs
from ville_autonome.autonomy.flows import site_flows
from ville_autonome.autonomy.metrics import period_metrics
from ville_autonome.planning.dispatch import FloatArray

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class PeriodPoint:
    label: str  # "2026-03" (month) or "2026" (year)
    start_ms: int  # [UTC ms]
    metrics: Metrics | None  # None: no data at all in the period
    coverage: float  # mean energy-weighted coverage of its intervals [0, 1]
    target: float | None  # the target path at the period's middle
    flags: tuple[str, ...] = ()  # a year: the engine's flags for it (a month: see its year's)


def by_source(inputs: ScopeInputs) -> dict[str, FloatArray]:
    """Generation per source and interval of the reported period (warm-up left out) [Wh]."""
    out: dict[str, FloatArray] = {}
    for s in inputs.sites:
        for src, arr in site_flows(s, inputs.window).generation_by_source_wh.items():
            out[src] = out.get(src, np.zeros(inputs.window)) + arr
    return {k: v[inputs.warmup :] for k, v in out.items()}


def group_metrics(
    result: AutonomyResult, sources: Mapping[str, FloatArray], groups: np.ndarray, labels: Sequence[int], factor: float
) -> list[tuple[Metrics | None, float]]:
    """Metrics and mean coverage of the intervals whose ``groups`` value is each of ``labels``."""
    s = result.series

    def z(a: FloatArray) -> FloatArray:
        return np.nan_to_num(a, nan=0.0)

    out: list[tuple[Metrics | None, float]] = []
    for g in labels:
        sel = groups == g
        if not sel.any() or not np.isfinite(s.load_wh[sel]).any():
            out.append((None, float(s.coverage[sel].mean()) if sel.any() else 0.0))
            continue
        first = int(np.flatnonzero(sel)[0])
        m = period_metrics(
            generation_by_source_wh={k: z(v[sel]) for k, v in sources.items()},
            load_wh=z(s.load_wh[sel]),
            charge_wh=z(s.charge_wh[sel]),
            discharge_wh=z(s.discharge_wh[sel]),
            import_wh=z(s.import_wh[sel]),
            export_wh=z(s.export_wh[sel]),
            grid_supply_wh=z(s.grid_supply_wh[sel]),
            charge_from_grid_wh=np.zeros(int(sel.sum())),
            start_ms=int(s.start_ms[first]),
            interval_s=result.interval_s,
            emission_factor_g_per_kwh=factor,
            counted=(s.coverage[sel] > 0) & np.isfinite(s.load_wh[sel]),
            local_storage_wh=z(s.local_storage_wh[sel]),
        )
        out.append((m, float(s.coverage[sel].mean())))
    return out


def month_keys(start_ms: np.ndarray, tz: ZoneInfo = PARIS) -> np.ndarray:
    """``year × 12 + month − 1`` of each interval start in local time."""
    keys = []
    for ms in start_ms.tolist():
        d = datetime.fromtimestamp(ms / 1000, tz=tz)
        keys.append(d.year * 12 + d.month - 1)
    return np.asarray(keys, dtype=np.int64)


def year_fraction(ms: int, tz: ZoneInfo = PARIS) -> float:
    """A time as a fractional calendar year (2026.5 is about 1 July 2026)."""
    d = datetime.fromtimestamp(ms / 1000, tz=tz)
    start = datetime(d.year, 1, 1, tzinfo=tz)
    end = datetime(d.year + 1, 1, 1, tzinfo=tz)
    return d.year + (d - start) / (end - start)


def target_at(points: Sequence[tuple[float, float]], year: float) -> float | None:
    """The path through ``points`` ((year, share), sorted) at ``year``; None outside it."""
    if not points or year < points[0][0] or year > points[-1][0]:
        return None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return float(np.interp(year, xs, ys))


def path(targets: Mapping[int, float], first_measured: tuple[float, float] | None) -> list[tuple[float, float]]:
    """The target points as (year, share), starting from the first measured point when it comes
    before the first target year and below its target (a path never asks to go backwards; a year
    ``y`` is reached at the end of ``y``: ``y + 1``)."""
    pts = [(float(y) + 1.0, v) for y, v in sorted(targets.items())]
    if first_measured is not None and pts and first_measured[0] < pts[0][0] and first_measured[1] < pts[0][1]:
        pts.insert(0, first_measured)
    return pts


def pace_per_year(points: Sequence[tuple[float, float | None]]) -> float | None:
    """The least-squares slope of measured (year, self-sufficiency) points [share per year]."""
    known = [(x, y) for x, y in points if y is not None]
    if len(known) < 2 or known[-1][0] - known[0][0] <= 0:
        return None
    xs, ys = np.array([k[0] for k in known]), np.array([k[1] for k in known])
    return float(np.polyfit(xs, ys, 1)[0])
