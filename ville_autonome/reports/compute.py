"""Build a report: the engine's result for a scope and period, read from the store.

Numbers come from :func:`autonomy_queries.compute_autonomy` — the function behind
``GET /api/v1/autonomy`` — over the period's Europe/Paris calendar bounds, so a report and the API
agree for the same scope and period. The whole period is computed at once (a battery's grid share
is a period quantity: cutting a year into months would change it).

::

    ReportError                  a report that cannot be made, said in one line
    ├── PeriodError              (reports.periods) malformed or impossible period
    └── ScopeError               (autonomy_queries) unknown or malformed scope, translated here
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np

from ville_autonome.autonomy_queries import ScopeError, compute_autonomy, parse_scope, scope_sites
from ville_autonome.autonomy_queries.reading import columnar
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.reports.days import daily_rows
from ville_autonome.reports.model import FloatArray, ReportData
from ville_autonome.reports.periods import Period, PeriodError, parse_period
from ville_autonome.storage.base import IntervalStat, Store

Progress = Callable[[str, int, int], None]  # (step, done, total)


class ReportError(ValueError):
    """A report that cannot be made (bad scope, bad period); the message says why."""


class ReportScopeError(ReportError):
    """Unknown or malformed scope."""


class ReportPeriodError(ReportError):
    """Malformed or impossible period."""


def check_period(text: str) -> Period:
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise ReportPeriodError(str(exc)) from exc


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


class _CountingStore:
    """Reports how many of the scope's devices have been read so far; forwards everything to the
    real store."""

    def __init__(self, store: Store, devices: Sequence[str], progress: Progress) -> None:
        self._store = store
        self._devices = set(devices)
        self._seen: set[str] = set()
        self._progress = progress

    def _count(self, device: str) -> None:
        if device in self._devices and device not in self._seen:
            self._seen.add(device)
            self._progress("read", len(self._seen), len(self._devices))

    def intervals(self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int) -> list[IntervalStat]:
        self._count(device)
        return self._store.intervals(device, quantity, start_ms, end_ms, interval_s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class _CountingColumnStore(_CountingStore):
    """The same for a store that reads intervals as numpy columns (``SqliteStore``): the autonomy
    engine keeps its fast path (``autonomy_queries.reading.columnar`` asks the class)."""

    def interval_columns(
        self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int, *, fields: Sequence[str]
    ) -> Any:
        self._count(device)
        return self._store.interval_columns(device, quantity, start_ms, end_ms, interval_s, fields=fields)


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
    reader: Store = store
    if progress is not None:
        devices = [dev.id for _, site in scope_sites(config, scope) for dev in site.devices]
        counting = _CountingColumnStore if columnar(store) is not None else _CountingStore
        reader = cast(Store, counting(store, devices, progress))
    try:
        result = compute_autonomy(reader, config, scope, p.start_ms, p.end_ms, step_s)
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
