"""The staff pages in real headless Chromium against the real API over a real store: build a
scenario and compare it with today, the road to 2050, the monthly reports in both languages.
Screenshots go to test-artifacts/staff/, and to docs/img/ with ``make screenshots`` (the README
shows them: tests/dashboard/screenshots.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.dashboard.chromium import Chromium, Page
from tests.dashboard.screenshots import shot
from tests.dashboard.server import KEYS, ApiServer, with_keys
from tests.support.waiting import wait_for
from ville_autonome.configuration import PlatformConfig
from ville_autonome.reports.scheduled import run_due
from ville_autonome.storage.base import Store

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "staff"


@pytest.fixture
def staff_config(city_store: tuple[PlatformConfig, Path], tmp_path: Path) -> PlatformConfig:
    data = city_store[0].model_dump(mode="python")
    data["city"].update(latitude=49.894, longitude=2.302)
    data["targets"] = [
        {"scope": "city", "self_sufficiency": {2030: 0.75, 2040: 0.85, 2050: 0.95}},
        {"scope": "district:saint-leu", "self_sufficiency": {2030: 0.8, 2050: 1.0}},
    ]
    data["services"]["reports"] = {
        "dir": str(tmp_path / "reports"),
        "scopes": ["city", "district:saint-leu"],
        "languages": ["fr", "en"],
        "formats": ["pdf", "xlsx"],
        "catch_up_months": 1,
    }
    for district in data["districts"]:
        for site in district["sites"]:
            for dev in site["devices"]:
                if dev["id"] == "cit-pv":
                    dev["rated_power_w"] = 60_000.0  # its peak power: PV added there scales its profile
    return with_keys(PlatformConfig.model_validate(data))


@pytest.fixture
def staff_api(store: Store, staff_config: PlatformConfig) -> Iterator[str]:
    with ApiServer(staff_config, store) as srv:
        yield srv.url


@pytest.fixture
def staff_api_with_reports(store: Store, staff_config: PlatformConfig) -> Iterator[str]:
    """The API once the scheduled monthly reports are made (``ville-autonome report --scheduled``:
    October 2026, 2 scopes × 2 languages × PDF and XLSX): only the reports' test waits for them."""
    run_due(store, staff_config, now=datetime(2026, 11, 3, 8, tzinfo=UTC), out=io.StringIO())
    with ApiServer(staff_config, store) as srv:
        yield srv.url


def open_staff(browser: Chromium, url: str, hash_: str, role: str = "staff") -> Page:
    # the staff pages' own ready mark
    ready = "document.body?.dataset.ready === '1'"
    return browser.new_page(1366, 900).open_ready(f"{url}/staff/?key={KEYS[role]}{hash_}", timeout=90, ready=ready)


def test_build_a_scenario_and_compare_it_with_today(staff_api: str, tmp_path: Path) -> None:
    with Chromium(tmp_path) as browser:
        page = open_staff(browser, staff_api, "#scenario")
        assert page.text("#scenario-title") == "Que faudrait-il ?"
        assert page.evaluate("document.getElementById('sc-scope').value") == "city"
        page.evaluate("document.getElementById('sc-period').value = '2026-10-24..2026-10-26'")
        page.click("[data-add='storage']")
        page.click("[data-add='load']")
        page.click("[data-add='pv']")
        assert page.evaluate("document.querySelectorAll('#sc-changes .change').length") == 3
        for select in (
            "#sc-changes .change:nth-child(1) select",
            "#sc-changes .change:nth-child(2) select",
            "#sz-site",
        ):
            page.evaluate(
                f"(s => {{ s.value = 'saint-leu-housing'; s.dispatchEvent(new Event('change')); }})"
                f"(document.querySelector({select!r}))"
            )
        page.evaluate(
            "(s => { s.value = 'campus'; s.dispatchEvent(new Event('change')); })"
            "(document.querySelector('#sc-changes .change:nth-child(3) select'))"
        )
        page.evaluate(
            "document.getElementById('sz-on').checked = true; document.getElementById('sz-target').value = '75'"
        )
        page.click("#sc-run")
        wait_for(
            lambda: page.evaluate("document.getElementById('sc-status').dataset.state") in ("done", "error"),
            timeout=60,
            what="the scenario's answer",
        )
        assert page.evaluate("document.getElementById('sc-status').dataset.state") == "done", page.text("#sc-status")
        table = page.text("#sc-table")
        assert "Taux d'autoproduction" in table
        assert "Aujourd'hui (mesuré)" in table
        # a battery and 10 % less consumption: self-sufficiency rises (a good change, in green)
        assert (
            page.evaluate("document.querySelector('#sc-table tr:nth-child(2) td:last-child').className") == "num better"
        )
        assert "cycles complets équivalents par an" in page.text("#sc-batteries")
        assert "Saint-Leu" in page.text("#sc-districts")
        assert "Citadelle" in page.text("#sc-districts")
        assert page.text("#sc-sizing").startswith(("La plus petite batterie", "Le stockage seul", "L'objectif"))
        assert page.evaluate("document.querySelectorAll('#sc-chart .bars .point').length") == 6  # 3 ratios × 2
        shot(page, ARTIFACTS, "staff-scenario", docs="")
        assert page.problems == []


def test_the_road_to_2050_and_the_monthly_reports_in_both_languages(
    staff_api_with_reports: str, tmp_path: Path
) -> None:
    with Chromium(tmp_path) as browser:
        page = open_staff(browser, staff_api_with_reports, "#trajectory")
        wait_for(
            lambda: page.evaluate("document.getElementById('tr-chart').dataset.ready === '1'"),
            timeout=60,
            what="trajectory chart",
        )
        assert page.text("#tr-pace").startswith("Rythme mesuré")
        assert "2026" in page.text("#tr-years")
        assert (
            page.evaluate("document.querySelectorAll('#tr-chart .scatterlayer .trace').length") == 2
        )  # yearly + target
        shot(page, ARTIFACTS, "staff-trajectory", docs="")
        page.evaluate("location.hash = '#reports'")
        page.wait_text("#rp-table", lambda s: "octobre 2026" in s, what="the stored reports")
        assert "Amiens Métropole" in page.text("#rp-table")
        assert page.evaluate("document.querySelectorAll('#rp-table a').length") == 8
        page.click("#rp-table a")
        page.wait_text("#rp-status", lambda s: s.startswith("Téléchargé"), what="a download with the key")
        shot(page, ARTIFACTS, "staff-reports", docs="")
        page.click("#lang")
        page.wait_text("#rp-table", lambda s: "October 2026" in s, what="the list in English")
        assert page.text("#reports-title") == "Monthly reports"
        assert page.problems == []


def test_a_key_without_the_staff_role_is_asked_again(staff_api: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=staff_api) as client:
        assert client.get("/static/staff/../../main.py").status_code == 404
        for module in ("/static/staff/main.js", "/static/js/labels.js"):  # the words shared with the dashboard
            assert client.get(module).headers["content-type"].startswith("text/javascript")
    with Chromium(tmp_path) as browser:
        page = browser.new_page()
        shown = "!!document.getElementById('key-error') && !document.getElementById('key-form').hidden"
        page.open_ready(f"{staff_api}/staff/?key={KEYS['viewer']}#reports", timeout=90, ready=shown)
        wait_for(lambda: page.evaluate(shown) and "staff" in page.text("#key-error"), timeout=90, what="the key form")
