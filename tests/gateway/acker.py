"""A test stand-in for the ingest: subscribes to a gateway's uplink and acknowledges envelopes.

It keeps a persistent MQTT session (clean_start false), so envelopes published while it is
reconnecting after a broker restart are queued for it by the broker.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.services import MqttSettings
from ville_autonome.mqttlink.client import connect_blocking, make_client
from ville_autonome.readings.ack import Ack, encode_ack
from ville_autonome.readings.envelope import Envelope, decode
from ville_autonome.readings.topics import Topics


class Acker:
    def __init__(self, settings: MqttSettings, gateway: str, *, ack: bool = True) -> None:
        self.settings = settings
        self.gateway = gateway
        self.ack = ack
        self.topics = Topics(settings.topic_root)
        self.arrivals: list[int] = []  # seqs in arrival order (duplicates included)
        self.envelopes: dict[int, Envelope] = {}
        self.retained: dict[str, bytes] = {}  # last payload on the health and status topics
        self._lock = threading.Lock()
        self.client = make_client(settings, f"test-acker-{uuid.uuid4().hex[:8]}", clean_start=False)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(self.topics.uplink(self.gateway), qos=1)
        client.subscribe(self.topics.health(self.gateway), qos=1)
        client.subscribe(self.topics.status(self.gateway), qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload)
        if message.topic != self.topics.uplink(self.gateway):
            with self._lock:
                self.retained[message.topic] = payload
            return
        env = decode(payload)
        with self._lock:
            self.arrivals.append(env.seq)
            self.envelopes[env.seq] = env
        if self.ack:
            client.publish(self.topics.ack(self.gateway), encode_ack(Ack(self.gateway, (env.seq,), env.epoch)), qos=1)

    def seqs(self) -> set[int]:
        with self._lock:
            return set(self.envelopes)

    def status(self) -> bytes | None:
        with self._lock:
            return self.retained.get(self.topics.status(self.gateway))

    def health(self) -> bytes | None:
        with self._lock:
            return self.retained.get(self.topics.health(self.gateway))

    def start(self) -> Acker:
        connect_blocking(self.client, self.settings, clean_start=False)
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
