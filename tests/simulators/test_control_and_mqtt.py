"""The HTTP control endpoint switches faults at run time; MQTT devices publish and break on demand."""

from __future__ import annotations

import asyncio
import json
import queue
import time
from datetime import datetime
from typing import Any

import httpx
import paho.mqtt.client as mqtt

from tests.simulators.conftest import ConfigFactory
from tests.support.ports import free_port
from tests.support.services import Mosquitto
from tests.support.waiting import async_wait_for
from ville_autonome.simulators.mqtt_devices import next_slot
from ville_autonome.simulators.service import SimulatorService


def _http(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    resp = httpx.request(method, url, json=body, timeout=5)
    return resp.status_code, resp.json()


async def test_control_endpoint_switches_faults(make_config: ConfigFactory) -> None:
    svc = SimulatorService(make_config(sites={"quai-innovation"}), speed=10, tick_s=0.1, control_port=free_port())
    async with svc:
        base = svc.control_url

        def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
            return asyncio.to_thread(_http, method, f"{base}{path}", body)

        status, doc = await call("GET", "/health")
        assert status == 200
        assert doc["status"] == "ok"
        status, doc = await call("POST", "/faults/qi-load/slow", {"delay_s": 1.5})
        assert status == 200
        assert svc.describe_faults() == {"qi-load": {"slow": {"delay_s": 1.5}}}
        assert (await call("GET", "/faults")) == (200, {"qi-load": {"slow": {"delay_s": 1.5}}})
        status, doc = await call("POST", "/faults/qi-load/melt")
        assert status == 400
        assert "unknown fault 'melt'" in doc["error"]
        status, doc = await call("POST", "/faults/ghost/silent")
        assert status == 404
        assert "ghost" in doc["error"]
        status, doc = await call("POST", "/faults/qi-load/slow", {"delay_s": "soon"})
        assert status == 400
        assert "finite number" in doc["error"]
        assert (await call("DELETE", "/faults/qi-load"))[0] == 200
        assert svc.describe_faults() == {}
        assert (await call("GET", "/nowhere"))[0] == 404


LOAD_POWER = "shellies/mdp-load/emeter/0/power"  # Shelly Gen1: one plain number per topic


async def test_mqtt_devices_publish_and_malformed_fault(make_config: ConfigFactory, mosquitto: Mosquitto) -> None:
    config = make_config(sites={"maison-du-projet"}, mqtt_url=mosquitto.url)
    got: queue.Queue[bytes] = queue.Queue()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sim-mqtt-test")
    sub.on_message = lambda _c, _u, m: got.put(m.payload)
    sub.connect(mosquitto.host, mosquitto.port)
    sub.subscribe("tele/mdp-pv/SENSOR")
    sub.loop_start()
    try:
        async with SimulatorService(config, speed=10, tick_s=0.1) as svc:

            def next_payload() -> bytes | None:
                return got.get_nowait() if not got.empty() else None

            payload = await async_wait_for(next_payload, timeout=15, what="a Tasmota payload")
            doc = json.loads(payload)  # tele/<topic>/SENSOR: nested ENERGY, Total in kWh, Time with its offset
            assert doc["ENERGY"]["Total"] > 0
            assert doc["ENERGY"]["Power"] >= 0
            assert (
                abs(datetime.fromisoformat(doc["Time"]).timestamp() * 1000 - time.time() * 1000) < 60_000
            )  # a wall clock at any speed

            svc.inject_fault("mdp-pv", "malformed_mqtt")

            def malformed() -> bool:
                while not got.empty():
                    try:
                        json.loads(got.get_nowait())
                    except json.JSONDecodeError:
                        return True
                return False

            await async_wait_for(malformed, timeout=15, what="a malformed payload")
            svc.clear_faults()
            svc.inject_fault("mdp-pv", "clock_skew", skew_s=86_400)

            def skewed() -> bool:
                while not got.empty():
                    doc = json.loads(got.get_nowait())
                    if datetime.fromisoformat(doc["Time"]).timestamp() * 1000 - time.time() * 1000 > 80_000_000:
                        return True
                return False

            await async_wait_for(skewed, timeout=15, what="a payload one day ahead")
    finally:
        sub.loop_stop()
        sub.disconnect()


async def test_a_silent_mqtt_device_stops_publishing_while_others_go_on(
    make_config: ConfigFactory, mosquitto: Mosquitto
) -> None:
    config = make_config(sites={"maison-du-projet"}, mqtt_url=mosquitto.url)
    got: queue.Queue[str] = queue.Queue()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sim-mqtt-silent")
    sub.on_message = lambda _c, _u, m: got.put(m.topic)
    sub.connect(mosquitto.host, mosquitto.port)
    sub.subscribe("shellies/#")
    sub.subscribe("tele/#")
    sub.loop_start()
    try:
        async with SimulatorService(config, speed=10, tick_s=0.1) as svc:
            await async_wait_for(lambda: not got.empty(), timeout=15, what="a first publication")
            svc.inject_fault("mdp-pv", "silent")
            while not got.empty():
                got.get_nowait()
            seen: list[str] = []

            def three_rounds_of_the_others() -> bool:
                while not got.empty():
                    seen.append(got.get_nowait())
                return seen.count(LOAD_POWER) >= 3

            await async_wait_for(three_rounds_of_the_others, timeout=20, what="three more load publications")
            # the round in flight at injection may still arrive; none after the next round
            loads = [i for i, topic in enumerate(seen) if topic == LOAD_POWER]
            assert seen.count("tele/mdp-pv/SENSOR") <= 1
            assert "tele/mdp-pv/SENSOR" not in seen[loads[1] :]
    finally:
        sub.loop_stop()
        sub.disconnect()


async def test_each_family_publishes_its_real_shape(make_config: ConfigFactory, mosquitto: Mosquitto) -> None:
    config = make_config(sites={"maison-du-projet"}, mqtt_url=mosquitto.url)
    got: dict[str, bytes] = {}
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sim-mqtt-shapes")
    sub.on_message = lambda _c, _u, m: got.__setitem__(m.topic, bytes(m.payload))
    sub.connect(mosquitto.host, mosquitto.port)
    sub.subscribe("shellies/#")
    sub.subscribe("tele/#")
    sub.loop_start()
    wanted = {
        "shellies/mdp-grid-meter/status/em:0",
        "shellies/mdp-grid-meter/status/emdata:0",
        LOAD_POWER,
        "shellies/mdp-load/emeter/0/voltage",
        "shellies/mdp-load/emeter/0/total",
        "tele/mdp-pv/SENSOR",
    }
    try:
        async with SimulatorService(config, speed=10, tick_s=0.1):
            await async_wait_for(lambda: wanted <= set(got), timeout=15, what="every topic of the three devices")
    finally:
        sub.loop_stop()
        sub.disconnect()
    em = json.loads(got["shellies/mdp-grid-meter/status/em:0"])
    assert {"total_act_power", "a_voltage", "a_act_power", "c_current"} <= set(em)
    emdata = json.loads(got["shellies/mdp-grid-meter/status/emdata:0"])
    assert emdata["total_act"] > 0
    assert emdata["total_act_ret"] >= 0
    assert float(got[LOAD_POWER]) >= 0  # a plain number, not JSON
    assert float(got["shellies/mdp-load/emeter/0/total"]) > 0
    assert "shellies/mdp-load/emeter/0/total_returned" not in got  # a load has no export counter


def test_publication_slots_keep_the_configured_period() -> None:
    # served late (1.6 s into a 1 s period), the next slot stays on the grid: 2.0, not 2.6
    assert next_slot(1.0, 1.6, 1.0) == 2.0
    assert next_slot(1.0, 1.0, 1.0) == 2.0
    assert next_slot(1.0, 3.2, 1.0) == 4.0  # two missed slots are skipped, not published in a burst
    assert next_slot(0.0, 0.0, 5.0) == 5.0
