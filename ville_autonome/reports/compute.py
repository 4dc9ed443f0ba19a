"""Build a report: the engine's result for a scope and period, read from the store.

Numbers come from :func:`planning.measured.measure` — ``autonomy_queries.scope_inputs`` and the
engine with the settings ``compute_autonomy`` uses, the function behind ``GET /api/v1/autonomy``
(a test checks they are equal) — over the period's Europe/Paris calendar bounds, with the same
warm-up before it. The report keeps the engine's inputs as well: they say when each flag
happened, and which intervals of the CSV a silent meter leaves empty. The same scope is computed
over the previous period and a year earlier for the cover's comparisons; a scope with targets
also gets its trajectory and the smallest battery that would reach its next target.

::

    ReportError                  a report that cannot be made, said in one line
    ├── ReportPeriodError        malformed, impossible or not yet begun period
    ├── ReportScopeError         unknown or malformed scope
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from ville_autonome.autonomy_queries import EnergyCache, ScopeError, parse_scope, scope_sites
from ville_autonome.autonomy_queries.reading import Progress
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.planning.history import trajectory
from ville_autonome.planning.measured import Measured, measure, ratings
from ville_autonome.planning.scenario import Scenario
from ville_autonome.planning.sizing import size_storage
from ville_autonome.planning.trajectory import by_source
from ville_autonome.reports.days import daily_rows
from ville_autonome.reports.model import Comparison, FloatArray, ReportData, WhatIf
from ville_autonome.reports.periods import Period, PeriodError, parse_period
from ville_autonome.storage.base import Store

WHAT_IF_C_RATE = 0.5
WHAT_IF_EFFICIENCY = 0.9


class ReportError(ValueError):
    """A report that cannot be made (bad scope, bad period, no data); the message says why."""


class ReportScopeError(ReportError):
    """Unknown or malformed scope."""


class ReportPeriodError(ReportError):
    """Malformed, impossible or not yet begun period."""


def check_period(text: str, now: datetime | None = None) -> Period:
    """The period ``text`` names; with ``now``, a period that has not begun is refused too."""
    try:
        p = parse_period(text)
    except PeriodError as exc:
        raise ReportPeriodError(str(exc)) from exc
    if now is not None and not p.has_begun(now):
        today = now.astimezone(p.tz).date().isoformat()
        raise ReportPeriodError(
            f"period {p.label} has not begun yet (today is {today} in {p.tz.key}): nothing to report"
        )
    return p


def scope_name(config: PlatformConfig, scope: str) -> str:
    """The human name of a scope (the configuration's ``name``, else its id)."""
    try:
        kind, ident = parse_scope(scope)
        pairs = scope_sites(config, scope)
    except ScopeError as exc:
        raise ReportScopeError(str(exc)) from exc
    if kind == "city":
        return config.city.name or config.city.id
    if kind == "district":
        district = next(d for d in config.districts if d.id == ident)
        return district.name or district.id
    return pairs[0][1].name or pairs[0][1].id


def names(config: PlatformConfig) -> dict[str, str]:
    """Every district, site and device id → its name (the id where it has none); ``__city__``: the city's."""
    out = {"__city__": config.city.name or config.city.id} | {d.id: d.name or d.id for d in config.districts}
    out |= {s.id: s.name or s.id for _, s in config.sites()}
    out |= {dev.id: dev.name or dev.id for _, _, dev in config.devices()}
    return out


def battery_soc(store: Store, config: PlatformConfig, scope: str, start_ms: int, n: int, interval_s: int) -> FloatArray:
    """Capacity-weighted mean state of charge of the scope's batteries per interval [%], NaN when
    no battery reported in an interval."""
    weighted, weights = np.zeros(n), np.zeros(n)
    step = interval_s * 1000
    for _, site in scope_sites(config, scope):
        for dev in site.devices:
            if dev.role != "storage":
                continue
            w = dev.capacity_wh or 1.0
            for st in store.intervals(dev.id, "soc_pct", start_ms, start_ms + n * step, interval_s):
                i = (st.start_ms - start_ms) // step
                if 0 <= i < n and st.count:
                    weighted[i] += w * st.mean
                    weights[i] += w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weights > 0, weighted / np.where(weights > 0, weights, 1.0), np.nan)


