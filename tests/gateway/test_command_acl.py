"""The downlink's ACL on the shipped production broker (deploy/mosquitto): only the API's user
writes commands; each gateway reads only its own commands and answers only for itself."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.deploy.broker import ProdMosquitto, run_entrypoint
from tests.support.waiting import wait_for
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.mqttlink import connect_blocking, make_client

USERS = {
    "va-api": ("MQTT_PASSWORD_API", "s3cret-api"),
    "gw-saint-leu": ("MQTT_PASSWORD_GW_SAINT_LEU", "s3cret-saint-leu"),
    "gw-citadelle": ("MQTT_PASSWORD_GW_CITADELLE", "s3cret-citadelle"),
}
NOT_AUTHORIZED = 135


class Peer:
    def __init__(self, broker: ProdMosquitto, user: str) -> None:
        settings = MqttSettings(url=broker.url, username=user, password=SecretStr(USERS[user][1]))
        self.client = make_client(settings, f"{user}-{uuid.uuid4().hex[:6]}")
        self.received: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.acks: dict[int, int] = {}
        self.client.on_message = lambda c, u, m: self.received.put((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda c, u, mid, rc, p: self.acks.__setitem__(mid, int(rc[0].value))
        self.client.on_publish = lambda c, u, mid, rc, p: self.acks.__setitem__(mid, int(rc.value))
        connect_blocking(self.client, settings)

    def subscribe(self, topic: str) -> int:
        _, mid = self.client.subscribe(topic, qos=1)
        assert mid is not None
        return wait_for(lambda: self.acks.get(mid, -1) + 1, what=f"SUBACK {topic}") - 1

    def publish(self, topic: str, payload: bytes) -> int:
        mid = self.client.publish(topic, payload, qos=1).mid
        return wait_for(lambda: self.acks.get(mid, -1) + 1, what=f"PUBACK {topic}") - 1

    def drain(self) -> list[tuple[str, bytes]]:
        out = []
        while not self.received.empty():
            out.append(self.received.get_nowait())
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.client.on_message = self.client.on_subscribe = self.client.on_publish = None


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Any]:
    run_dir = tmp_path / "run"
    assert run_entrypoint(run_dir, USERS).returncode == 0
    broker = ProdMosquitto(tmp_path / "broker", run_dir)
    broker.start()
    made: list[Peer] = []

    def make(user: str) -> Peer:
        made.append(Peer(broker, user))
        return made[-1]

    yield make
    for p in made:
        p.close()
    broker.kill()


def test_only_the_api_commands_and_each_gateway_hears_its_own(peers: Any) -> None:
    api, saint_leu, citadelle = peers("va-api"), peers("gw-saint-leu"), peers("gw-citadelle")
    assert api.subscribe("va/v1/command-result/+") == 1
    assert saint_leu.subscribe("va/v1/command/#") == 1  # granted; "read" is enforced per message
    assert citadelle.subscribe("va/v1/command/#") == 1

    # a gateway cannot command anyone, nor answer for another gateway
    assert citadelle.publish("va/v1/command/gw-saint-leu", b"forged command") == NOT_AUTHORIZED
    assert citadelle.publish("va/v1/command-result/gw-saint-leu", b"forged result") == NOT_AUTHORIZED
    assert api.publish("va/v1/command/gw-saint-leu", b"command for saint-leu") == 0
    assert saint_leu.publish("va/v1/command-result/gw-saint-leu", b"result") == 0

    got: list[tuple[str, bytes]] = []
    wait_for(lambda: got.extend(saint_leu.drain()) or got, what="the command at its gateway")
    assert got == [("va/v1/command/gw-saint-leu", b"command for saint-leu")]
    results: list[tuple[str, bytes]] = []
    wait_for(lambda: results.extend(api.drain()) or results, what="the result at the API")
    assert results == [("va/v1/command-result/gw-saint-leu", b"result")]
    # everything above was routed before its PUBACK: the other gateway heard nothing
    assert citadelle.drain() == []
