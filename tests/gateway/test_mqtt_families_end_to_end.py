"""The three MQTT device families, end to end: simulated Shelly Pro 3EM, Shelly Gen1 EM and
Tasmota publish their real shapes on Mosquitto → the gateway maps them through their presets →
uplink → ingest → store → the site's autonomy, where each device counts as measured."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from tests.simulators.conftest import amiens_document
from tests.support.services import Mosquitto
from tests.support.waiting import async_wait_for
from ville_autonome.autonomy_queries import compute_autonomy
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.gateway.service import GatewayService
from ville_autonome.ingest.service import IngestService
from ville_autonome.simulators.service import SimulatorService
from ville_autonome.storage.factory import open_store

SITE = "maison-du-projet"
DEVICES = {"mdp-grid-meter", "mdp-load", "mdp-pv"}
INTERVAL_S = 900


async def test_shelly_and_tasmota_devices_enter_the_site_s_autonomy(tmp_path: Path, mosquitto: Mosquitto) -> None:
    doc = amiens_document(sites={SITE}, mqtt_url=mosquitto.url)
    doc["services"]["mqtt"]["topic_root"] = "t" + uuid.uuid4().hex[:8]
    doc["services"]["store"] = {"backend": "sqlite", "path": str(tmp_path / "store.sqlite")}
    doc["services"]["ingest"]["client_id"] = "ingest-" + uuid.uuid4().hex[:8]
    doc["gateways"] = [g for g in doc["gateways"] if g["id"] == "gw-gare-la-vallee"]
    config = PlatformConfig.model_validate(doc)
    store = open_store(config.services.store)
    ingest = IngestService(config, store)
    stop = asyncio.Event()
    gateway = GatewayService(config, "gw-gare-la-vallee", buffer_path=tmp_path / "gw.sqlite")
    start_ms = time.time_ns() // 1_000_000
    await asyncio.to_thread(ingest.start)
    try:
        async with SimulatorService(config, speed=1.0, tick_s=0.2):
            task = asyncio.create_task(gateway.run(stop))
            try:

                def every_device_counted_twice() -> bool:
                    latest = {(v.context.device, v.quantity): v for v in store.latest(since_ms=start_ms)}
                    counters = {d for (d, q), v in latest.items() if q.startswith("energy_") and v.quality == "good"}
                    return counters >= DEVICES and gateway.stats.acked >= 3

                await async_wait_for(every_device_counted_twice, timeout=60, what="counters of the three devices")
            finally:
                stop.set()
                await asyncio.wait_for(task, 30)
    finally:
        await asyncio.to_thread(ingest.stop)
    try:
        end_ms = time.time_ns() // 1_000_000
        window = (start_ms // (INTERVAL_S * 1000)) * INTERVAL_S * 1000
        assert not gateway.stats.mqtt_rejected
        health = gateway.device_health()
        assert {h.device for h in health if h.online} == DEVICES
        store.refresh_rollups()  # the rollup compiler's pass, run here (the ingest writes raw points and marks)
        result = compute_autonomy(store, config, f"site:{SITE}", window - INTERVAL_S * 1000, end_ms + 1, INTERVAL_S)
        covered = {c.device: c for c in result.coverage.devices}
        assert set(covered) >= DEVICES
        for device in DEVICES:
            c = covered[device]
            assert c.measured + c.integrated + c.imputed >= 1, c  # not missing: the device counts
        assert result.metrics.load_wh > 0
    finally:
        store.close()
