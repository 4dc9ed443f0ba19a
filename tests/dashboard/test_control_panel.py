"""The device page's control panel (docs/commands.md) in real headless Chromium: the writable
points of a SunSpec battery, the setpoint helper, a command sent through the real API and a real
Mosquitto (no gateway answers: the page says the command is sent and waiting), the audit log for
an admin key, nothing for a viewer key, and the output of an MQTT plug (Tasmota) as a choice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.chromium import Chromium
from tests.dashboard.server import KEYS, ApiServer, with_keys
from tests.reports.citydata import city_config
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.configuration import PlatformConfig
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

pytestmark = pytest.mark.browser

BATTERY = {
    "id": "hub-battery",
    "name": "Hub Énergie",
    "role": "storage",
    "protocol": "modbus-tcp",
    "address": "127.0.0.1:1",  # never polled here: the command goes to the broker, no gateway runs
    "profile": "sunspec-battery-802",
    "rated_power_w": 100_000,
    "capacity_wh": 200_000,
}
PLUG = {  # an MQTT device whose preset has an output (configuration.mqtt_presets)
    "id": "hub-plug",
    "name": "Prise du local vélos",
    "role": "consumption",
    "protocol": "mqtt",
    "preset": "tasmota",
    "topic": "hub-plug",
    "rated_power_w": 3_000,
}


@pytest.fixture
def with_battery(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[tuple[PlatformConfig, Store]]:
    base = with_keys(city_config(str(tmp_path / "cmd.sqlite")))
    data = base.model_dump(mode="python")
    data["districts"][0]["sites"][1]["devices"] += [BATTERY, PLUG]
    data["services"]["mqtt"]["url"] = mosquitto.url
    data["services"]["mqtt"]["topic_root"] = "dash" + tmp_path.name[-6:].replace("_", "")
    config = PlatformConfig.model_validate(data)
    store = open_store(config.services.store)
    yield config, store
    store.close()


def test_an_operator_sends_a_setpoint_and_an_admin_sees_it_in_the_log(
    with_battery: tuple[PlatformConfig, Store], tmp_path: Path
) -> None:
    config, store = with_battery
    with ApiServer(config, store) as srv, Chromium(tmp_path) as browser:
        page = browser.new_page(1600, 1000)
        page.open_ready(f"{srv.url}/devices/hub-battery?key={KEYS['admin']}")
        wait_for(lambda: page.evaluate("!document.getElementById('panel-control').hidden"), timeout=60, what="control")
        points = page.evaluate(
            "[...document.querySelectorAll('#control-form select, #control-form input')].map(f => f.name)"
        )
        assert {"InWRte", "OutWRte", "StorCtl_Mod", "InOutWRte_RvrtTms"} <= set(points)
        # the helper: a 40 kW charge on the 100 kW battery, reverting after 10 minutes
        page.evaluate("document.getElementById('sp-kw').value = '-40'")
        page.evaluate("document.getElementById('sp-revert').value = '600'")
        page.click("#sp-fill")
        fields = page.evaluate(
            "['InWRte', 'OutWRte', 'InOutWRte_RvrtTms', 'StorCtl_Mod'].map(n => document.getElementById('cp-' + n).value)"
        )
        assert fields == ["40", "-40", "600", "3"]
        page.click("#control-send")
        # no gateway answers within wait_s: the API says 202 "sent", and the page says so in words
        page.wait_text("#control-result", lambda s: "envoyée" in s, timeout=60, what="the command's status")
        wait_for(lambda: "par test-admin" in page.text("#command-log"), timeout=90, what="the audit log")
        assert "InWRte=40" in page.text("#command-log")
        # a value out of range is refused by the API, and the page gives its reason
        page.evaluate("document.getElementById('cp-InWRte').value = '140'")
        page.click("#control-send")
        page.wait_text("#control-result", lambda s: "refusée" in s and "140" in s, timeout=90, what="the refusal")
        page.drain()
        # the only errors: the refused command (400) logged by the browser
        assert all("status of 400" in p for p in page.problems), page.problems


def test_a_viewer_sees_no_control(with_battery: tuple[PlatformConfig, Store], tmp_path: Path) -> None:
    config, store = with_battery
    with ApiServer(config, store) as srv, Chromium(tmp_path) as browser:
        page = browser.new_page(1600, 1000)
        page.open_ready(f"{srv.url}/devices/hub-battery?key={KEYS['viewer']}")
        page.wait_text("#registers-note", lambda s: "rôle" in s, timeout=60, what="registers need the operator role")
        assert page.evaluate("document.getElementById('panel-control').hidden") is True
        page.drain()
        # the refusals (403) that tell the page what this role may not see
        assert all("status of 403" in p for p in page.problems), page.problems


def test_an_mqtt_plug_s_output_is_a_choice_an_operator_sends(
    with_battery: tuple[PlatformConfig, Store], tmp_path: Path
) -> None:
    config, store = with_battery
    with ApiServer(config, store) as srv, Chromium(tmp_path) as browser:
        page = browser.new_page(1600, 1000)
        page.open_ready(f"{srv.url}/devices/hub-plug?key={KEYS['operator']}")
        wait_for(lambda: page.evaluate("!document.getElementById('panel-control').hidden"), timeout=60, what="control")
        options = page.evaluate("[...document.querySelectorAll('#cp-relay option')].map(o => o.value)")
        assert options == ["", "0", "1"]
        page.evaluate("document.getElementById('cp-relay').value = '1'")
        page.click("#control-send")
        # no gateway answers: the API says "sent", and the page says so in words
        page.wait_text("#control-result", lambda s: "envoyée" in s, timeout=60, what="the command's status")
        page.drain()
        # the only errors: the audit log, which is for admins (403 for an operator key)
        assert all("status of 403" in p and "/api/v1/commands?" in p for p in page.problems), page.problems
