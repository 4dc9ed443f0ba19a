"""The energy by period, the power history and a device's history on the dashboard in real
headless Chromium against the real API process over a real SQLite store (one server and one
browser for the module).

Answers out of order: the page's requests for a chart are held by the browser (CDP ``Fetch``, once
the real API has answered) and let go in the order the test chooses, so that the older period's,
range's or quantity's answer reaches the page last, without a sleep: the page gave that request up
and the newer one stays shown; the panel is busy while the newest answer is awaited and stops being
busy with it or with its error (said, with no chart of another range left)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard.chromium import Page
from tests.dashboard.server import KEYS
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PANEL = "#panel-history"


def _panel(page: Page) -> dict[str, Any]:
    """What the history shows: the range asked (its button), the one shown, busy, the note, the quantity."""
    return dict(
        page.evaluate(f"""(p => ({{
            asked: (p.querySelector('#range-presets button[aria-pressed=true]') || {{dataset: {{}}}}).dataset.range,
            shown: p.dataset.shown || '', busy: p.getAttribute('aria-busy'),
            note: p.querySelector('#history-coverage').textContent,
            points: p.querySelector('#history-chart').dataset.points || '',
            quantity: p.querySelector('#history-chart').dataset.quantity || '',
        }}))(document.querySelector('{PANEL}'))""")
    )  # fmt: skip


def _settled(page: Page, **want: str) -> dict[str, Any]:
    """Wait until the panel shows ``want`` and awaits nothing."""

    def seen() -> dict[str, Any] | None:
        p = _panel(page)
        return p if p["busy"] == "false" and all(p[k] == v for k, v in want.items()) else None

    shown = wait_for(seen, timeout=90, interval=0.1, what=f"the history showing {want}")
    assert shown is not None
    return shown


def _held(page: Page, key: str, value: str) -> list[dict[str, Any]]:
    page.drain()
    return [h for h in page.held if parse_qs(urlsplit(h["request"]["url"]).query).get(key) == [value]]


def _aborted(page: Page, held: list[dict[str, Any]]) -> bool:
    page.drain()
    return all(h["networkId"] in page.cancelled for h in held)


def test_an_older_range_s_power_answer_arriving_last_does_not_replace_the_newer_one(
    live_city_url: str, desktop_tab: Page
) -> None:
    page = desktop_tab.open_ready(f"{live_city_url}/sites/saint-leu-housing?key={KEYS['operator']}&range=today")
    _settled(page, shown="today")
    page.hold_requests("*/api/v1/power?*")
    try:
        page.click(f"{PANEL} button[data-range='7d']")
        wait_for(lambda: _held(page, "preset", "7d"), timeout=90, what="the 7-day answer held")
        assert (_panel(page)["busy"], _panel(page)["shown"]) == ("true", "today")  # busy, the old chart dimmed
        page.click(f"{PANEL} button[data-range='yesterday']")
        wait_for(lambda: _held(page, "preset", "yesterday"), timeout=90, what="yesterday's answer held")
        older = _held(page, "preset", "7d")
        wait_for(lambda: _aborted(page, older), timeout=30, what="the 7-day request aborted")
        for h in _held(page, "preset", "yesterday"):
            assert page.release(h)
        _settled(page, asked="yesterday", shown="yesterday")
        # the older range's answer reaches the browser last: the page reads nothing of it
        assert [page.release(h) for h in older] == [False] * len(older)
        page.drain()
        assert _panel(page)["shown"] == "yesterday"

        # the newest request fails: its error is said, no chart of another range stays, not busy
        page.click(f"{PANEL} button[data-range='7d']")
        wait_for(lambda: _held(page, "preset", "7d"), timeout=90, what="the 7-day answer held")
        for h in _held(page, "preset", "7d"):
            page.fail(h)
        failed = _settled(page, asked="7d", shown="")
        assert "the API does not answer" in failed["note"]
        assert failed["points"] == ""
    finally:
        page.stop_holding()
    page.click(f"{PANEL} button[data-range='7d']")  # asked again, it answers
    _settled(page, shown="7d")
    page.drain()
    assert all("status of 403" in p or "ERR_CONNECTION_REFUSED" in p for p in page.problems), page.problems


def test_an_older_quantity_s_answer_arriving_last_does_not_replace_the_newer_one(
    live_city_url: str, desktop_tab: Page
) -> None:
    page = desktop_tab.open_ready(f"{live_city_url}/devices/slh-battery?key={KEYS['operator']}&range=today")
    _settled(page, shown="today", quantity="active_power_w")
    page.hold_requests("*/api/v1/series?*")
    try:
        page.evaluate(
            "(s => { s.value = 'soc_pct'; s.dispatchEvent(new Event('change')); })(document.getElementById('h-what'))"
        )
        wait_for(lambda: _held(page, "quantity", "soc_pct"), timeout=90, what="the charge's answer held")
        page.evaluate(
            "(s => { s.value = 'active_power_w'; s.dispatchEvent(new Event('change')); })(document.getElementById('h-what'))"
        )
        wait_for(lambda: _held(page, "quantity", "active_power_w"), timeout=90, what="the power's answer held")
        older = _held(page, "quantity", "soc_pct")
        wait_for(lambda: _aborted(page, older), timeout=30, what="the charge's request aborted")
        for h in _held(page, "quantity", "active_power_w"):
            assert page.release(h)
        _settled(page, quantity="active_power_w")
        assert [page.release(h) for h in older] == [False] * len(older)
        page.drain()
        assert _panel(page)["quantity"] == "active_power_w"
    finally:
        page.stop_holding()
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems


def test_an_older_period_s_energy_answer_arriving_last_does_not_replace_the_newer_one(
    live_city_url: str, desktop_tab: Page
) -> None:
    page = desktop_tab.open_ready(f"{live_city_url}/sites/saint-leu-housing?key={KEYS['operator']}&period=day")

    def energy() -> tuple[str, str]:
        """The energy panel's busy state and the period its chart shows."""
        busy, period = page.evaluate(
            "[document.getElementById('panel-energy').getAttribute('aria-busy'),"
            " document.getElementById('energy-chart').dataset.period || '']"
        )
        return str(busy), str(period)

    wait_for(lambda: energy() == ("false", "day"), timeout=90, interval=0.1, what="the day's energy")
    page.hold_requests("*/api/v1/energy?*")
    try:
        page.click("#panel-energy button[data-period='week']")
        wait_for(lambda: _held(page, "period", "week"), timeout=90, what="the week's answer held")
        page.click("#panel-energy button[data-period='year']")
        wait_for(lambda: _held(page, "period", "year"), timeout=90, what="the year's answer held")
        assert energy() == ("true", "day")
        older = _held(page, "period", "week")
        wait_for(lambda: _aborted(page, older), timeout=30, what="the week's request aborted")
        for h in _held(page, "period", "year"):
            assert page.release(h)
        wait_for(lambda: energy() == ("false", "year"), timeout=90, interval=0.1, what="the year's energy")
        assert [page.release(h) for h in older] == [False] * len(older)
        page.drain()
        assert energy() == ("false", "year")
    finally:
        page.stop_holding()
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems
