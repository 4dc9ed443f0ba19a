"""The alarms on the dashboard in real headless Chromium against the real API process over a real
SQLite store and its alarm log (one server and one browser for the module): an alarm the
evaluator stores reaches the banner and the bell of an open page by the stream, without a reload;
an operator acknowledges it with a comment and silences another from the list (a preset or a typed
duration), and the API records who; the active silences are listed and an operator ends one; the
resolved alarms and events of a chosen window are under the list; a gateway's alarm names its
devices; an admin is warned of undelivered notifications; a viewer sees the same alarms with no
button. The alarm panel is photographed in French and English at 1600, 390 and 2560 px. The alarms are written to the alarm log as the evaluator
(``ville-autonome alerts``) writes them: the seam between the evaluator and the API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dashboard.alarm_city import alarm_city
from tests.dashboard.chromium import Chromium, Page
from tests.dashboard.screenshots import shot
from tests.dashboard.server import KEYS, ApiProcess
from tests.support.waiting import wait_for
from ville_autonome.journals.alarm_records import AlarmEvent, AlarmLog, AlarmRecord, Delivery

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard" / "alarms"
S = 1000
RULES = [
    {"id": "device-silent", "kind": "device_silent", "severity": "critical"},
    {"id": "battery-low", "kind": "battery_soc", "below": 10, "severity": "warning"},
    {"id": "gateway-offline", "kind": "gateway_offline", "severity": "info"},
]
SIZES = {"desktop": (1600, 1000), "phone": (390, 844), "wall": (2560, 1440)}


def alarm(alarm_id: str, rule: str, device: str, site: str, district: str, **kw: Any) -> AlarmRecord:
    now = int(time.time() * 1000)
    fields: dict[str, Any] = {
        "id": alarm_id, "key": f"{rule}:{device}", "rule": rule, "subject": device, "scope": "device",
        "severity": "critical", "state": "firing",
        "labels": {"device": device, "site": site, "district": district},
        "summary": f"{device}: silent for 95 s", "value": 95.0, "active_since_ms": now - 100 * S,
        "pending_ms": now - 90 * S, "updated_ms": now - 60 * S, "fired_ms": now - 60 * S,
        "notified_firing_ms": now - 55 * S,
    }  # fmt: skip
    fields.update(kw)
    return AlarmRecord(**fields)


PENDING = alarm(
    "ba77e401", "battery-low", "slh-battery", "saint-leu-housing", "saint-leu",
    severity="warning", state="pending", fired_ms=None, notified_firing_ms=None, summary="slh-battery: SoC 8 % < 10 %",
)  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AlarmLog, str]]:
    tmp = tmp_path_factory.mktemp("alarms-ui")
    with alarm_city(tmp, RULES) as (config, log):
        log.save_alarms([PENDING])
        with ApiProcess(config, tmp) as srv:
            yield log, srv.url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium(tmp_path_factory.mktemp("chromium")) as b:
        yield b


@pytest.fixture(scope="module")
def tab(browser: Chromium) -> Page:
    return browser.new_page(1600, 1000)


def _open(page: Page, url: str) -> Page:
    page.open_ready(url)
    wait_for(lambda: page.evaluate("Boolean(document.querySelector('#alarm-list li'))"), timeout=90, what="alarm list")
    return page


def _api(url: str, path: str) -> Any:
    r = httpx.get(f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {KEYS['viewer']}"}, timeout=90)
    r.raise_for_status()
    return r.json()


def _set(page: Page, selector: str, value: str) -> None:
    page.evaluate(
        f"(n => {{ n.value = {value!r}; n.dispatchEvent(new Event('change')); }})(document.querySelector({selector!r}))"
    )


def test_a_firing_alarm_reaches_the_banner_live_and_an_operator_acknowledges_it(
    server: tuple[AlarmLog, str], tab: Page
) -> None:
    log, url = server
    page = _open(tab, f"{url}/?key={KEYS['operator']}")
    # only a pending alarm: listed, but nothing fires, so no banner
    assert page.evaluate("document.getElementById('alarm-banner').hidden") is True
    assert page.evaluate("document.querySelector('#alarm-list li').dataset.state") == "pending"
    assert page.evaluate("document.querySelector('#alarm-bell .sev[data-severity=critical]').dataset.count") == "0"

    # the evaluator stores a firing alarm: the open page shows it by the stream, without a reload
    page.evaluate("window.notReloaded = true")
    log.save_alarms([alarm("a10ad51e", "device-silent", "slh-load", "saint-leu-housing", "saint-leu")])
    banner = page.wait_text("#alarm-banner", lambda s: "slh-load: silent for 95 s" in s, timeout=90, what="the banner")
    assert "1 alarme(s) en cours, 1 non acquittée(s)" in banner
    assert "(critique)" in banner
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("document.querySelector('#alarm-bell .sev[data-severity=critical]').dataset.count") == "1"
    assert page.evaluate("document.querySelector('#alarm-banner a.top-alarm').getAttribute('href')").startswith(
        "/devices/slh-load"
    )
    row = "#alarm-list li[data-alarm='a10ad51e']"
    assert page.evaluate(f"document.querySelector(\"{row} a.subject\").getAttribute('href')").startswith(
        "/devices/slh-load"
    )
    shot(page, ARTIFACTS, "alarms-operator-desktop")

    page.evaluate(f"document.querySelector(\"{row} .ack-comment\").value = 'on my way'")
    page.click(f"{row} button.ack")
    acked = page.wait_text(row, lambda s: "acquittée par test-operator" in s, timeout=90, what="the acknowledgement")
    assert "« on my way »" in acked
    assert page.evaluate(f'document.querySelector("{row} button.ack")') is None
    recorded = _api(url, "/alarms/a10ad51e")
    assert (recorded["acked_by"], recorded["ack_comment"]) == ("test-operator", "on my way")
    page.wait_text("#alarm-banner", lambda s: "0 non acquittée(s)" in s, timeout=90, what="the banner's count")

    # silence the pending alarm for 4 hours, with a reason
    pending = "#alarm-list li[data-alarm='ba77e401']"
    page.click(f"{pending} button.silence")
    page.evaluate(f"document.querySelector(\"{pending} .silence-hours\").value = '4'")
    page.evaluate(f"document.querySelector(\"{pending} .silence-reason\").value = 'battery swap today'")
    page.click(f"{pending} .silence-send")
    page.wait_text("#alarm-result", lambda s: "Sous silence pour 4 h" in s, timeout=90, what="the silence")
    silences = _api(url, "/alarms")["silences"]
    assert [(s["rule"], s["subject"], s["reason"], s["created_by"]) for s in silences] == [
        ("battery-low", "slh-battery", "battery swap today", "test-operator")
    ]
    assert 4 * 3600 * S - 60 * S <= silences[0]["end_ms"] - silences[0]["start_ms"] <= 4 * 3600 * S
    page.wait_text(pending, lambda s: "sous silence" in s, timeout=90, what="the alarm shown silenced")
    page.drain()
    # the only errors: the refusals (403) of the staff's views, logged by the browser
    assert all("status of 403" in p for p in page.problems), page.problems


def test_a_viewer_sees_the_alarms_and_no_button(server: tuple[AlarmLog, str], tab: Page) -> None:
    log, url = server
    log.save_alarms([alarm("c17f51e0", "device-silent", "cit-pv", "campus", "citadelle")])
    page = _open(tab, f"{url}/districts/citadelle?key={KEYS['viewer']}&lang=en")
    page.wait_text("#alarm-banner", lambda s: "cit-pv: silent for 95 s" in s, timeout=90, what="the banner")
    # the district's list holds its own alarms only; the banner and the bell count the city's
    page.wait_text("#alarm-list", lambda s: "CRITICAL" in s and "cit-pv: silent for 95 s" in s, timeout=90, what="list")
    rows = page.evaluate("[...document.querySelectorAll('#alarm-list li')].map(li => li.dataset.alarm)")
    assert rows == ["c17f51e0"]
    assert page.evaluate("document.querySelectorAll('#alarm-list button, .silence-form').length") == 0
    page.leave("document.querySelector('#alarm-list li a.subject').click()", "the device page")
    assert page.evaluate("location.pathname") == "/devices/cit-pv"
    page.wait_text("#alarm-list", lambda s: "cit-pv: silent for 95 s" in s, timeout=90, what="the device's alarms")
    assert page.evaluate("document.querySelectorAll('#alarm-list button').length") == 0
    shot(page, ARTIFACTS, "alarms-viewer-device")
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems


def test_a_typed_silence_is_listed_with_its_end_and_an_operator_ends_it(
    server: tuple[AlarmLog, str], tab: Page
) -> None:
    log, url = server
    page = _open(tab, f"{url}/?key={KEYS['operator']}&lang=en")
    pending = "#alarm-list li[data-alarm='ba77e401']"
    page.click(f"{pending} button.silence")
    _set(page, f"{pending} .silence-hours", "custom")
    assert page.evaluate(f'document.querySelector("{pending} .silence-duration").hidden') is False
    _set(page, f"{pending} .silence-duration", "soon")
    _set(page, f"{pending} .silence-reason", "inverter swap")
    page.click(f"{pending} .silence-send")
    page.wait_text("#alarm-result", lambda s: "Unreadable duration" in s, timeout=90, what="the refusal")
    assert all(s["reason"] != "inverter swap" for s in _api(url, "/alarms")["silences"])

    _set(page, f"{pending} .silence-duration", "2h30")
    # an alarm arrives by the stream while the operator types: the list is redrawn, the typing kept
    log.save_alarms([
        alarm("f00d0001", "battery-low", "cit-load", "campus", "citadelle", severity="info", state="pending",
              fired_ms=None, notified_firing_ms=None, summary="cit-load: a passing doubt")
    ])  # fmt: skip
    page.wait_text("#alarm-list", lambda s: "a passing doubt" in s, timeout=90, what="the new alarm")
    assert page.evaluate(f'document.querySelector("{pending} .silence-form").hidden') is False
    assert page.evaluate(f'document.querySelector("{pending} .silence-duration").value') == "2h30"
    assert page.evaluate(f'document.querySelector("{pending} .silence-reason").value') == "inverter swap"
    page.click(f"{pending} .silence-send")
    page.wait_text("#alarm-result", lambda s: "Silenced for 2 h 30 min" in s, timeout=90, what="the silence")
    created = [s for s in _api(url, "/alarms")["silences"] if s["reason"] == "inverter swap"]
    assert len(created) == 1
    assert 150 * 60 * S - 60 * S <= created[0]["end_ms"] - created[0]["start_ms"] <= 150 * 60 * S
    item = f"#silence-list li[data-silence='{created[0]['id']}']"
    listed = page.wait_text(item, lambda s: "inverter swap" in s, timeout=90, what="the silence listed")
    assert "battery-low · slh-battery" in listed
    assert "until" in listed
    assert "by test-operator" in listed

    page.click(f"{item} button.end-silence")
    page.wait_text("#alarm-result", lambda s: "Silence ended" in s, timeout=90, what="the silence ended")
    wait_for(lambda: not page.evaluate(f'Boolean(document.querySelector("{item}"))'), timeout=90, what="unlisted")
    assert all(s["id"] != created[0]["id"] for s in _api(url, "/alarms")["silences"])
    page.wait_text("#event-list", lambda s: "silence ended" in s, timeout=90, what="the event")
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems


def test_the_history_a_gateway_s_devices_and_undelivered_notifications_for_an_admin(
    server: tuple[AlarmLog, str], tab: Page
) -> None:
    log, url = server
    now = int(time.time() * 1000)
    day = 86_400 * S
    old = alarm(
        "01d0a1a1", "battery-low", "cit-pv", "campus", "citadelle", severity="warning", state="resolved",
        summary="cit-pv: old trouble", fired_ms=now - 3 * day, pending_ms=now - 3 * day, resolved_ms=now - 2 * day,
        updated_ms=now - 2 * day,
    )  # fmt: skip
    log.save_alarms([old, alarm("9a7e0ff1", "gateway-offline", "gw-1", "", "", scope="gateway", severity="info",
                                subject="gw-1", key="gateway-offline:gw-1", labels={"gateway": "gw-1"},
                                summary="gw-1: no report for 75 s")])  # fmt: skip
    log.add_events([
        AlarmEvent(now - 3 * day, "firing", old.key, old.id, "", "old trouble"),
        AlarmEvent(now - 2 * day, "resolved", old.key, old.id, "", ""),
    ])  # fmt: skip
    log.save_delivery(Delivery(
        "dead0001", "webhook", "district=saint-leu", now - 3600 * S, "{}", [("9a7e0ff1", "firing")], status="dead",
        attempts=8, last_error="HTTP 500 from the receiver", done_ms=now - 3000 * S,
    ))  # fmt: skip
    log.add_events([AlarmEvent(now - 3600 * S, "acked", "gateway-offline:gw-1", "9a7e0ff1", "test-admin", "seen")])
    page = tab
    try:
        _open(page, f"{url}/?key={KEYS['admin']}")
        warning = page.wait_text("#alarm-undelivered", lambda s: "HTTP 500" in s, timeout=90, what="the warning")
        assert "1 notification(s) non délivrée(s) sur 24 heures" in warning
        gw = "#alarm-list li[data-alarm='9a7e0ff1']"
        page.wait_text(gw, lambda s: "slh-battery" in s, timeout=90, what="the gateway's devices")
        hrefs = page.evaluate(f'[...document.querySelectorAll("{gw} .gateway-devices a")].map(a => a.pathname)')
        assert sorted(hrefs) == sorted(f"/devices/{d}" for d in (
            "iko-turbine", "iko-grid-meter", "slh-load", "slh-grid-meter", "slh-battery", "cit-load", "cit-pv",
            "cit-grid-meter"))  # fmt: skip
        page.wait_text("#event-list", lambda s: "test-admin" in s, timeout=90, what="the day's events")
        assert page.evaluate("document.querySelector(\"#resolved-list li[data-alarm='01d0a1a1']\")") is None
        page.click(".alarm-ranges button[data-range='7d']")
        resolved = page.wait_text("#resolved-list", lambda s: "cit-pv: old trouble" in s, timeout=90, what="7 days")
        assert "terminée" in resolved
        assert "déclenchée" in page.text("#event-list")
        # the panel in both languages at the three sizes (the language switched in place, as a user does)
        for lang, fired in (("fr", "déclenchée"), ("en", "fired")):
            if page.evaluate("document.documentElement.lang") != lang:
                page.click("#lang-toggle")
            page.wait_text("#event-list", lambda s, w=fired: w in s, timeout=90, what=f"the events in {lang}")
            for size, (width, height) in SIZES.items():
                page.set_viewport(width, height)
                # the charts follow their boxes after a resize: nothing wider than the screen once they have
                wait_for(
                    lambda w=width: page.evaluate(f"innerWidth === {w} && document.documentElement.scrollWidth <= {w}"),
                    timeout=60, what=f"{lang} {size} within the screen",
                )  # fmt: skip
                shot(page, ARTIFACTS, f"alarms-{lang}-{size}", "#panel-alarms")
        assert "1 notification(s) could not be delivered over 7 days" in page.text("#alarm-undelivered")
        # a site the gateway serves lists its alarm; the history of another page leaves the city's events out
        _open(page, f"{url}/sites/campus?key={KEYS['admin']}&lang=en")
        page.wait_text("#alarm-list", lambda s: "gw-1: no report" in s, timeout=90, what="the site's gateway alarm")
        page.click(".alarm-ranges button[data-range='7d']")
        page.wait_text("#resolved-list", lambda s: "cit-pv: old trouble" in s, timeout=90, what="the site's history")
        assert "slh-load" not in page.text("#event-list")
        page.drain()
        assert all("status of 403" in p for p in page.problems), page.problems
    finally:
        page.set_viewport(1600, 1000)
