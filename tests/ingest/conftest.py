"""Ingest test support: a small topology on the real broker, a publisher and a listener of acks and
dead letters (real paho clients), stores of both kinds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.configuration.loader import load_config_text
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.ack import decode_ack
from ville_autonome.readings.envelope import Envelope, encode
from ville_autonome.readings.model import Reading
from ville_autonome.readings.topics import Topics

GATEWAY = "gw-test"
DEVICES = ["dev-grid", "dev-pv", "dev-load"]


def config_doc(mqtt_url: str, root: str, store: dict[str, Any], ingest: dict[str, Any] | None = None) -> dict[str, Any]:
    def dev(i: str, role: str, source: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {"id": i, "role": role, "protocol": "mqtt", "topic": f"devices/{i}"}
        if source:
            d["source"] = source
        return d

    return {
        "city": {"id": "testville"},
        "services": {
            "mqtt": {"url": mqtt_url, "topic_root": root},
            "store": store,
            "ingest": {"batch_interval_s": 0.2, **(ingest or {})},
        },
        "gateways": [{"id": GATEWAY}, {"id": "gw-other"}],
        "districts": [
            {
                "id": "d1",
                "sites": [
                    {
                        "id": "s1",
                        "gateway": GATEWAY,
                        "devices": [
                            dev("dev-grid", "grid"),
                            dev("dev-pv", "production", "pv"),
                            dev("dev-load", "consumption"),
                        ],
                    },
                    {"id": "s2", "gateway": "gw-other", "devices": [dev("dev-bat", "storage")]},
                ],
            }
        ],
    }


def make_config(doc: dict[str, Any]) -> PlatformConfig:
    return load_config_text(yaml.safe_dump(doc), source="test.yaml", environ={})


@pytest.fixture
def root(unique_name: str) -> str:
    return unique_name


@pytest.fixture
def sqlite_store_doc(tmp_path: Path) -> dict[str, Any]:
    return {"backend": "sqlite", "path": str(tmp_path / "store.sqlite"), "rollup_refresh_s": 0}


@pytest.fixture
def influx_store_doc(influxd: Influxd, unique_name: str) -> dict[str, Any]:
    return {"backend": "influxdb", "url": influxd.url, "database": unique_name}


def envelope(gateway: str, seq: int, t0: int, n: int = 3, devices: list[str] | None = None) -> Envelope:
    devs = devices or DEVICES
    readings = tuple(
        Reading(devs[i % len(devs)], "active_power_w", t0 + seq * 100 + i // len(devs), float(seq * 100 + i))
        for i in range(n)
    )
    return Envelope(gateway=gateway, seq=seq, sent_ms=t0 + seq * 1000, readings=readings)


class Client:
    """A real paho client for the test side: publishes QoS 1 and records acks and dead letters."""

    def __init__(self, broker: Mosquitto, root: str, name: str = "test-side") -> None:
        self.topics = Topics(root)
        self.acks: dict[str, set[int]] = {}
        self.dead: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{root}-{name}", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe([(self.topics.ack("+"), 1), (self.topics.deadletter("+"), 1)])
        wait_for(subscribed.is_set, timeout=10, what="test client subscription")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            if "/ack/" in msg.topic:
                ack = decode_ack(msg.payload)
                self.acks.setdefault(ack.gateway, set()).update(ack.seqs)
            else:
                self.dead.append(json.loads(msg.payload))

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=1, retain=retain)

    def publish_all(self, items: list[tuple[str, bytes]], timeout: float = 30) -> None:
        infos = [self.publish(t, p) for t, p in items]
        deadline = time.monotonic() + timeout
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert info.is_published(), "broker did not acknowledge a publish"

    def publish_envelopes(self, envs: list[Envelope]) -> None:
        self.publish_all([(self.topics.uplink(e.gateway), encode(e)) for e in envs])

    def acked(self, gateway: str) -> set[int]:
        with self._lock:
            return set(self.acks.get(gateway, set()))

    def dead_letters(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.dead)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def client_factory() -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(broker: Mosquitto, root: str, name: str = "test-side") -> Client:
        c = Client(broker, root, name)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
