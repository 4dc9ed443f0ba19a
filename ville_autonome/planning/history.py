"""The trajectory of a scope since its data began, read from the store (``GET /api/v1/trajectory``,
the staff page, the reports' trajectory section).

Each calendar year since the first stored reading of the scope's devices (at most
``MAX_YEARS``, the latest ones) is computed as one period by the engine, like a year report
(:func:`planning.measured.measure`); its months are cut from that year's series
(:mod:`planning.trajectory`). The current year runs up to now.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime

from ville_autonome.autonomy_queries import QUANTITIES_BY_ROLE, EnergyCache, scope_sites
from ville_autonome.autonomy_queries.reading import Progress
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.planning.measured import Measured, measure
from ville_autonome.planning.trajectory import (
    PARIS,
    PeriodPoint,
    by_source,
    group_metrics,
    month_keys,
    pace_per_year,
    path,
    target_at,
    year_fraction,
)
from ville_autonome.storage.base import Store

MAX_YEARS = 10
EARLIEST_MS = 946_684_800_000  # 2000-01-01 UTC: the API's earliest time


@dataclass(frozen=True)
class Trajectory:
    scope: str
    first_data_ms: int | None  # the scope's first stored reading (None: no data)
    months: list[PeriodPoint]
    years: list[PeriodPoint]
    targets: dict[int, float]  # the configured points (year → share)
    path: list[tuple[float, float]]  # (fractional year, share): the target path drawn
    measured_pace: float | None  # self-sufficiency gained per year so far (least squares on the years)
    required_pace: float | None  # per year, from the latest measured year to the next target (None: reached)
    latest: float | None  # the latest measured year's self-sufficiency
    next_target: tuple[int, float] | None
    method_version: str | None
    emission_factor_g_per_kwh: float


def first_data_ms(store: Store, config: PlatformConfig, scope: str, now_ms: int) -> int | None:
    """The first stored energy reading of the scope's devices (None without any)."""
    firsts = []
    for _, site in scope_sites(config, scope):
        for dev in site.devices:
            supply, draw = QUANTITIES_BY_ROLE[dev.role]
            for q in (*supply, *draw, "active_power_w"):
                found = store.series(dev.id, q, EARLIEST_MS, now_ms, limit=1)
                if found:
                    firsts.append(found[0].ts_ms)
                    break
    return min(firsts) if firsts else None


def trajectory(
    store: Store,
    config: PlatformConfig,
    scope: str,
    *,
    now_ms: int | None = None,
    cache: EnergyCache | None = None,
    progress: Progress | None = None,
) -> Trajectory:
    """Measured months and years of ``scope`` against its targets (raises ``ScopeError``)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    interval_s = config.services.metrics.interval_minutes * 60
    factor = config.services.metrics.grid_emission_factor_g_per_kwh
    targets = next((t.self_sufficiency for t in config.targets if t.scope == scope), {})
    first = first_data_ms(store, config, scope, now)
    months: list[PeriodPoint] = []
    years: list[PeriodPoint] = []
    version = None
    if first is not None:
        y0 = max(
            datetime.fromtimestamp(first / 1000, tz=PARIS).year,
            datetime.fromtimestamp(now / 1000, tz=PARIS).year - MAX_YEARS + 1,
        )
        y1 = datetime.fromtimestamp(now / 1000, tz=PARIS).year
        for year in range(y0, y1 + 1):
            start = int(datetime(year, 1, 1, tzinfo=PARIS).timestamp() * 1000)
            end = min(int(datetime(year + 1, 1, 1, tzinfo=PARIS).timestamp() * 1000), now)
            m = measure(store, config, scope, start, end, interval_s, cache=cache, progress=progress, now_ms=now)
            version = m.result.method_version
            year_months, year_point = _year_points(m, year, start, first, factor)
            months += year_months
            years.append(year_point)
    # the pace, the path's start and the latest figure rest on years measured enough: a year with a few
    # intervals of data (coverage below the threshold) is shown, flagged, but does not set the pace
    threshold = config.services.metrics.coverage_threshold
    measured = [
        (float(int(p.label)) + 1.0, p.metrics.self_sufficiency if p.metrics and p.coverage >= threshold else None)
        for p in years
    ]
    first_point = next(((x - 1.0, y) for x, y in measured if y is not None), None)
    drawn = path(targets, first_point)
    months = [_with_target(p, drawn) for p in months]
    years = [_with_target(p, drawn) for p in years]
    latest, nxt, required = _ahead(targets, measured)
    return Trajectory(
        scope,
        first,
        months,
        years,
        dict(targets),
        drawn,
        pace_per_year(measured),
        required,
        latest[1] if latest is not None else None,
        nxt,
        version,
        factor,
    )


def _year_points(
    m: Measured, year: int, start: int, first: int, factor: float
) -> tuple[list[PeriodPoint], PeriodPoint]:
    """The months of one measured year (those ended before the data began left out) and the year."""
    sources = by_source(m.inputs)
    keys = month_keys(m.result.series.start_ms)
    wanted = sorted({int(k) for k in keys})
    months: list[PeriodPoint] = []
    for key, (metrics, cov) in zip(wanted, group_metrics(m.result, sources, keys, wanted, factor), strict=True):
        y, mo = divmod(key, 12)
        ms = int(datetime(y, mo + 1, 1, tzinfo=PARIS).timestamp() * 1000)
        if int(datetime(y + (mo + 1) // 12, (mo + 1) % 12 + 1, 1, tzinfo=PARIS).timestamp() * 1000) <= first:
            continue  # a month that ended before the data began
        months.append(PeriodPoint(f"{y:04d}-{mo + 1:02d}", ms, metrics, cov, None))
    [(metrics, cov)] = group_metrics(m.result, sources, keys * 0, [0], factor)
    return months, PeriodPoint(f"{year:04d}", start, metrics, cov, None, tuple(m.result.flags))


def _ahead(
    targets: dict[int, float], measured: list[tuple[float, float | None]]
) -> tuple[tuple[float, float] | None, tuple[int, float] | None, float | None]:
    """The latest measured figure, the next target ahead of it, and the pace per year it requires
    (None: no target ahead, no measured year, or the target is reached already)."""
    latest = next(((x, y) for x, y in reversed(measured) if y is not None), None)
    nxt = next(((y, v) for y, v in sorted(targets.items()) if latest is None or y + 1.0 > latest[0]), None)
    required = None
    if latest is not None and nxt is not None and nxt[0] + 1.0 > latest[0] and latest[1] < nxt[1]:
        required = (nxt[1] - latest[1]) / (nxt[0] + 1.0 - latest[0])
    return latest, nxt, required


def _with_target(p: PeriodPoint, drawn: list[tuple[float, float]]) -> PeriodPoint:
    mid = year_fraction(p.start_ms) + (1 / 24 if len(p.label) == 7 else 0.5)
    return replace(p, target=target_at(drawn, mid))
