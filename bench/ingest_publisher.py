"""The bench's gateway for bench/bench_ingest.py: publishes envelopes (QoS 1) on the uplink and
records the end-to-end acknowledgements the ingest sends back."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.services import Mosquitto
from ville_autonome.readings.ack import decode_ack
from ville_autonome.readings.envelope import Envelope, encode
from ville_autonome.readings.model import Reading
from ville_autonome.readings.topics import Topics

GATEWAY = "gw-bench"


class Gateway:
    """A publisher of envelopes that records end-to-end acks."""

    def __init__(self, broker: Mosquitto, per_envelope: int) -> None:
        self.topics = Topics("bench")
        self.per_envelope = per_envelope
        self.acked: set[int] = set()
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-gw", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(self.topics.ack(GATEWAY), qos=1)

    def _on_message(self, c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.acked.update(decode_ack(msg.payload).seqs)

    def envelopes(self, seq0: int, rs: list[Reading]) -> list[bytes]:
        sent, size = int(time.time() * 1000), self.per_envelope
        return [
            encode(Envelope(GATEWAY, seq0 + k, sent, tuple(rs[i : i + size])))
            for k, i in enumerate(range(0, len(rs), size))
        ]

    def publish(self, seq0: int, payloads: list[bytes]) -> int:
        for payload in payloads:
            self.client.publish(self.topics.uplink(GATEWAY), payload, qos=1)
        return seq0 + len(payloads)

    def wait_acked(self, upto: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len([s for s in self.acked if s < upto]) >= upto:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
