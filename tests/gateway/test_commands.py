"""The command path on real processes: the API (uvicorn), Mosquitto, the gateway and the simulated
battery. A setpoint moves the battery and the grid meter; a refused value comes back with its
reason; an expired command is never applied; a viewer cannot send; admins read the audit log."""

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
import pytest

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

BATTERY = "hub-energie-battery"
GATEWAY = "gw-gare-la-vallee"
KEYS = {role: f"key-{role}-{uuid.uuid4().hex[:8]}" for role in ("viewer", "operator", "admin")}


@dataclass
class Lab:
    config: PlatformConfig
    sim: SimulatorService
    gateway: GatewayService
    api: httpx.AsyncClient


def _config(tmp_path: Path, mosquitto: Mosquitto) -> PlatformConfig:
    doc = amiens_document(sites={"quai-innovation"}, mqtt_url=mosquitto.url)
    doc["services"]["mqtt"]["topic_root"] = "t" + uuid.uuid4().hex[:8]
    doc["services"]["store"] = {"backend": "sqlite", "path": str(tmp_path / "store.sqlite")}
    doc["gateways"] = [g for g in doc["gateways"] if g["id"] == GATEWAY]
    cfg = PlatformConfig.model_validate(doc)
    for role, key in KEYS.items():
        digest = hashlib.sha256(key.encode()).hexdigest()
        cfg.services.api.keys.append(ApiKey(name=f"{role}-1", role=role, sha256=digest))  # type: ignore[arg-type]
    return cfg


@asynccontextmanager
async def running_lab(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Lab]:
    """Simulators, the gateway and the API (inside the test: the leak check sees them stopped)."""
    cfg = _config(tmp_path, mosquitto)
    store = open_store(cfg.services.store)
    stop = asyncio.Event()
    async with SimulatorService(cfg, speed=60.0, tick_s=0.1) as sim:
        gateway = GatewayService(cfg, GATEWAY, buffer_path=tmp_path / "gw.sqlite")
        task = asyncio.create_task(gateway.run(stop))
        try:
            with serve_in_thread(create_app(cfg, store)) as base:
                async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                    await async_wait_for(lambda: gateway.uplink is not None and gateway.uplink.connected, timeout=20)
                    yield Lab(cfg, sim, gateway, client)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            store.close()


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


SETPOINT = {  # SunSpec model 124: hold a 40 % charge (40 kW of 100 kW), revert after 10 min
    "writes": [
        {"point": "InWRte", "value": 40},
        {"point": "OutWRte", "value": -40},
        {"point": "InOutWRte_RvrtTms", "value": 600},
        {"point": "StorCtl_Mod", "value": 3},
    ],
    "expires_in_s": 60,
}


async def test_a_battery_setpoint_moves_the_battery_and_the_grid_meter(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running_lab(tmp_path, mosquitto) as lab:
        grid_before = lab.sim.devices["qi-grid-meter"].values["active_power_w"]
        battery_before = lab.sim.devices[BATTERY].values["active_power_w"]
        r = await lab.api.post(f"/api/v1/devices/{BATTERY}/commands?wait_s=20", json=SETPOINT, headers=auth("operator"))
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["status"] == "applied", done
        assert done["readback"] == {"InWRte": 40.0, "OutWRte": -40.0, "InOutWRte_RvrtTms": 600.0, "StorCtl_Mod": 3.0}
        assert done["issued_by"] == "operator-1"

        def charging_at_40_kw() -> bool:
            return abs(lab.sim.devices[BATTERY].values["active_power_w"] + 40_000) < 1

        await async_wait_for(charging_at_40_kw, timeout=20, what="the battery charging at 40 kW")
        v = {
            d: lab.sim.devices[d].values["active_power_w"] for d in ("qi-load", "qi-wind-roof", "qi-pv-canopy", BATTERY)
        }
        grid = lab.sim.devices["qi-grid-meter"].values["active_power_w"]
        # the grid meter takes the difference: L = G + P_battery + P_grid
        assert v["qi-load"] == pytest.approx(v["qi-wind-roof"] + v["qi-pv-canopy"] + v[BATTERY] + grid, abs=1e-6)
        assert (grid_before, battery_before) != (grid, v[BATTERY])

        log = await lab.api.get("/api/v1/commands", params={"device": BATTERY}, headers=auth("admin"))
        assert log.status_code == 200
        (entry,) = log.json()["commands"]
        assert (entry["id"], entry["status"], entry["issued_by"]) == (done["id"], "applied", "operator-1")
        assert [w["point"] for w in entry["writes"]] == ["InWRte", "OutWRte", "InOutWRte_RvrtTms", "StorCtl_Mod"]


async def test_a_refused_value_comes_back_with_its_reason(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running_lab(tmp_path, mosquitto) as lab:
        bad = {"writes": [{"point": "InWRte", "value": 140}]}
        r = await lab.api.post(f"/api/v1/devices/{BATTERY}/commands", json=bad, headers=auth("operator"))
        assert r.status_code == 400
        assert r.json()["detail"] == "InWRte: 140 is above the maximum 100 %"
        r = await lab.api.post(
            f"/api/v1/devices/{BATTERY}/commands",
            json={"writes": [{"point": "W", "value": 1}]},
            headers=auth("operator"),
        )
        assert r.json()["detail"] == "W is not writable"

        # past the API's check, the device itself refuses: the gateway answers with the Modbus exception
        lab.sim.inject_fault(BATTERY, "exception", code=3)
        ok = {"writes": [{"point": "StorCtl_Mod", "value": 0}]}
        r = await lab.api.post(f"/api/v1/devices/{BATTERY}/commands?wait_s=20", json=ok, headers=auth("operator"))
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["exception_code"]) == ("refused", 3)
        assert "exception 3" in r.json()["detail"]


async def test_a_viewer_cannot_send_and_only_admins_read_the_log(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running_lab(tmp_path, mosquitto) as lab:
        url = f"/api/v1/devices/{BATTERY}/commands"
        assert (await lab.api.post(url, json=SETPOINT, headers=auth("viewer"))).status_code == 403
        assert (await lab.api.post(url, json=SETPOINT)).status_code == 401
        assert (await lab.api.get("/api/v1/commands", headers=auth("operator"))).status_code == 403
        assert lab.sim.devices[BATTERY].controls.stor_ctl_mod == 0
        points = await lab.api.get(f"{url}/points", headers=auth("operator"))
        assert points.status_code == 200
        by_name = {p["name"]: p for p in points.json()["points"]}
        assert by_name["InWRte"]["unit"] == "%"
        assert (by_name["InWRte"]["minimum"], by_name["InWRte"]["maximum"]) == (-100.0, 100.0)
        assert by_name["SetOp"]["values"] == {"1": "connect", "2": "disconnect"}


async def test_an_expired_command_is_never_applied(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running_lab(tmp_path, mosquitto) as lab:
        # as a gateway that comes back an hour later would receive it: issued and expired in the past
        now = time.time_ns() // 1_000_000
        stale = Command(
            id="stale-1",
            gateway=GATEWAY,
            device=BATTERY,
            writes=(PointWrite("StorCtl_Mod", 3.0),),
            issued_ms=now - 3_600_000,
            expires_ms=now - 3_540_000,
            issued_by="operator-1",
        )
        topics = Topics(lab.config.services.mqtt.topic_root)
        results: list[dict[str, object]] = []
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"centre-{uuid.uuid4().hex[:6]}")
        client.on_message = lambda _c, _u, m: results.append(json.loads(m.payload))
        client.connect(mosquitto.host, mosquitto.port)
        client.loop_start()
        try:
            client.subscribe(topics.command_result(GATEWAY), qos=1)
            client.publish(topics.command(GATEWAY), encode_command(stale), qos=1).wait_for_publish(5)
            await async_wait_for(lambda: results, timeout=20, what="the gateway's answer")
        finally:
            client.loop_stop()
            client.disconnect()
        assert results[0]["status"] == "expired"
        assert results[0]["id"] == "stale-1"
        assert lab.sim.devices[BATTERY].controls.stor_ctl_mod == 0  # never written
