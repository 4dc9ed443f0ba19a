"""Report periods: calendar periods in Europe/Paris, parsed from short strings.

::

    2026-10-05              a day
    2026-10                 a month
    2026-Q4                 a quarter
    2026                    a year
    2026-10-01..2026-10-15  a range of whole days, both ends included

A period is ``[start, end)`` between local midnights, so a day is 23 or 25 hours long on the
days clocks change, and a month is what the calendar says. Parsing is pure; a bad string raises
:class:`PeriodError` naming what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
MAX_RANGE_DAYS = 3660

PeriodKind = Literal["day", "month", "quarter", "year", "range"]

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


MAX_PERIOD_CHARS = 64
MIN_YEAR, MAX_YEAR = 2000, 2999  # the platform's times (the API refuses others too); 9999-12-31 has no next day


class PeriodError(ValueError):
    """A period string that is not one of the accepted forms, or an impossible date."""


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar period: local days ``first_day`` .. ``last_day`` (inclusive) in ``tz``."""

    kind: PeriodKind
    label: str  # the canonical string, e.g. "2026-10" or "2026-10-01..2026-10-15"
    first_day: date
    last_day: date
    tz: ZoneInfo = PARIS

    @property
    def start(self) -> datetime:
        """Local midnight starting the first day (aware)."""
        return datetime.combine(self.first_day, datetime.min.time(), tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day (aware, exclusive)."""
        return datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(), tzinfo=self.tz)

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)

    def has_begun(self, now: datetime) -> bool:
        """Whether the period's first local midnight is at or before ``now`` (aware)."""
        return self.start <= now

    @property
    def days(self) -> list[date]:
        n = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(n)]


def _date(y: str, m: str, d: str, text: str) -> date:
    if not MIN_YEAR <= int(y) <= MAX_YEAR:
        raise PeriodError(f"period {text!r}: the year must be in {MIN_YEAR}..{MAX_YEAR}")
    try:
        return date(int(y), int(m), int(d))
    except ValueError as exc:
        raise PeriodError(f"period {text!r}: {exc}") from None


def _month_end(first: date) -> date:
    nxt = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return nxt - timedelta(days=1)


def _single(text: str) -> Period:
    if m := _DAY.match(text):
        day = _date(m[1], m[2], m[3], text)
        return Period("day", day.isoformat(), day, day)
    if m := _MONTH.match(text):
        first = _date(m[1], m[2], "1", text)
        return Period("month", f"{first.year:04d}-{first.month:02d}", first, _month_end(first))
    if m := _QUARTER.match(text):
        q = int(m[2])
        first = _date(m[1], str(3 * q - 2), "1", text)
        last = _month_end(date(first.year, 3 * q, 1))
        return Period("quarter", f"{first.year:04d}-Q{q}", first, last)
    if m := _YEAR.match(text):
        first = _date(m[1], "1", "1", text)
        return Period("year", f"{first.year:04d}", first, date(first.year, 12, 31))
    raise PeriodError(
        f"period {text!r} is not a day (2026-10-05), month (2026-10), quarter (2026-Q4), "
        "year (2026) or range (2026-10-01..2026-10-15)"
    )


def parse_period(text: str, tz: ZoneInfo = PARIS) -> Period:
    """Parse ``text`` into a :class:`Period` of local calendar days in ``tz``."""
    text = text.strip()
    if len(text) > MAX_PERIOD_CHARS:  # never echo an arbitrary long input back
        raise PeriodError(f"a period of {len(text)} characters is not a period (at most {MAX_PERIOD_CHARS})")
    if ".." in text:
        left, _, right = text.partition("..")
        a, b = _single(left.strip()), _single(right.strip())
        if b.last_day < a.first_day:
            raise PeriodError(f"period {text!r}: the range ends before it starts")
        first, last = a.first_day, b.last_day
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise PeriodError(f"period {text!r}: a range may span at most {MAX_RANGE_DAYS} days")
        return Period("range", f"{first.isoformat()}..{last.isoformat()}", first, last, tz)
    p = _single(text)
    return Period(p.kind, p.label, p.first_day, p.last_day, tz)
