from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ville_autonome.reports.periods import PeriodError, parse_period


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@pytest.mark.parametrize(
    ("text", "kind", "label", "first", "last"),
    [
        ("2026-10-05", "day", "2026-10-05", date(2026, 10, 5), date(2026, 10, 5)),
        ("2026-10", "month", "2026-10", date(2026, 10, 1), date(2026, 10, 31)),
        ("2026-02", "month", "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", "month", "2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-Q4", "quarter", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-q1", "quarter", "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026", "year", "2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-10-01..2026-10-15", "range", "2026-10-01..2026-10-15", date(2026, 10, 1), date(2026, 10, 15)),
        ("2026-09..2026-Q4", "range", "2026-09-01..2026-12-31", date(2026, 9, 1), date(2026, 12, 31)),
    ],
)
def test_forms(text: str, kind: str, label: str, first: date, last: date) -> None:
    p = parse_period(text)
    assert (p.kind, p.label, p.first_day, p.last_day) == (kind, label, first, last)


def test_bounds_are_paris_midnights_in_utc() -> None:
    p = parse_period("2026-10")
    # CEST (UTC+2) on 1 October, CET (UTC+1) on 1 November: clocks go back on 25 October
    assert _utc(p.start_ms) == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert _utc(p.end_ms) == datetime(2026, 10, 31, 23, tzinfo=UTC)


def test_clock_change_days_have_23_and_25_hours() -> None:
    spring, autumn = parse_period("2026-03-29"), parse_period("2026-10-25")
    assert spring.end_ms - spring.start_ms == 23 * 3600_000
    assert autumn.end_ms - autumn.start_ms == 25 * 3600_000
    assert len(parse_period("2026").days) == 365


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("october", "is not a day"),
        ("2026-13", "month must be in 1..12"),
        ("2026-02-30", "day is out of range"),
        ("2026-Q5", "is not a day"),
        ("2026-10-15..2026-10-01", "ends before it starts"),
        ("", "is not a day"),
        ("2001..2026", "at most"),
        ("1990", "the year must be in 2000..2999"),
        ("9999-12-31", "the year must be in 2000..2999"),  # no OverflowError on the day after
    ],
)
def test_bad_periods_say_why(text: str, says: str) -> None:
    with pytest.raises(PeriodError, match=says):
        parse_period(text)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_day_month_quarter_year_of_a_date_contain_it_and_tile_the_calendar(d: date) -> None:
    month = parse_period(f"{d.year:04d}-{d.month:02d}")
    quarter = parse_period(f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}")
    for p in (parse_period(d.isoformat()), month, quarter, parse_period(f"{d.year:04d}")):
        assert p.first_day <= d <= p.last_day
        assert p.start_ms < p.end_ms
        # local midnights: 22:00 or 23:00 UTC the day before
        assert _utc(p.start_ms).hour in (22, 23)
    # the next month starts where this one ends
    nxt = month.last_day + timedelta(days=1)
    assert parse_period(f"{nxt.year:04d}-{nxt.month:02d}").start_ms == month.end_ms
