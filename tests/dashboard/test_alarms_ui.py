"""The alarms on the dashboard in real headless Chromium against the real API process over a real
SQLite store and its alarm log (one server and one browser for the module): an alarm the
evaluator stores reaches the banner and the bell of an open page by the stream, without a reload;
an operator acknowledges it and silences another from the list, and the API records who; a viewer
sees the same alarms with no button. The alarms are written to the alarm log as the evaluator
(``ville-autonome alerts``) writes them: the seam between the evaluator and the API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dashboard.chromium import Chromium, Page
from tests.dashboard.livedata import LIVE, health, write_now
from tests.dashboard.screenshots import shot
from tests.dashboard.server import KEYS, ApiProcess, with_keys
from tests.reports.citydata import city_config
from tests.support.waiting import wait_for
from ville_autonome.configuration import PlatformConfig
from ville_autonome.journals.alarm_log import alarm_log_for
from ville_autonome.journals.alarm_records import AlarmLog, AlarmRecord
from ville_autonome.storage.factory import open_store

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard" / "alarms"
S = 1000
RULES = [
    {"id": "device-silent", "kind": "device_silent", "severity": "critical"},
    {"id": "battery-low", "kind": "battery_soc", "below": 10, "severity": "warning"},
]


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
    data = with_keys(city_config(str(tmp / "city.sqlite"))).model_dump(mode="python")
    data["alerts"] = {"rules": RULES}
    config = PlatformConfig.model_validate(data)
    store = open_store(config.services.store)
    t = int(time.time() * 1000)
    write_now(store, config, LIVE, t)
    store.write_health(health(config, t))
    log = alarm_log_for(store, config.services.store)
    log.save_alarms([PENDING])
    try:
        with ApiProcess(config, tmp) as srv:
            yield log, srv.url
    finally:
        log.close()
        store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium(tmp_path_factory.mktemp("chromium")) as b:
        yield b


@pytest.fixture(scope="module")
def tab(browser: Chromium) -> Page:
    return browser.new_page(1600, 1000)


def _open(page: Page, url: str) -> Page:
    page.problems.clear()
    page.evaluate("window.previousPage = true")  # gone with the new document
    page.goto(url)
    wait_for(
        lambda: page.evaluate(
            "!window.previousPage && document.readyState === 'complete' && document.body.dataset.ready === 'true'"
        ),
        timeout=60,
        interval=0.1,
        what=f"{url} ready",
    )
    wait_for(lambda: page.evaluate("Boolean(document.querySelector('#alarm-list li'))"), timeout=90, what="alarm list")
    return page


def _api(url: str, path: str) -> Any:
    r = httpx.get(f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {KEYS['viewer']}"}, timeout=90)
    r.raise_for_status()
    return r.json()


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

    page.click(f"{row} button.ack")
    page.wait_text(row, lambda s: "acquittée par test-operator" in s, timeout=90, what="the acknowledgement")
    assert page.evaluate(f'document.querySelector("{row} button.ack")') is None
    assert _api(url, "/alarms/a10ad51e")["acked_by"] == "test-operator"
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
    page.click("#alarm-list li a.subject")
    wait_for(
        lambda: page.evaluate(
            "location.pathname === '/devices/cit-pv' && Boolean(document.body) && document.body.dataset.ready === 'true'"
        ),
        timeout=60,
        what="the device page",
    )
    page.wait_text("#alarm-list", lambda s: "cit-pv: silent for 95 s" in s, timeout=90, what="the device's alarms")
    assert page.evaluate("document.querySelectorAll('#alarm-list button').length") == 0
    shot(page, ARTIFACTS, "alarms-viewer-device")
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems
