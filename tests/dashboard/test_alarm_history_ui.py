"""The alarm history's window on the dashboard in real headless Chromium against the real API
process over a real SQLite store and its alarm log (one server and one browser for the module).

Answers out of order: the page's requests for the history are held by the browser (CDP ``Fetch``,
once the real API has answered) and let go in the order the test chooses, so that the older
window's answer reaches the page last, without a sleep: the newer window stays shown, "loading…"
is said while the newest answer is awaited and ends with it or with its error. The window in the
URL (``?alarm_range=``): kept by a reload, by back/forward and in a shared link; an unknown one is
said and the default window shown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard.alarm_city import alarm_city
from tests.dashboard.chromium import Page
from tests.dashboard.server import KEYS, ApiProcess
from tests.support.waiting import wait_for
from ville_autonome.journals.alarm_records import AlarmEvent, AlarmRecord

pytestmark = [pytest.mark.slow, pytest.mark.browser]

S = 1000
DAY = 86_400 * S
WINDOWS = {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
RULES = [{"id": "battery-low", "kind": "battery_soc", "below": 10, "severity": "warning"}]
PANEL = ".alarm-history"
HISTORY_REQUESTS = "*/api/v1/alarms?state=resolved*"


def resolved(alarm_id: str, device: str, site: str, district: str, days_ago: float) -> AlarmRecord:
    """An alarm that fired and ended ``days_ago`` days ago (in the 7- or 30-day window, not in 24 h)."""
    end = int(time.time() * 1000) - int(days_ago * DAY)
    return AlarmRecord(
        id=alarm_id, key=f"battery-low:{device}", rule="battery-low", subject=device, scope="device",
        severity="warning", state="resolved", labels={"device": device, "site": site, "district": district},
        summary=f"{device}: low {days_ago:g} days ago", value=8.0, active_since_ms=end - 3600 * S,
        pending_ms=end - 3600 * S, updated_ms=end, fired_ms=end - 3000 * S, resolved_ms=end,
        notified_firing_ms=end - 2900 * S,
    )  # fmt: skip


THREE_DAYS = resolved("3d000001", "slh-battery", "saint-leu-housing", "saint-leu", 3)
TEN_DAYS = resolved("10d00001", "cit-load", "campus", "citadelle", 10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("alarm-history-ui")
    with alarm_city(tmp, RULES) as (config, log):
        log.save_alarms([THREE_DAYS, TEN_DAYS])
        log.add_events([
            AlarmEvent(a.resolved_ms or 0, "resolved", a.key, a.id, "", "") for a in (THREE_DAYS, TEN_DAYS)
        ])  # fmt: skip
        with ApiProcess(config, tmp) as srv:
            yield srv.url


def _panel(page: Page) -> dict[str, Any]:
    """What the history shows: the window asked (its button), the one shown, loading, the words."""
    return dict(
        page.evaluate(f"""(p => ({{
            asked: (p.querySelector('.alarm-ranges button[aria-pressed=true]') || {{dataset: {{}}}}).dataset.range,
            shown: p.dataset.shown, busy: p.getAttribute('aria-busy'),
            status: p.querySelector('#alarm-history-status').hidden ? '' : p.querySelector('#alarm-history-status').textContent,
            resolved: [...p.querySelectorAll('#resolved-list li[data-alarm]')].map(li => li.dataset.alarm),
        }}))(document.querySelector('{PANEL}'))""")
    )  # fmt: skip


def _shown(page: Page, window: str) -> dict[str, Any]:
    """Wait until the panel shows ``window``'s answer and awaits nothing."""
    return dict(
        wait_for(
            lambda: (lambda p: p if p["shown"] == window and p["busy"] == "false" else None)(_panel(page)),
            timeout=90,
            interval=0.1,
            what=f"the history over {window}",
        )
    )


def _window(held: dict[str, Any]) -> str:
    q = parse_qs(urlsplit(held["request"]["url"]).query)
    span = int(q["end"][0]) - int(q["start"][0])
    return next(name for name, ms in WINDOWS.items() if ms == span)


def _held(page: Page, window: str) -> list[dict[str, Any]]:
    page.drain()
    return [h for h in page.held if _window(h) == window]


def _release_all(page: Page, window: str) -> bool:
    """Let every held request for ``window`` go (the page may have asked it again meanwhile: an alarm
    event read the history again); True once the panel shows that window's answer."""
    for h in _held(page, window):
        page.release(h)
    p = _panel(page)
    return p["shown"] == window and p["busy"] == "false"


