"""The API's command results survive its restart: its command client holds a persistent MQTT
session (clean start off, a stable client id), so a result a gateway publishes while the API is
down is kept by the broker (real Mosquitto) and recorded once the API is back — without any
command route being called again (the start-up resumes the session)."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt

from tests.dashboard_api.serving import serve_in_thread
from tests.simulators.conftest import amiens_document
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.configuration.services import ApiKey
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.readings.commands import CommandResult, CommandStatus, encode_result
from ville_autonome.readings.topics import Topics
from ville_autonome.storage.factory import open_store

BATTERY = "hub-energie-battery"
GATEWAY = "gw-gare-la-vallee"
OPERATOR_KEY = f"key-operator-{uuid.uuid4().hex[:8]}"


def _config(tmp_path: Path, mosquitto: Mosquitto) -> PlatformConfig:
    doc = amiens_document(sites={"quai-innovation"}, mqtt_url=mosquitto.url)
    doc["services"]["mqtt"]["topic_root"] = "t" + uuid.uuid4().hex[:8]
    doc["services"]["store"] = {"backend": "sqlite", "path": str(tmp_path / "store.sqlite")}
    doc["services"]["api"] = {"command_client_id": f"va-api-{uuid.uuid4().hex[:8]}"}
    cfg = PlatformConfig.model_validate(doc)
    digest = hashlib.sha256(OPERATOR_KEY.encode()).hexdigest()
    cfg.services.api.keys.append(ApiKey(name="operator-1", role="operator", sha256=digest))
    return cfg


def _publish_as_gateway(cfg: PlatformConfig, mosquitto: Mosquitto, result: CommandResult) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gw-{uuid.uuid4().hex[:8]}")
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    try:
        info = client.publish(
            Topics(cfg.services.mqtt.topic_root).command_result(GATEWAY), encode_result(result), qos=1
        )
        info.wait_for_publish(timeout=10)
        assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def test_a_result_published_while_the_api_is_down_is_recorded_when_it_is_back(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cfg = _config(tmp_path, mosquitto)
    auth = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    store = open_store(cfg.services.store)
    try:
        # no gateway runs: the command stays "sent"
        with serve_in_thread(create_app(cfg, store)) as base, httpx.Client(base_url=base, timeout=30) as api:
            sent = api.post(
                f"/api/v1/devices/{BATTERY}/commands",
                params={"wait_s": 0},
                json={"writes": [{"point": "StorCtl_Mod", "value": 3}], "expires_in_s": 600},
                headers=auth,
            )
            assert sent.status_code == 202, sent.text
            command_id = sent.json()["id"]
        # the API is down: the gateway answers now
        done_ms = time.time_ns() // 1_000_000
        _publish_as_gateway(
            cfg,
            mosquitto,
            CommandResult(command_id, GATEWAY, BATTERY, CommandStatus.APPLIED, done_ms, readback={"StorCtl_Mod": 3.0}),
        )
        # the API is back, and nobody calls a command route that would connect its command client
        with serve_in_thread(create_app(cfg, store)) as base, httpx.Client(base_url=base, timeout=30) as api:

            def settled() -> dict[str, object] | None:
                rec = api.get(f"/api/v1/devices/{BATTERY}/commands/{command_id}", headers=auth).json()
                return rec if rec["status"] != "sent" else None

            rec = wait_for(settled, timeout=20, what="the result kept by the broker to be recorded")
            assert (rec["status"], rec["readback"], rec["done_ms"]) == ("applied", {"StorCtl_Mod": 3.0}, done_ms)
    finally:
        store.close()
