"""Energy of a scope by calendar period (day, week, month, year bars, with the previous period)
and its mean power over a time range: what the dashboard's charts display (viewer key).

Everything is computed here with the engine's rules (``autonomy_queries.periods``): the page
converts no unit and sums nothing. Periods and presets are resolved in Europe/Paris
(:mod:`dashboard_api.calendar`).

::

    GET /api/v1/energy?scope=&period=day|week|month|year&date=YYYY-MM-DD&compare=true
    GET /api/v1/power?scope=&start=&end=   (or &preset=today|yesterday|7d|this_month|last_month)
    GET /api/v1/ranges?preset=             a preset as [start, end) and local times
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request

from ville_autonome.autonomy import Metrics
from ville_autonome.autonomy_queries import ScopeError, scope_sites
from ville_autonome.autonomy_queries.periods import BarEnergy, PeriodEnergy, period_energy
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api import calendar
from ville_autonome.dashboard_api.deps import ApiSettingsDep, ConfigDep, StoreDep, ViewerKey
from ville_autonome.dashboard_api.energy_models import (
    BarOut,
    ChangeOut,
    EnergyOut,
    PeriodTotalsOut,
    PowerOut,
    PreviousOut,
    RangeOut,
    TotalsOut,
)
from ville_autonome.dashboard_api.errors import ERROR_RESPONSES, BadParameterError
from ville_autonome.dashboard_api.flow_links import flow_links
from ville_autonome.dashboard_api.params import TimeRange, check_points, interval_s, now_ms, time_range
from ville_autonome.dashboard_api.schemas import FlowLinkOut
from ville_autonome.dashboard_api.serialize import array_list

router = APIRouter(tags=["energy"])
HOUR_MS = 3_600_000
RAW_UP_TO_MS = 3 * 86_400_000  # /power: the engine's intervals up to 3 days, hours up to 31 days, days beyond
HOURS_UP_TO_MS = 31 * 86_400_000


def _scope(config: PlatformConfig, scope: str) -> str:
    try:
        scope_sites(config, scope)
    except ScopeError as exc:
        raise BadParameterError(str(exc), "scope") from None
    return scope


def _interval(config: PlatformConfig, interval: str | None) -> int:
    return interval_s(interval) if interval is not None else config.services.metrics.interval_minutes * 60


def _totals(m: Metrics) -> TotalsOut:
    return TotalsOut(
        generation_wh=m.generation_wh,
        generation_by_source_wh=dict(m.generation_by_source_wh),
        load_wh=m.load_wh,
        import_wh=m.import_wh,
        export_wh=m.export_wh,
        charge_wh=m.charge_wh,
        discharge_wh=m.discharge_wh,
        local_supply_wh=m.local_supply_wh,
        grid_supply_wh=m.grid_supply_wh,
        self_sufficiency=m.self_sufficiency,
        self_consumption=m.self_consumption,
    )


def _bars(p: PeriodEnergy, labels: list[str], now: int) -> list[BarOut]:
    return [_bar(b, label, now) for b, label in zip(p.bars, labels, strict=True)]


def _bar(b: BarEnergy, label: str, now: int) -> BarOut:
    return BarOut(
        start_ms=b.start_ms,
        end_ms=b.end_ms,
        label=label,
        future=b.start_ms >= now,
        totals=_totals(b.metrics) if b.metrics is not None else None,
        coverage=b.coverage,
        intervals=b.intervals,
        missing_intervals=b.missing_intervals,
        unbalanced_intervals=b.unbalanced_intervals,
    )


def _period_totals(p: PeriodEnergy) -> PeriodTotalsOut:
    r = p.result
    m = r.metrics
    links = flow_links(
        m.generation_by_source_wh,
        m.load_wh,
        m.charge_wh,
        m.discharge_wh,
        m.import_wh,
        m.export_wh,
        m.charge_from_grid_wh,
    )
    return PeriodTotalsOut(
        totals=_totals(m),
        charge_from_grid_wh=m.charge_from_grid_wh,
        avoided_co2_kg=m.avoided_co2_kg,
        complete=r.complete,
        coverage=r.coverage.ratio,
        flags=list(r.flags),
        links=[FlowLinkOut(source=x.source, target=x.target, value=x.value) for x in links],
    )


def _ratio_change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before <= 0:
        return None
    return now / before - 1.0


def change(current: Metrics, previous: Metrics) -> ChangeOut:
    """The current period against the previous one: relative change of each energy (None without a
    previous value), difference of self-sufficiency in points of ratio."""
    ss = (
        current.self_sufficiency - previous.self_sufficiency
        if current.self_sufficiency is not None and previous.self_sufficiency is not None
        else None
    )
    return ChangeOut(
        load=_ratio_change(current.load_wh, previous.load_wh),
        generation=_ratio_change(current.generation_wh, previous.generation_wh),
        imported=_ratio_change(current.import_wh, previous.import_wh),
        exported=_ratio_change(current.export_wh, previous.export_wh),
        self_sufficiency_points=ss,
    )


@router.get(
    "/energy",
    response_model=EnergyOut,
    summary="Energy of a scope over a calendar period, in bars (hours, days or months), with the previous period",
    description=(
        "A day is cut in hours, a week (ISO, Monday to Sunday) and a month in days, a year in months, in "
        "Europe/Paris. Each bar sums the engine's per-interval flows [Wh] (generation by source, load, "
        "import, export, battery) and takes its self-sufficiency from them (ΣLl / ΣL); a bar without any "
        "data has `totals: null` (missing is never zero). The period's totals, coverage, flags and the "
        "links of its flow diagram come from the engine's run over the whole period. `compare=true` adds "
        "the previous period and the change."
    ),
    responses=ERROR_RESPONSES,
)
def energy(
    key: ViewerKey,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    scope: Annotated[str, Query(description="city | district:<id> | site:<id>")] = "city",
    period: Annotated[str, Query(description="day | week | month | year")] = "day",
    date_: Annotated[
        str | None, Query(alias="date", description="a local date in the period (YYYY-MM-DD); default: today")
    ] = None,
    compare: Annotated[bool, Query(description="add the previous period and the change")] = True,
    interval: Annotated[str | None, Query(description="15m | 30m; default services.metrics.interval_minutes")] = None,
) -> EnergyOut:
    _scope(config, scope)
    if period not in calendar.PERIOD_KINDS:
        raise BadParameterError(f"period must be one of {', '.join(calendar.PERIOD_KINDS)}", "period")
    now = now_ms()
    try:
        day = date.fromisoformat(date_) if date_ is not None else calendar.local_date(now)
    except ValueError:
        raise BadParameterError(f"date: {str(date_)[:40]!r} is not a date (YYYY-MM-DD)", "date") from None
    if not 2000 <= day.year <= 2999:
        raise BadParameterError("date: outside the years 2000..2999", "date")
    step = _interval(config, interval)
    kind: Any = period
    p = calendar.period(kind, day)
    cache = request.app.state.energy_cache

    def run(q: calendar.Period) -> PeriodEnergy:
        bounds = [b.start_ms for b in q.buckets] + [q.end_ms]
        return period_energy(store, config, scope, bounds, step, cache=cache, now_ms=now)

    current = run(p)
    previous = None
    delta = None
    if compare:
        q = calendar.period(kind, p.previous)
        before = run(q)
        previous = PreviousOut(
            date=q.first_day.isoformat(),
            start_ms=q.start_ms,
            end_ms=q.end_ms,
            **_period_totals(before).model_dump(),
            bars=_bars(before, [b.label for b in q.buckets], now),
        )
        delta = change(current.result.metrics, before.result.metrics)
    return EnergyOut(
        scope=scope,
        period=period,
        date=p.first_day.isoformat(),
        start_ms=p.start_ms,
        end_ms=p.end_ms,
        previous_date=p.previous.isoformat(),
        next_date=p.next.isoformat(),
        in_progress=p.start_ms <= now < p.end_ms,
        interval_s=step,
        method_version=current.result.method_version,
        **_period_totals(current).model_dump(),
        bars=_bars(current, [b.label for b in p.buckets], now),
        previous=previous,
        change=delta,
    )


def _power_bounds(start_ms: int, end_ms: int, step_s: int) -> tuple[list[int], str]:
    """Bar bounds for /power: the engine's intervals, hours or local days (module constants)."""
    span = end_ms - start_ms
    step = step_s * 1000 if span <= RAW_UP_TO_MS else HOUR_MS if span <= HOURS_UP_TO_MS else 0
    if step:
        first = start_ms // step * step
        n = -(-(end_ms - first) // step)
        return [first + i * step for i in range(n + 1)], "interval" if span <= RAW_UP_TO_MS else "1h"
    days = calendar.days(calendar.local_date(start_ms), calendar.local_date(end_ms - 1))
    return [b.start_ms for b in days] + [days[-1].end_ms], "1d"


@router.get(
    "/power",
    response_model=PowerOut,
    summary="Mean power of a scope's load, generation, grid and battery over a range [W], for a chart",
    description=(
        "The engine's per-interval flows as mean power [W] per bar: the engine's intervals up to 3 days, "
        "hours up to 31 days, local days beyond. `grid_w` is import − export (+ import), `battery_w` "
        "discharge − charge (+ discharge). `preset` (today, yesterday, 7d, this_month, last_month) is "
        "resolved in Europe/Paris instead of start/end; `start_local`/`end_local` give the range's local "
        "times. A bar without data is null."
    ),
    responses=ERROR_RESPONSES,
)
def power(
    key: ViewerKey,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    settings: ApiSettingsDep,
    scope: Annotated[str, Query(description="city | district:<id> | site:<id>")] = "city",
    start: Annotated[
        str | None, Query(description="ISO 8601, a local time …[Europe/Paris], a date or epoch ms")
    ] = None,
    end: Annotated[str | None, Query(description="idem; default now")] = None,
    preset: Annotated[str | None, Query(description="today | yesterday | 7d | this_month | last_month")] = None,
) -> PowerOut:
    _scope(config, scope)
    now = now_ms()
    if preset is not None:
        if preset not in calendar.PRESETS:
            raise BadParameterError(f"preset must be one of {', '.join(calendar.PRESETS)}", "preset")
        start_ms, end_ms = calendar.preset_range(preset, now)
    else:
        rng = time_range(start, end, settings)
        start_ms, end_ms = rng.start_ms, rng.end_ms
    step = _interval(config, None)
    bounds, resolution = _power_bounds(start_ms, end_ms, step)
    check_points(TimeRange(bounds[0], bounds[-1]), step, settings, "end")
    p = period_energy(store, config, scope, bounds, step, cache=request.app.state.energy_cache, now_ms=now)
    return _power_out(scope, p, bounds, resolution, start_ms, end_ms)


def _power_out(scope: str, p: PeriodEnergy, bounds: list[int], resolution: str, start_ms: int, end_ms: int) -> PowerOut:
    def w(name: str) -> list[float | None]:
        out: list[float | None] = []
        for b in p.bars:
            m = b.metrics
            out.append(None if m is None else getattr(m, name) * 3_600_000 / (b.end_ms - b.start_ms))
        return out

    gen, load, imp, exp = w("generation_wh"), w("load_wh"), w("import_wh"), w("export_wh")
    dis, chg = w("discharge_wh"), w("charge_wh")
    return PowerOut(
        scope=scope,
        start_ms=start_ms,
        end_ms=end_ms,
        start_local=calendar.local_iso(start_ms),
        end_local=calendar.local_iso(end_ms),
        resolution=resolution,
        times_ms=bounds[:-1],
        generation_w=gen,
        load_w=load,
        grid_w=[None if a is None or b is None else a - b for a, b in zip(imp, exp, strict=True)],
        battery_w=[None if a is None or b is None else a - b for a, b in zip(dis, chg, strict=True)],
        self_sufficiency=[b.metrics.self_sufficiency if b.metrics is not None else None for b in p.bars],
        coverage=array_list(np.array([np.nan if b.coverage is None else b.coverage for b in p.bars])),
        complete=p.result.complete,
        flags=list(p.result.flags),
    )


@router.get(
    "/ranges",
    response_model=RangeOut,
    summary="A time-range preset resolved in Europe/Paris: [start, end) and its local times",
    responses=ERROR_RESPONSES,
)
def ranges(
    key: ViewerKey,
    preset: Annotated[str, Query(description="today | yesterday | 7d | this_month | last_month")],
) -> RangeOut:
    if preset not in calendar.PRESETS:
        raise BadParameterError(f"preset must be one of {', '.join(calendar.PRESETS)}", "preset")
    start_ms, end_ms = calendar.preset_range(preset, now_ms())
    return RangeOut(
        preset=preset,
        start_ms=start_ms,
        end_ms=end_ms,
        start_local=calendar.local_iso(start_ms),
        end_local=calendar.local_iso(end_ms),
    )
