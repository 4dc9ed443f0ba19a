"""Build a report: the engine's result for a scope and period, read from the store.

Numbers come from :func:`autonomy_queries.compute_autonomy` — the function behind
``GET /api/v1/autonomy`` — over the period's Europe/Paris calendar bounds, so a report and the API
agree for the same scope and period. The whole period is computed at once, with the same warm-up
before it as the API's (the battery stock's starting state).

::

    ReportError                  a report that cannot be made, said in one line
    ├── PeriodError              (reports.periods) malformed or impossible period
    └── ScopeError               (autonomy_queries) unknown or malformed scope, translated here
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from ville_autonome.autonomy_queries import ScopeError, compute_autonomy, parse_scope, scope_sites
from ville_autonome.autonomy_queries.reading import Progress
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.reports.days import daily_rows
from ville_autonome.reports.model import FloatArray, ReportData
from ville_autonome.reports.periods import Period, PeriodError, parse_period
from ville_autonome.storage.base import Store


class ReportError(ValueError):
    """A report that cannot be made (bad scope, bad period); the message says why."""


class ReportScopeError(ReportError):
    """Unknown or malformed scope."""


class ReportPeriodError(ReportError):
    """Malformed or impossible period."""


def check_period(text: str, now: datetime | None = None) -> Period:
    """The period ``text`` names; with ``now``, a period that has not begun is refused too."""
    try:
        p = parse_period(text)
    except PeriodError as exc:
        raise ReportPeriodError(str(exc)) from exc
    if now is not None and not p.has_begun(now):
        today = now.astimezone(p.tz).date().isoformat()
        raise ReportPeriodError(f"period {p.label} has not begun yet (today is {today} in {p.tz.key}): nothing to report")
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


def build_report(
    store: Store,
    config: PlatformConfig,
    scope: str,
    period: Period | str,
    *,
    interval_s: int | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ReportData:
    """Everything a report shows for ``scope`` over ``period`` (a :class:`Period` or its string)."""
    p = check_period(period) if isinstance(period, str) else period
    name = scope_name(config, scope)
    step_s = interval_s or config.services.metrics.interval_minutes * 60
    factor = config.services.metrics.grid_emission_factor_g_per_kwh
    try:
        result = compute_autonomy(store, config, scope, p.start_ms, p.end_ms, step_s, progress=progress)
    except ScopeError as exc:
        raise ReportScopeError(str(exc)) from exc
    if progress is not None:
        progress("compute", 1, 1)
    n = int(result.series.start_ms.shape[0])
    soc = battery_soc(store, config, scope, result.start_ms, n, step_s)
    return ReportData(
        result=result,
        scope_name=name,
        period=p,
        generated_at=now or datetime.now(UTC),
        days=daily_rows(result, p, factor),
        soc_pct=soc,
        emission_factor_g_per_kwh=factor,
    )
