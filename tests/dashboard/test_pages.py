"""Every page × French/English × desktop 1600 px / phone 390 px / wall 2560 px, in real headless
Chromium against the real API and a real SQLite store (one server and one browser for the module).

Each load checks what an operator tried by hand: the page is ready with its charts, nothing is
wider than the screen, the French page speaks French in its charts too (``1 déc.``, 24-hour
times, decimal commas), the gauges' "100" is not clipped, the self-sufficiency now is said once,
and the console is clean. Screenshots go to ``test-artifacts/dashboard/pages/`` and, with
``make screenshots``, to ``docs/img/dashboard/`` (tests/dashboard/screenshots.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.dashboard.chromium import Chromium, Page
from tests.dashboard.livedata import LIVE, health, write_now
from tests.dashboard.screenshots import shot
from tests.dashboard.server import KEYS, ApiProcess, with_keys
from tests.reports.citydata import city_config, fill
from tests.support.waiting import wait_for
from ville_autonome.configuration import PlatformConfig
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

# the module's server fills 35 days of history first: its setup counts toward the first test's timeout
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard" / "pages"
SIZES = {"desktop": (1600, 1000), "phone": (390, 844), "wall": (2560, 1440)}
PAGES = {
    "city": "/?period=month&range=7d",
    "district": "/districts/saint-leu?period=week&range=7d",
    "site": "/sites/saint-leu-housing?period=day&range=today",
    "device": "/devices/slh-battery?range=yesterday",
}
# a label of each page in each language
FRENCH_WORD = {
    kind: {
        "fr": "Valeurs en direct" if kind == "device" else "Production locale",
        "en": "Live values" if kind == "device" else "Local generation",
    }
    for kind in ("city", "district", "site", "device")
}
FRENCH_MONTH = re.compile(r"\b(janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.)")
ENGLISH_MONTH = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PlatformConfig, Store, str]]:
    """35 days of continuous history up to a few minutes ago, and live values now."""
    tmp = tmp_path_factory.mktemp("pages")
    config = with_keys(city_config(str(tmp / "city.sqlite")))
    store = open_store(config.services.store)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    fill(store, config, now - timedelta(days=35), now - timedelta(minutes=5))
    t = int(time.time() * 1000)
    write_now(store, config, LIVE, t)
    write_now(store, config, {("cit-load", "active_power_w"): 20_000.0}, t)
    store.write_health(health(config, t))
    try:
        with ApiProcess(config, tmp) as srv:
            yield config, store, srv.url
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium(tmp_path_factory.mktemp("chromium")) as b:
        yield b


@pytest.fixture(scope="module")
def tab(browser: Chromium) -> Page:
    return browser.new_page(1600, 1000)


def _open(page: Page, url: str, width: int, height: int) -> None:
    page.set_viewport(width, height)
    page.open_ready(url)


def _charts_drawn(page: Page, kind: str) -> bool:
    if kind == "device":
        return bool(page.evaluate("Number(document.getElementById('history-chart').dataset.points || 0) > 0"))
    return bool(
        page.evaluate(
            "Boolean(document.getElementById('energy-chart').dataset.bars)"
            " && Number(document.getElementById('history-chart').dataset.points || 0) > 0"
            " && document.querySelectorAll('#sankey-now .main-svg, #gauge-ss .main-svg').length >= 2"
        )
    )


def _settled(page: Page) -> bool:
    """Every chart drawn at its box's width (plotly redraws after a resize)."""
    return bool(
        page.evaluate(
            "[...document.querySelectorAll('.js-plotly-plot')].every(p => { const s = p.querySelector('.main-svg');"
            " return s && Math.abs(s.getBoundingClientRect().width - p.getBoundingClientRect().width) <= 2; })"
        )
    )


