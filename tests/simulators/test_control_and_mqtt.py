"""The HTTP control endpoint switches faults at run time; MQTT devices publish and break on demand."""

from __future__ import annotations

import asyncio
import json
import queue
import time
from typing import Any

import httpx
import paho.mqtt.client as mqtt

from tests.simulators.conftest import ConfigFactory
from tests.support.ports import free_port
from tests.support.services import Mosquitto
from tests.support.waiting import async_wait_for
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


async def test_mqtt_devices_publish_and_malformed_fault(make_config: ConfigFactory, mosquitto: Mosquitto) -> None:
    config = make_config(sites={"maison-du-projet"}, mqtt_url=mosquitto.url)
    got: queue.Queue[bytes] = queue.Queue()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sim-mqtt-test")
    sub.on_message = lambda _c, _u, m: got.put(m.payload)
    sub.connect(mosquitto.host, mosquitto.port)
    sub.subscribe("shellies/mdp-load/status")
    sub.loop_start()
    try:
        async with SimulatorService(config, speed=10, tick_s=0.1) as svc:

            def next_payload() -> bytes | None:
                return got.get_nowait() if not got.empty() else None

            payload = await async_wait_for(next_payload, timeout=15, what="a Shelly payload")
            doc = json.loads(payload)
            assert doc["emeters"][0]["power"] > 0
            assert doc["emeters"][0]["total"] > 0
            # the device's clock is a wall clock at any speed (docs/simulators.md, "Clock")
            assert abs(doc["unixtime"] * 1000 - time.time() * 1000) < 60_000

            svc.inject_fault("mdp-load", "malformed_mqtt")

            def malformed() -> bool:
                while not got.empty():
                    try:
                        json.loads(got.get_nowait())
                    except json.JSONDecodeError:
                        return True
                return False

            await async_wait_for(malformed, timeout=15, what="a malformed payload")
            svc.clear_faults()
            svc.inject_fault("mdp-load", "clock_skew", skew_s=86_400)

            def skewed() -> bool:
                while not got.empty():
                    doc = json.loads(got.get_nowait())
                    if doc["unixtime"] * 1000 - time.time() * 1000 > 80_000_000:
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
                return seen.count("shellies/mdp-load/status") >= 3

            await async_wait_for(three_rounds_of_the_others, timeout=20, what="three more load publications")
            # the round in flight at injection may still arrive; none after the next round
            loads = [i for i, topic in enumerate(seen) if topic == "shellies/mdp-load/status"]
            assert seen.count("tele/mdp-pv/SENSOR") <= 1
            assert "tele/mdp-pv/SENSOR" not in seen[loads[1] :]
    finally:
        sub.loop_stop()
        sub.disconnect()
