"""The dashboard in real headless Chromium against the real API (uvicorn) and a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.dashboard.chromium import Chromium, Page
from tests.dashboard.livedata import LIVE, _now_ms, health, write_now
from tests.dashboard.server import KEYS, ApiServer, with_keys
from tests.reports.citydata import city_config, fill
from ville_autonome.configuration import PlatformConfig
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"


@pytest.fixture
def city(tmp_path: Path) -> Iterator[tuple[PlatformConfig, Store]]:
    """Two days of history with a 3-hour hole (coverage), live values now, one stale device."""
    config = with_keys(city_config(str(tmp_path / "city.sqlite")))
    store = open_store(config.services.store)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    hole_start, hole_end = now - timedelta(hours=20), now - timedelta(hours=17)
    fill(store, config, now - timedelta(days=2), hole_start)
    fill(store, config, hole_end, now - timedelta(minutes=30))
    t = _now_ms()
    write_now(store, config, LIVE, t)
    # cit-load last reported 10 minutes ago: it is silent although its gateway still says online
    write_now(store, config, {("cit-load", "active_power_w"): 20_000.0}, t - 600_000)
    store.write_health(health(config, t))
    yield config, store
    store.close()


def today_measured(text: str) -> bool:
    """Today's self-sufficiency as the page should say it: a percentage once the Paris day holds some
    of the history (which ends 30 minutes ago), else a dash (missing is never zero)."""
    now = datetime.now(UTC)
    midnight = now.astimezone(ZoneInfo("Europe/Paris")).replace(hour=0, minute=0, second=0, microsecond=0)
    into_day = now - midnight
    if into_day < timedelta(minutes=30):
        return text == "–"
    # the history's 5-minute steps: the first one of the day may or may not be there yet
    return text.endswith("%") or (into_day < timedelta(minutes=40) and text == "–")


def open_dashboard(browser: Chromium, url: str, path: str, role: str = "staff") -> Page:
    sep = "&" if "?" in path else "?"
    return browser.new_page(1366, 900).open_ready(f"{url}{path}{sep}key={KEYS[role]}&refresh=1", timeout=90)


def test_district_page_live_values_silence_and_history(city: tuple[PlatformConfig, Store], tmp_path: Path) -> None:
    config, store = city
    with ApiServer(config, store) as srv, Chromium(tmp_path) as browser:
        page = open_dashboard(browser, srv.url, "/districts/saint-leu?range=7d")
        assert page.text("#scope-title") == "Quartier · Saint-Leu"
        # flows now: hydro 30 kW; load 42 kW; battery discharging 8 kW at 64 %; grid import 34 − 30 = 4 kW
        page.wait_text("#v-generation", lambda s: s == "30,0 kW")
        assert page.text("#v-load") == "42,0 kW"
        assert page.text("#v-battery") == "8,0 kW"
        assert "décharge" in page.text("#v-battery-state")
        assert page.text("#v-soc") == "64 %"
        assert page.text("#v-grid") == "4,0 kW"
        assert "soutirage" in page.text("#v-grid-direction")
        # the server's attribution (docs/metrics.md), not 1 − import / load (90,5 %): the district's 4 kW
        # import is shared pro rata of the sites' imports (all housing's), and the battery's 8 kW has no
        # known origin now, so it counts as grid: Lg = 4 + 8 of L = 42 → 30 / 42
        assert page.text("#v-ss-now").startswith("71,4")
        assert page.evaluate("document.body.dataset.partial") == "false"
        assert page.text("#v-battery-hours").endswith(" h")
        page.wait_text("#v-today-ss", today_measured, what="today's self-sufficiency")
        assert page.evaluate("document.querySelectorAll('#health-table tbody tr').length") == 5  # Saint-Leu only
        # live: new readings reach the page by push, without reloading
        marker = page.evaluate("window.__same_document = 1")
        write_now(
            store,
            config,
            {("iko-turbine", "active_power_w"): 45_500.0, ("iko-grid-meter", "active_power_w"): -45_500.0},
            _now_ms(),
        )
        page.wait_text("#v-generation", lambda s: s == "45,5 kW", what="the new hydro power on the page")
        assert page.evaluate("window.__same_document") == marker
        assert page.text("#stream-status .text") == "Flux en direct"
        # a device goes silent: its gateway reports it offline
        store.write_health(health(config, _now_ms(), offline={"slh-load"}))
        wait_state(page, "slh-load", "offline")
        # the server marks the district's flows partial, naming the device (pushed at the next flows event)
        from tests.support.waiting import wait_for as _wait

        _wait(lambda: "slh-load" in page.text("#updated"), timeout=60, what="flows now marked partial")
        assert page.evaluate("document.body.dataset.partial") == "true"
        row = page.text("#health-table tr[data-device='slh-load'] td.state")
        assert row == "✖ Hors ligne"  # said in words and an icon, not by colour alone
        assert page.evaluate("document.querySelector('#health-table tbody tr').dataset.device") == "slh-load"
        # history: zoomable plotly chart with the 3-hour hole shaded as missing data
        from tests.support.waiting import wait_for

        wait_for(
            lambda: int(page.evaluate("document.getElementById('history-chart').dataset.missing || '0'")) >= 1,
            timeout=90,
            what="history chart with coverage",
        )
        assert page.evaluate("document.querySelectorAll('#history-chart .main-svg').length") >= 1
        assert "données manquantes" in page.text("#history-coverage")
        page.screenshot(ARTIFACTS / "district-laptop.png")
        page.set_viewport(2560, 1440)
        page.screenshot(ARTIFACTS / "district-wall.png")
        # English labels
        page.click("#lang-toggle")
        page.wait_text("#h-health", lambda s: s == "Device health")
        assert page.text("#v-generation") == "45.5 kW"
        assert page.text("#health-table tr[data-device='slh-load'] td.state") == "✖ Offline"
        page.drain()
        assert page.problems == [], page.problems


def wait_state(page: Page, device: str, state: str) -> None:
    from tests.support.waiting import wait_for

    wait_for(
        lambda: (
            page.evaluate(
                f"(document.querySelector(\"#health-table tr[data-device='{device}']\") || {{dataset: {{}}}}).dataset.state"
            )
            == state
        ),
        timeout=20,
        what=f"{device} shown {state}",
    )


def test_city_page_shows_stale_device_as_silent(city: tuple[PlatformConfig, Store], tmp_path: Path) -> None:
    config, store = city
    with ApiServer(config, store) as srv, Chromium(tmp_path) as browser:
        page = open_dashboard(browser, srv.url, "/")
        assert page.text("#scope-title") == "Ville · Amiens Métropole"
        page.wait_text("#v-generation", lambda s: s == "42,0 kW")  # 30 kW hydro + 12 kW PV
        assert page.evaluate("document.querySelectorAll('#health-table tbody tr').length") == 8
        wait_state(page, "cit-load", "silent")
        assert page.text("#health-table tr[data-device='cit-load'] td.state") == "⚠ Silencieux"
        assert page.evaluate("document.querySelectorAll('#scopes a').length") == 2  # the districts
        page.screenshot(ARTIFACTS / "city-laptop.png")
        page.set_viewport(390, 844)
        page.screenshot(ARTIFACTS / "city-phone.png")
        page.drain()
        assert page.problems == [], page.problems


def test_stream_loss_is_shown_and_the_page_reconnects(city: tuple[PlatformConfig, Store], tmp_path: Path) -> None:
    from tests.support.waiting import wait_for

    config, store = city
    with Chromium(tmp_path) as browser:
        with ApiServer(config, store) as srv:
            port = srv.port
            page = open_dashboard(browser, srv.url, "/districts/citadelle")
            wait_for(
                lambda: page.evaluate("document.getElementById('stream-status').dataset.state") == "live",
                timeout=20,
                what="stream live",
            )
        # the API is gone: the page says so, in words
        wait_for(
            lambda: page.evaluate("document.getElementById('stream-status').dataset.state") == "lost",
            timeout=90,
            what="stream lost shown",
        )
        assert "reconnexion" in page.text("#stream-status .text")
        page.screenshot(ARTIFACTS / "stream-lost.png")
        with ApiServer(config, store, port=port):
            wait_for(
                lambda: page.evaluate("document.getElementById('stream-status').dataset.state") == "live",
                timeout=40,
                what="stream back",
            )
            write_now(store, config, {("cit-pv", "active_power_w"): 21_000.0}, _now_ms())
            page.wait_text("#v-generation", lambda s: s == "21,0 kW", what="values flowing again")
        page.drain()
        # the only errors allowed are the failed reconnection attempts while the API was down
        assert [p for p in page.problems if "/api/v1/stream" not in p and "ERR_CONNECTION_REFUSED" not in p] == []


def test_a_viewer_key_sees_live_values_history_and_energy(city: tuple[PlatformConfig, Store], tmp_path: Path) -> None:
    """The key the demo prints for a wall screen: live values, today's autonomy, the power history
    and the energy by period — all readable by a viewer, with no role error."""
    config, store = city
    with ApiServer(config, store) as srv, Chromium(tmp_path) as browser:
        page = open_dashboard(browser, srv.url, "/?range=7d", role="viewer")
        page.wait_text("#v-generation", lambda s: s == "42,0 kW")
        page.wait_text("#v-today-ss", today_measured, what="today's city self-sufficiency")
        from tests.support.waiting import wait_for

        wait_for(
            lambda: int(page.evaluate("document.getElementById('history-chart').dataset.points || '0'")) > 0,
            timeout=60,
            what="the power history drawn for a viewer",
        )
        wait_for(lambda: page.evaluate("document.getElementById('energy-chart').dataset.bars"), what="energy bars")
        assert "rôle" not in page.text("#history-coverage")
        assert "rôle" not in page.text("#energy-note")
        assert page.evaluate("localStorage.getItem('va.apiKey')") == KEYS["viewer"]
        assert "key=" not in page.evaluate("window.location.href")
        page.drain()
        assert page.problems == [], page.problems