def _check(page: Page, kind: str, lang: str, size: str) -> None:
    width, height = SIZES[size]
    page.set_viewport(width, height)
    wait_for(lambda: _settled(page), timeout=60, interval=0.2, what=f"{kind} charts at {size}")
    wait_for(
        lambda: page.evaluate("document.documentElement.lang") == lang and FRENCH_WORD[kind][lang] in page.text("main"),
        timeout=120,
        what=f"{kind} in {lang}",
    )
    # nothing wider than the screen (a table may scroll inside its panel)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{kind} {lang} {size} overflows"
    ticks = " ".join(page.evaluate("[...document.querySelectorAll('.xtick text')].map(t => t.textContent)"))
    assert "AM" not in ticks
    assert "PM" not in ticks
    if lang == "fr":
        assert FRENCH_MONTH.search(ticks), ticks  # "1 déc.", not "Dec 1" nor "12-01"
        assert not ENGLISH_MONTH.search(ticks.replace("mars", "").replace("mai", "")), ticks
    else:
        assert ENGLISH_MONTH.search(ticks), ticks
    if kind != "device":
        # the gauge's "100" fits in its box; the self-sufficiency now is said once, under the gauge
        clipped = page.evaluate(
            "[...document.querySelectorAll('#gauge-ss text')].filter(t => t.textContent === '100').map(t => {"
            " const r = t.getBoundingClientRect(), b = document.getElementById('gauge-ss').getBoundingClientRect();"
            " return r.right > b.right + 1 || r.left < b.left - 1; })"
        )
        assert clipped == [False], clipped
        assert page.evaluate("document.querySelectorAll('#gauge-ss .number, #gauge-ss .numbers text').length") == 0
        assert page.text("#v-ss-now").endswith("%")
        assert ("," in page.text("#v-load")) == (lang == "fr")  # decimal comma in French
    shot(page, ARTIFACTS, f"{kind}-{lang}-{size}")


@pytest.mark.parametrize("kind", list(PAGES))
def test_page_in_both_languages_and_three_sizes(
    server: tuple[PlatformConfig, Store, str], tab: Page, kind: str
) -> None:
    _, _, url = server
    _open(tab, f"{url}{PAGES[kind]}&lang=fr&key={KEYS['staff']}", *SIZES["desktop"])
    wait_for(lambda: _charts_drawn(tab, kind), timeout=60, interval=0.2, what=f"{kind} charts drawn")
    # the state stays in the URL (shareable), the key does not
    assert "key=" not in tab.evaluate("window.location.href")
    for size in SIZES:
        _check(tab, kind, "fr", size)
    tab.click("#lang-toggle")  # the language switches without a reload, and stays in the URL
    assert "lang=en" in tab.evaluate("window.location.search")
    for size in reversed(SIZES):
        _check(tab, kind, "en", size)
    tab.drain()
    assert tab.problems == [], tab.problems


def test_wall_screen_kiosk_in_the_dark(server: tuple[PlatformConfig, Store, str], tab: Page) -> None:
    _, _, url = server
    _open(tab, f"{url}/?kiosk=1&theme=dark&lang=fr&key={KEYS['viewer']}", 2560, 1440)
    wait_for(lambda: _charts_drawn(tab, "city"), timeout=60, interval=0.2, what="kiosk charts drawn")
    # no controls on a wall screen, large type, dark background
    hidden = tab.evaluate(
        "['#lang-toggle', '#range-presets', '#energy-prev', '#scopes'].map(s => document.querySelector(s).offsetParent === null)"
    )
    assert hidden == [True, True, True, True]
    assert tab.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 19, 24)"
    assert tab.evaluate("parseFloat(getComputedStyle(document.querySelector('#v-generation')).fontSize)") >= 50
    # the viewer key of the demo's wall screen shows the history and the energy, without a role error
    assert "rôle" not in tab.text("#history-coverage")
    assert int(tab.evaluate("document.getElementById('history-chart').dataset.points")) > 0
    shot(tab, ARTIFACTS, "city-kiosk-dark-wall")
    tab.drain()
    assert tab.problems == [], tab.problems