def _shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def earlier_periods(p: Period) -> tuple[Period | None, Period | None]:
    """The previous period of the same kind and length, and the same period a year earlier
    (None for a year, whose previous period is a year earlier)."""
    if p.kind == "year":
        prev = parse_period(str(p.first_day.year - 1)) if p.first_day.year > 2000 else None
        return prev, None
    if p.kind == "month":
        first = (p.first_day - timedelta(days=1)).replace(day=1)
        prev_text = f"{first.year:04d}-{first.month:02d}"
    elif p.kind == "quarter":
        first = (p.first_day - timedelta(days=1)).replace(day=1)
        prev_text = f"{first.year:04d}-Q{(first.month - 1) // 3 + 1}"
    else:
        n = len(p.days)
        a, b = p.first_day - timedelta(days=n), p.first_day - timedelta(days=1)
        prev_text = a.isoformat() if p.kind == "day" else f"{a.isoformat()}..{b.isoformat()}"
    a, b = _shift_years(p.first_day, -1), _shift_years(p.last_day, -1)
    year_text = {
        "month": f"{a.year:04d}-{a.month:02d}",
        "quarter": p.label.replace(str(p.first_day.year), str(a.year)),
    }.get(p.kind, a.isoformat() if p.kind == "day" else f"{a.isoformat()}..{b.isoformat()}")
    try:
        return parse_period(prev_text), parse_period(year_text)
    except PeriodError:  # before the year 2000
        return None, None


def _comparison(
    store: Store,
    config: PlatformConfig,
    scope: str,
    p: Period | None,
    step_s: int,
    cache: EnergyCache | None,
    now_ms: int,
) -> Comparison | None:
    if p is None:
        return None
    m = measure(store, config, scope, p.start_ms, p.end_ms, step_s, cache=cache, now_ms=now_ms)
    has_data = m.result.coverage.ratio > 0 and np.isfinite(m.result.series.load_wh).any()
    return Comparison(p, m.result if has_data else None)


def _what_if(m: Measured, config: PlatformConfig, scope: str, period: Period) -> WhatIf | None:
    """The smallest battery that reaches the scope's next target (a site of the scope with the most import)."""
    targets = next((t.self_sufficiency for t in config.targets if t.scope == scope), None)
    if not targets or not m.inputs.sites:
        return None
    year = next((y for y in sorted(targets) if y >= period.last_day.year), max(targets))
    site = max(m.result.sites, key=lambda s: m.result.sites[s].import_wh)
    sizing = size_storage(
        m.inputs,
        Scenario(),
        m.settings,
        site=site,
        target=targets[year],
        ratings=ratings(config),
        c_rate_per_h=WHAT_IF_C_RATE,
        round_trip_efficiency=WHAT_IF_EFFICIENCY,
        max_evaluations=12,
    )
    return WhatIf(year, targets[year], site, sizing, m.result.metrics.self_sufficiency)


def build_report(
    store: Store,
    config: PlatformConfig,
    scope: str,
    period: Period | str,
    *,
    interval_s: int | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    cache: EnergyCache | None = None,
    extras: bool = True,
) -> ReportData:
    """Everything a report shows for ``scope`` over ``period`` (a :class:`Period` or its string).
    ``extras``: the comparisons, the trajectory and the what-if section (off for CSV/XLSX tables)."""
    p = check_period(period) if isinstance(period, str) else period
    name = scope_name(config, scope)
    step_s = interval_s or config.services.metrics.interval_minutes * 60
    factor = config.services.metrics.grid_emission_factor_g_per_kwh
    at = now or datetime.now(UTC)
    now_ms = int(at.timestamp() * 1000)
    try:
        m = measure(store, config, scope, p.start_ms, p.end_ms, step_s, cache=cache, progress=progress, now_ms=now_ms)
    except ScopeError as exc:
        raise ReportScopeError(str(exc)) from exc
    result = m.result
    if progress is not None:
        progress("compute", 1, 1)
    n = int(result.series.start_ms.shape[0])
    soc = battery_soc(store, config, scope, result.start_ms, n, step_s)
    sources = by_source(m.inputs)
    previous = last_year = traj = what_if = None
    if extras:
        before, year_ago = earlier_periods(p)
        previous = _comparison(store, config, scope, before, step_s, cache, now_ms)
        last_year = _comparison(store, config, scope, year_ago, step_s, cache, now_ms)
        if progress is not None:
            progress("compare", 1, 1)
        if any(t.scope == scope for t in config.targets):
            traj = trajectory(store, config, scope, now_ms=now_ms, cache=cache)
            what_if = _what_if(m, config, scope, p)
            if progress is not None:
                progress("trajectory", 1, 1)
    return ReportData(
        result=result,
        scope_name=name,
        period=p,
        generated_at=at,
        days=daily_rows(result, p, factor, sources),
        soc_pct=soc,
        emission_factor_g_per_kwh=factor,
        names=names(config),
        inputs=m.inputs,
        sources_wh=sources,
        previous=previous,
        last_year=last_year,
        trajectory=traj,
        what_if=what_if,
    )


def has_data(data: ReportData) -> bool:
    """Whether anything at all was measured for the scope over the period."""
    return data.result.coverage.ratio > 0 and bool(np.isfinite(data.result.series.load_wh).any())
