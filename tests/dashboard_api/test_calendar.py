"""The city's calendar: periods, bars and presets in Europe/Paris, across the clock changes."""

from __future__ import annotations

from datetime import date

import pytest

from ville_autonome.dashboard_api import calendar

HOUR = 3_600_000


@pytest.mark.parametrize(("day", "hours"), [("2026-03-29", 23), ("2026-10-25", 25), ("2026-11-30", 24)])
def test_a_day_has_one_bar_per_local_hour(day: str, hours: int) -> None:
    p = calendar.period("day", date.fromisoformat(day))
    assert len(p.buckets) == hours
    assert p.end_ms - p.start_ms == hours * HOUR
    assert p.buckets[0].label == f"{day}T00:00"
    assert p.buckets[-1].label == f"{day}T23:00"
    if hours == 23:  # 02:00 does not exist in spring
        assert [b.label[11:] for b in p.buckets[1:3]] == ["01:00", "03:00"]
    if hours == 25:  # 02:00 comes twice in autumn
        assert [b.label[11:] for b in p.buckets[2:4]] == ["02:00", "02:00"]


def test_weeks_are_iso_months_and_years_are_calendar() -> None:
    week = calendar.period("week", date(2026, 1, 1))  # a Thursday
    assert week.first_day == date(2025, 12, 29)
    assert [b.label for b in week.buckets][::6] == ["2025-12-29", "2026-01-04"]
    assert (week.previous, week.next) == (date(2025, 12, 22), date(2026, 1, 5))
    month = calendar.period("month", date(2026, 2, 14))
    assert len(month.buckets) == 28
    assert (month.previous, month.next) == (date(2026, 1, 1), date(2026, 3, 1))
    year = calendar.period("year", date(2026, 7, 4))
    assert [b.label for b in year.buckets][::11] == ["2026-01", "2026-12"]
    assert year.start_ms == calendar.midnight_ms(date(2026, 1, 1))
    assert year.buckets[2].end_ms - year.buckets[2].start_ms == (31 * 24 - 1) * HOUR  # March loses an hour
    assert (year.previous, year.next) == (date(2025, 1, 1), date(2027, 1, 1))


def test_every_bound_is_on_a_quarter_hour() -> None:
    for kind in calendar.PERIOD_KINDS:
        p = calendar.period(kind, date(2026, 10, 25))
        assert all(b.start_ms % 900_000 == 0 for b in p.buckets)


def test_presets_are_local_periods() -> None:
    now = calendar.midnight_ms(date(2026, 3, 30)) + 10 * HOUR + 123  # 30 March 2026, 10:00 (CEST)
    assert calendar.preset_range("today", now) == (calendar.midnight_ms(date(2026, 3, 30)), now)
    start, end = calendar.preset_range("yesterday", now)
    assert (end - start, calendar.local_iso(start)) == (23 * HOUR, "2026-03-29T00:00")  # the spring change
    assert calendar.preset_range("7d", now) == (now - 7 * 24 * HOUR, now)
    assert calendar.local_iso(calendar.preset_range("this_month", now)[0]) == "2026-03-01T00:00"
    start, end = calendar.preset_range("last_month", now)
    assert (calendar.local_iso(start), calendar.local_iso(end)) == ("2026-02-01T00:00", "2026-03-01T00:00")
