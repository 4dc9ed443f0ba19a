"""Commands to MQTT devices on real processes: the API, Mosquitto, the gateway and the simulated
Tasmota plug and Shelly Gen1 EM. The gateway publishes the family's ``on``/``off`` on the device's
command topic, reads the state the device answers on its state topic, and the result lands in the
audit log; a value the output does not have, or a device without an output, is refused; an expired
command never reaches the device."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt

from tests.dashboard_api.serving import serve_in_thread
from tests.simulators.conftest import amiens_document
from tests.support.services import Mosquitto
from tests.support.waiting import async_wait_for
from ville_autonome.configuration.services import ApiKey
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.gateway.service import GatewayService
from ville_autonome.readings.commands import Command, PointWrite, encode_command
from ville_autonome.readings.topics import Topics
from ville_autonome.simulators.service import SimulatorService
from ville_autonome.storage.factory import open_store

GATEWAY = "gw-gare-la-vallee"
TASMOTA, SHELLY_GEN1, SHELLY_PRO = "mdp-pv", "mdp-load", "mdp-grid-meter"
KEYS = {role: f"key-{role}-{uuid.uuid4().hex[:8]}" for role in ("operator", "admin")}


@dataclass
class Lab:
    config: PlatformConfig
    sim: SimulatorService
    api: httpx.AsyncClient


@asynccontextmanager
async def running_lab(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Lab]:
    doc = amiens_document(sites={"maison-du-projet"}, mqtt_url=mosquitto.url)
    doc["services"]["mqtt"]["topic_root"] = "t" + uuid.uuid4().hex[:8]
    doc["services"]["store"] = {"backend": "sqlite", "path": str(tmp_path / "store.sqlite")}
    doc["services"]["api"] = {"command_client_id": f"va-api-{uuid.uuid4().hex[:8]}"}
    doc["gateways"] = [g for g in doc["gateways"] if g["id"] == GATEWAY]
    cfg = PlatformConfig.model_validate(doc)
    for role, key in KEYS.items():
        digest = hashlib.sha256(key.encode()).hexdigest()
        cfg.services.api.keys.append(ApiKey(name=f"{role}-1", role=role, sha256=digest))  # type: ignore[arg-type]
    store = open_store(cfg.services.store)
    stop = asyncio.Event()
    async with SimulatorService(cfg, speed=60.0, tick_s=0.1) as sim:
        gateway = GatewayService(cfg, GATEWAY, buffer_path=tmp_path / "gw.sqlite")
        task = asyncio.create_task(gateway.run(stop))
        try:
            with serve_in_thread(create_app(cfg, store)) as base:
                async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                    await async_wait_for(lambda: gateway.uplink is not None and gateway.uplink.connected, timeout=20)
                    assert sim._mqtt is not None
                    await async_wait_for(sim._mqtt.client.is_connected, timeout=20, what="the simulated devices")
                    yield Lab(cfg, sim, client)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            store.close()


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def relay(value: int) -> dict[str, object]:
    return {"writes": [{"point": "relay", "value": value}], "expires_in_s": 60}


async def test_a_relay_command_switches_the_device_and_reads_its_state_back(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    async with running_lab(tmp_path, mosquitto) as lab:
        assert lab.sim._mqtt is not None
        outputs = lab.sim._mqtt.output_on
        points = await lab.api.get(f"/api/v1/devices/{TASMOTA}/commands/points", headers=auth("operator"))
        assert points.status_code == 200, points.text
        assert points.json()["points"][0] | {"description": ""} == {
            "name": "relay",
            "description": "",
            "unit": None,
            "minimum": None,
            "maximum": None,
            "values": {"0": "off", "1": "on"},
        }
        # the topology says which devices a command may write to (the page shows their control panel)
        topology = (await lab.api.get("/api/v1/topology", headers=auth("operator"))).json()
        writable = {d["id"]: d["writable"] for di in topology["districts"] for si in di["sites"] for d in si["devices"]}
        assert (writable[TASMOTA], writable[SHELLY_GEN1], writable[SHELLY_PRO]) == (True, True, False)
        for device in (TASMOTA, SHELLY_GEN1):
            assert outputs[device] is True
            r = await lab.api.post(
                f"/api/v1/devices/{device}/commands?wait_s=20", json=relay(0), headers=auth("operator")
            )
            assert r.status_code == 200, r.text
            assert (r.json()["status"], r.json()["readback"]) == ("applied", {"relay": 0.0}), r.json()
            assert outputs[device] is False
        r = await lab.api.post(f"/api/v1/devices/{TASMOTA}/commands?wait_s=20", json=relay(1), headers=auth("operator"))
        assert (r.json()["status"], r.json()["readback"]) == ("applied", {"relay": 1.0}), r.json()
        assert outputs[TASMOTA] is True
        log = await lab.api.get("/api/v1/commands", params={"device": TASMOTA}, headers=auth("admin"))
        assert [(c["status"], c["writes"], c["issued_by"]) for c in log.json()["commands"]] == [
            ("applied", [{"point": "relay", "value": 1.0}], "operator-1"),
            ("applied", [{"point": "relay", "value": 0.0}], "operator-1"),
        ]


async def test_values_and_devices_without_an_output_are_refused(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running_lab(tmp_path, mosquitto) as lab:
        r = await lab.api.post(f"/api/v1/devices/{TASMOTA}/commands", json=relay(2), headers=auth("operator"))
        assert (r.status_code, r.json()["error"]) == (400, "command_refused")
        assert "relay: 2 is not one of 0 (off), 1 (on)" in r.json()["detail"]
        bad_point = {"writes": [{"point": "active_power_w", "value": 0}]}
        r = await lab.api.post(f"/api/v1/devices/{TASMOTA}/commands", json=bad_point, headers=auth("operator"))
        assert "active_power_w is not writable" in r.json()["detail"]
        r = await lab.api.post(f"/api/v1/devices/{SHELLY_PRO}/commands", json=relay(0), headers=auth("operator"))
        assert (r.status_code, r.json()["detail"]) == (400, f"{SHELLY_PRO} is an MQTT device without a writable output")
        assert lab.sim._mqtt is not None
        assert lab.sim._mqtt.output_on == {TASMOTA: True, SHELLY_GEN1: True}


async def test_an_expired_relay_command_never_reaches_the_device(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running_lab(tmp_path, mosquitto) as lab:
        now = time.time_ns() // 1_000_000
        stale = Command(
            id="stale-relay",
            gateway=GATEWAY,
            device=TASMOTA,
            writes=(PointWrite("relay", 0.0),),
            issued_ms=now - 3_600_000,
            expires_ms=now - 3_540_000,
            issued_by="operator-1",
        )
        topics = Topics(lab.config.services.mqtt.topic_root)
        results: list[dict[str, object]] = []
        seen_commands: list[bytes] = []
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"centre-{uuid.uuid4().hex[:6]}")

        def on_message(_c: mqtt.Client, _u: object, m: mqtt.MQTTMessage) -> None:
            if m.topic == topics.command_result(GATEWAY):
                results.append(json.loads(m.payload))
            else:
                seen_commands.append(bytes(m.payload))

        client.on_message = on_message
        client.connect(mosquitto.host, mosquitto.port)
        client.loop_start()
        try:
            client.subscribe([(topics.command_result(GATEWAY), 1), (f"cmnd/{TASMOTA}/POWER", 1)])
            client.publish(topics.command(GATEWAY), encode_command(stale), qos=1).wait_for_publish(5)
            await async_wait_for(lambda: results, timeout=20, what="the gateway's answer")
        finally:
            client.loop_stop()
            client.disconnect()
        assert (results[0]["id"], results[0]["status"]) == ("stale-relay", "expired")
        assert seen_commands == []  # nothing was published to the device
        assert lab.sim._mqtt is not None
        assert lab.sim._mqtt.output_on[TASMOTA] is True
