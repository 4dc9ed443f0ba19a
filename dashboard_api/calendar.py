"""The city's calendar (Europe/Paris): periods, their bars, and the time-range presets. Pure.

The dashboard never does time-zone arithmetic: it names a period (``day``, ``week``, ``month``,
``year``) and a local date, or a preset (``today``, ``yesterday``, ``7d``, ``this_month``,
``last_month``), and the server resolves it here with the tz database:

- a **day** is local midnight to local midnight (23 or 25 hours on the days the clocks change),
  cut in hourly bars (UTC hours: Paris offsets are whole hours, so each is one local hour);
- a **week** is ISO 8601 (Monday to Sunday), cut in days; a **month** in days; a **year** in months;
- the previous and next periods are named by their first local date.

Every boundary is a local midnight (or a local hour), so it falls on a 15- and 30-minute interval
boundary of the engine.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
HOUR_MS = 3_600_000
PeriodKind = Literal["day", "week", "month", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("day", "week", "month", "year")
Preset = Literal["today", "yesterday", "7d", "this_month", "last_month"]
PRESETS: tuple[Preset, ...] = ("today", "yesterday", "7d", "this_month", "last_month")


@dataclass(frozen=True)
class Bucket:
    """One bar of a period: [start_ms, end_ms) and its local start (``2026-11-30``, ``2026-11``,
    ``2026-11-30T14:00``)."""

    start_ms: int
    end_ms: int
    label: str


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first_day: date  # local
    start_ms: int
    end_ms: int
    buckets: tuple[Bucket, ...]
    previous: date  # first local day of the previous period
    next: date


def midnight_ms(d: date) -> int:
    """Local midnight of ``d`` (Europe/Paris) as UTC epoch ms."""
    return int(datetime(d.year, d.month, d.day, tzinfo=PARIS).timestamp() * 1000)


def local_date(t_ms: int) -> date:
    return datetime.fromtimestamp(t_ms / 1000, tz=PARIS).date()


def local_iso(t_ms: int) -> str:
    """``2026-11-30T14:30``: the local wall-clock time of ``t_ms`` (to the minute)."""
    return datetime.fromtimestamp(t_ms / 1000, tz=PARIS).strftime("%Y-%m-%dT%H:%M")


def _add_months(d: date, months: int) -> date:
    m = d.year * 12 + d.month - 1 + months
    return date(m // 12, m % 12 + 1, 1)


def first_day(kind: PeriodKind, d: date) -> date:
    """The first local day of the period of ``kind`` that holds ``d``."""
    if kind == "day":
        return d
    if kind == "week":
        return d - timedelta(days=d.weekday())
    if kind == "month":
        return d.replace(day=1)
    return date(d.year, 1, 1)


def shift(kind: PeriodKind, first: date, n: int) -> date:
    """The first day of the period ``n`` periods after the one starting on ``first``."""
    if kind == "day":
        return first + timedelta(days=n)
    if kind == "week":
        return first + timedelta(weeks=n)
    if kind == "month":
        return _add_months(first, n)
    return date(first.year + n, 1, 1)


def days(first: date, last: date) -> tuple[Bucket, ...]:
    """One bucket per local day from ``first`` to ``last`` (both included)."""
    return _days(first, last + timedelta(days=1))


def _days(start: date, end: date) -> tuple[Bucket, ...]:
    out = []
    d = start
    while d < end:
        nxt = d + timedelta(days=1)
        out.append(Bucket(midnight_ms(d), midnight_ms(nxt), d.isoformat()))
        d = nxt
    return tuple(out)


def period(kind: PeriodKind, d: date) -> Period:
    """The period of ``kind`` holding the local date ``d``, with its bars."""
    first = first_day(kind, d)
    nxt = shift(kind, first, 1)
    start_ms, end_ms = midnight_ms(first), midnight_ms(nxt)
    if kind == "day":
        buckets = tuple(Bucket(t, t + HOUR_MS, local_iso(t)) for t in range(start_ms, end_ms, HOUR_MS))
    elif kind == "year":
        months = [_add_months(first, i) for i in range(13)]
        buckets = tuple(
            Bucket(midnight_ms(a), midnight_ms(b), a.strftime("%Y-%m")) for a, b in itertools.pairwise(months)
        )
    else:
        buckets = _days(first, nxt)
    return Period(kind, first, start_ms, end_ms, buckets, shift(kind, first, -1), nxt)


def preset_range(preset: Preset, now_ms: int) -> tuple[int, int]:
    """[start, end) of a time-range preset at ``now_ms``: ``today`` and ``this_month`` end now,
    ``7d`` is the last 7 × 24 hours, ``yesterday`` and ``last_month`` are whole local periods."""
    today = local_date(now_ms)
    if preset == "today":
        return midnight_ms(today), now_ms
    if preset == "yesterday":
        return midnight_ms(today - timedelta(days=1)), midnight_ms(today)
    if preset == "7d":
        return now_ms - 7 * 24 * HOUR_MS, now_ms
    if preset == "this_month":
        return midnight_ms(today.replace(day=1)), now_ms
    first = today.replace(day=1)
    return midnight_ms(_add_months(first, -1)), midnight_ms(first)
