"""Where an operator sees a client-id collision: the API's ``/metrics`` gauge, the gateway's
uplink warnings and its status file, the container health check reading it (real Mosquitto, a
second client with the service's own id), the ingest's health problems and stats (its statistics
object as the worker fills it)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.deploy.compose import load_healthcheck
from tests.gateway.rig import GATEWAY, RunningGateway, gateway_config
from tests.support.ports import free_port
from tests.support.services import Mosquitto
from tests.support.waiting import async_wait_for, wait_for
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.dashboard_api.command_bus import CommandBus
from ville_autonome.dashboard_api.routes.operations import collision_metrics_text
from ville_autonome.gateway.uplink import Uplink, gateway_client_id
from ville_autonome.ingest.stats import IngestStats, health_problems, write_status_file
from ville_autonome.journals.command_log import CommandLog
from ville_autonome.mqttlink import connect_blocking, make_client

check_status = load_healthcheck().check_status  # the container's health check (va-healthcheck status)
COLLISION_TIMEOUT_S = 60.0  # a few seconds idle (3 short connections a side, 1 s reconnect delay)


@pytest.fixture
def settings(mosquitto: Mosquitto) -> MqttSettings:
    return MqttSettings(url=mosquitto.url, topic_root="t" + uuid.uuid4().hex[:8])


@pytest.fixture
def intruder(settings: MqttSettings) -> Iterator[list[mqtt.Client]]:
    """Connect a second process's client with an id given later (append it)."""
    made: list[mqtt.Client] = []
    yield made
    for c in made:
        c.disconnect()
        c.loop_stop()


def _intrude(made: list[mqtt.Client], settings: MqttSettings, client_id: str) -> None:
    client = make_client(settings, client_id)
    connect_blocking(client, settings)
    made.append(client)


def _no_log() -> CommandLog:
    raise AssertionError("the command log is not read in this test")


def test_the_api_metrics_show_its_command_client_id_taken(settings: MqttSettings, intruder: list[mqtt.Client]) -> None:
    client_id = f"va-api-{uuid.uuid4().hex[:8]}"
    bus = CommandBus(settings, _no_log, client_id)
    assert collision_metrics_text(bus) == ""  # no client yet: nothing known, no line
    try:
        bus.start(timeout_s=20)
        line = f'va_mqtt_client_id_collision{{service="api",client_id="{client_id}"}}'
        assert f"{line} 0\n" in collision_metrics_text(bus)
        _intrude(intruder, settings, client_id)
        wait_for(lambda: bus.client_id_collision, timeout=COLLISION_TIMEOUT_S, what="the collision named")
        assert f"{line} 1\n" in collision_metrics_text(bus)
    finally:
        bus.stop()


def test_the_gateway_uplink_names_the_collision_in_its_warnings(
    settings: MqttSettings, intruder: list[mqtt.Client], caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.new_event_loop()  # not running: the uplink only queues its callbacks on it
    uplink = Uplink(settings, "gw-twice", loop, on_message=lambda _t, _p: None, on_connected=lambda: None)
    uplink.start()
    try:
        wait_for(lambda: uplink.connected, timeout=20, what="the uplink connected")
        assert uplink.client_id_collision is None
        _intrude(intruder, settings, gateway_client_id("gw-twice"))
        named = wait_for(lambda: uplink.client_id_collision, timeout=COLLISION_TIMEOUT_S, what="the collision named")
        assert "another process probably uses client id 'va-gateway-gw-twice'" in str(named)
        wait_for(
            lambda: any("MQTT uplink lost" in m and "va-gateway-gw-twice" in m for m in caplog.messages),
            what="an uplink-lost warning naming the collision",
        )
    finally:
        uplink.stop()
        loop.close()


def test_the_ingest_health_and_stats_carry_the_collision(tmp_path: Path) -> None:
    named = "MQTT client id 'va-ingest-1': ... another process probably uses client id 'va-ingest-1'"
    stats = IngestStats(mqtt_collision=named)
    problems = health_problems(stats, connected=True)
    assert problems == [named]
    assert stats.as_stats()["mqtt_client_id_collision"] == 1.0
    assert IngestStats().as_stats()["mqtt_client_id_collision"] == 0.0
    assert health_problems(IngestStats(), connected=True) == []
    status = tmp_path / "status.json"
    write_status_file(status, problems, stats)
    assert "another process probably uses client id 'va-ingest-1'" in status.read_text()


def _status(path: Path) -> dict[str, object] | None:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None  # not written yet


async def test_the_gateway_status_file_names_the_collision_for_the_health_check(
    settings: MqttSettings, intruder: list[mqtt.Client], tmp_path: Path
) -> None:
    config = gateway_config(settings.url, settings.topic_root, [], tmp_path / "buffer.sqlite")
    config.services.gateway.status_file = str(tmp_path / "{gateway}.status")
    path = tmp_path / f"{GATEWAY}.status"
    async with RunningGateway(config):
        await async_wait_for(lambda: (_status(path) or {}).get("healthy") is True, timeout=30, what="healthy")
        doc = _status(path)
        assert doc is not None
        assert (doc["gateway"], doc["problems"], doc["buffered_envelopes"]) == (GATEWAY, [], 0)
        assert check_status(str(path), 60.0, int(doc["updated_ms"])) is None

        await asyncio.to_thread(_intrude, intruder, settings, gateway_client_id(GATEWAY))

        def named() -> bool:
            problems = (_status(path) or {}).get("problems") or []
            return any("another process probably uses client id 'va-gateway-gw-test'" in p for p in problems)  # type: ignore[union-attr]

        await async_wait_for(named, timeout=COLLISION_TIMEOUT_S, what="the collision in the status file")
        doc = _status(path)
        assert doc is not None
        assert doc["healthy"] is False
        said = check_status(str(path), 60.0, int(doc["updated_ms"]))
        assert said is not None
        assert "va-gateway-gw-test" in said


async def test_a_gateway_without_its_broker_is_unhealthy_in_its_status_file(tmp_path: Path) -> None:
    config = gateway_config(f"mqtt://127.0.0.1:{free_port()}", "t", [], tmp_path / "buffer.sqlite")
    config.services.gateway.status_file = str(tmp_path / "gw.status")
    async with RunningGateway(config):
        await async_wait_for(lambda: _status(tmp_path / "gw.status") is not None, timeout=30, what="a status")
        doc = _status(tmp_path / "gw.status")
        assert doc is not None
        assert (doc["healthy"], doc["problems"]) == (False, ["not connected to the MQTT broker"])
        assert check_status(str(tmp_path / "gw.status"), 60.0, int(doc["updated_ms"])) == (
            "not connected to the MQTT broker"
        )