def test_energy_periods_navigate_and_stay_in_the_url(server: tuple[PlatformConfig, Store, str], tab: Page) -> None:
    _, _, url = server
    _open(tab, f"{url}/districts/saint-leu?period=month&lang=fr&key={KEYS['viewer']}", 1600, 1000)
    wait_for(lambda: tab.evaluate("document.getElementById('energy-chart').dataset.date"), timeout=120, what="energy")
    this_month = tab.evaluate("document.getElementById('energy-chart').dataset.date")
    tab.click("#energy-prev")
    wait_for(
        lambda: tab.evaluate("document.getElementById('energy-chart').dataset.date") != this_month,
        timeout=120,
        what="the previous month",
    )
    shown = tab.evaluate("document.getElementById('energy-chart').dataset.date")
    assert shown < this_month
    assert f"date={shown}" in tab.evaluate("window.location.search")
    assert tab.text("#energy-title") == tab.text("#energy-title").lower()  # "octobre 2026": a French month
    # the shared link opens the same period
    _open(tab, tab.evaluate("window.location.href"), 1600, 1000)
    wait_for(
        lambda: tab.evaluate("document.getElementById('energy-chart').dataset.date") == shown, timeout=120, what="same"
    )
    tab.click("#panel-energy button[data-period='year']")
    wait_for(
        lambda: tab.evaluate("document.getElementById('energy-chart').dataset.bars") == "12", timeout=120, what="year"
    )
    assert "period=year" in tab.evaluate("window.location.search")
    # a custom range typed in 24-hour local time is resolved by the server and kept in the URL
    tab.evaluate("document.getElementById('h-start').value = '01/11/2026 06:00'")
    tab.evaluate("document.getElementById('h-end').value = '02/11/2026 18:30'")
    tab.evaluate("document.getElementById('history-form').requestSubmit()")
    wait_for(lambda: "range=custom" in tab.evaluate("window.location.search"), timeout=10, what="custom range in URL")
    wait_for(
        lambda: tab.evaluate("document.getElementById('h-end').value") == "02/11/2026 18:30", timeout=120, what="kept"
    )
    assert "to=2026-11-02T18%3A30" in tab.evaluate("window.location.search")
    tab.evaluate("document.getElementById('h-end').value = '31/11/2026 10:00'")
    tab.evaluate("document.getElementById('history-form').requestSubmit()")
    tab.wait_text("#h-error", lambda s: "jj/mm/aaaa" in s, what="an invalid date refused in words")
    tab.drain()
    assert tab.problems == [], tab.problems


def test_every_name_links_to_its_page(server: tuple[PlatformConfig, Store, str], tab: Page) -> None:
    _, _, url = server
    _open(tab, f"{url}/?key={KEYS['viewer']}", 1600, 1000)
    wait_for(lambda: tab.evaluate("document.querySelectorAll('#health-table tbody a').length") == 16, what="links")
    hrefs = tab.evaluate(
        "[...document.querySelectorAll('#health-table tbody a, #children-table a, #crumbs a')].map(a => a.pathname)"
    )
    assert "/districts/citadelle" in hrefs
    # one page of each kind: its breadcrumbs end with it, and lead back up to the city
    for path in ("/devices/slh-battery", "/sites/saint-leu-housing", "/districts/saint-leu"):
        assert path in hrefs
        _open(tab, f"{url}{path}", 1600, 1000)
        crumbs = tab.evaluate("[...document.querySelectorAll('#crumbs a')].map(a => a.pathname)")
        assert crumbs[0] == "/"
        assert crumbs[-1] == path
    tab.drain()
    assert tab.problems == [], tab.problems


def test_the_api_docs_work_without_internet(server: tuple[PlatformConfig, Store, str], tab: Page) -> None:
    _, _, url = server
    _open_docs = f"{url}/api/v1/docs"
    tab.set_viewport(1600, 1000)
    tab.open_ready(_open_docs, timeout=120, ready="Boolean(document.querySelector('.swagger-ui .info .title'))")
    tab.wait_text(".swagger-ui .info .title", lambda s: "Ville Autonome 2050 API" in s, timeout=120, what="Swagger UI")
    scripts = tab.evaluate("[...document.scripts].map(s => s.src)")
    assert all(s.startswith(url) for s in scripts), scripts
    assert tab.evaluate("document.querySelectorAll('.opblock').length") > 10
    tab.drain()
    assert tab.problems == [], tab.problems  # nothing refused by the page's Content-Security-Policy