def test_an_older_window_s_answer_arriving_last_does_not_replace_the_newer_one(server: str, desktop_tab: Page) -> None:
    page = desktop_tab.open_ready(f"{server}/?key={KEYS['operator']}")
    assert _shown(page, "24h")["resolved"] == []
    page.hold_requests(HISTORY_REQUESTS)
    try:
        page.click(f"{PANEL} button[data-range='7d']")
        wait_for(lambda: _held(page, "7d"), timeout=90, what="the 7-day answer held")
        assert _panel(page)["status"] == "Chargement de l'historique sur 7 jours…"
        page.click(f"{PANEL} button[data-range='30d']")
        now = _panel(page)
        # the newer window is asked and said loading; the lists are still the 24 hours' (dimmed)
        assert (now["asked"], now["shown"], now["busy"]) == ("30d", "24h", "true")
        assert now["status"] == "Chargement de l'historique sur 30 jours…"
        wait_for(lambda: _held(page, "30d"), timeout=90, what="the 30-day answer held")
        # the page gave up the older request when the newer one was asked
        older = _held(page, "7d")
        wait_for(
            lambda: page.drain() or all(h["networkId"] in page.cancelled for h in older),
            timeout=30,
            what="the 7-day request aborted",
        )
        wait_for(lambda: _release_all(page, "30d"), timeout=90, interval=0.1, what="the 30 days shown")
        # the older window's answer reaches the browser last: the page reads nothing of it
        assert [page.release(h) for h in older] == [False] * len(older)
        page.drain()
        shown = _panel(page)
        assert (shown["asked"], shown["shown"], shown["busy"], shown["status"]) == ("30d", "30d", "false", "")
        assert sorted(shown["resolved"]) == sorted([THREE_DAYS.id, TEN_DAYS.id])
        assert parse_qs(urlsplit(page.evaluate("location.href")).query)["alarm_range"] == ["30d"]

        # the newest request fails: its error is said and "loading…" does not stay
        page.click(f"{PANEL} button[data-range='7d']")
        wait_for(lambda: _held(page, "7d"), timeout=90, what="the 7-day answer held")
        for h in _held(page, "7d"):
            page.fail(h)
        failed = page.wait_text("#alarm-history-status", lambda s: "Historique indisponible" in s, timeout=90)
        assert "the API does not answer" in failed
        assert (_panel(page)["busy"], _panel(page)["shown"], _panel(page)["resolved"]) == ("false", "", [])
    finally:
        page.stop_holding()
    # asked again, it answers
    page.click(f"{PANEL} button[data-range='7d']")
    assert _shown(page, "7d")["resolved"] == [THREE_DAYS.id]
    page.drain()
    # the only errors: the failed request the test made, the staff's views refused (403)
    assert all("status of 403" in p or "ERR_CONNECTION_REFUSED" in p for p in page.problems), page.problems


def test_the_window_is_kept_by_a_reload_back_forward_and_a_shared_link(server: str, desktop_tab: Page) -> None:
    page = desktop_tab.open_ready(f"{server}/?key={KEYS['viewer']}")
    _shown(page, "24h")
    assert "alarm_range" not in page.evaluate("location.search")  # the default is left out
    page.click(f"{PANEL} button[data-range='7d']")
    assert _shown(page, "7d")["resolved"] == [THREE_DAYS.id]
    assert page.evaluate("location.search") == "?alarm_range=7d"

    page.leave("location.reload()", "the page reloaded")
    assert _shown(page, "7d")["asked"] == "7d"

    # to a district's page and back: the city's history over 7 days again
    page.leave("document.querySelector('nav#scopes a').click()", "a district's page")
    assert _shown(page, "24h")["asked"] == "24h"  # another page: its own window
    page.leave("history.back()", "the city's page again")
    assert (page.evaluate("location.pathname"), page.evaluate("location.search")) == ("/", "?alarm_range=7d")
    assert _shown(page, "7d")["resolved"] == [THREE_DAYS.id]

    # a link with a window opens on it
    page.open_ready(f"{server}/sites/campus?alarm_range=30d&lang=en")
    shown = _shown(page, "30d")
    assert (shown["asked"], shown["resolved"], shown["status"]) == ("30d", [TEN_DAYS.id], "")
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems


def test_an_unknown_window_in_the_url_is_said_and_the_default_shown(server: str, desktop_tab: Page) -> None:
    page = desktop_tab.open_ready(f"{server}/?key={KEYS['viewer']}&alarm_range=3w&lang=en")
    shown = _shown(page, "24h")
    assert shown["asked"] == "24h"
    assert shown["status"] == "Unknown window in the address: “3w” (24h, 7d or 30d); history over 24 hours."
    assert page.text("#resolved-list") == "Nothing in this period."  # the 24 hours', not a blank panel
    assert page.evaluate("getComputedStyle(document.getElementById('alarm-history-status')).display") != "none"
    # choosing a window ends the message and writes it in the URL
    page.click(f"{PANEL} button[data-range='30d']")
    assert _shown(page, "30d")["status"] == ""
    assert page.evaluate("location.search") == "?lang=en&alarm_range=30d"
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems
