"""MQTT devices (Shelly/Tasmota-like): JSON status payloads on each device's own topic.

The payload shape follows the device's ``fields`` in the configuration: each ``path`` (dotted,
numeric parts are list indices, e.g. ``emeters.0.power``) receives ``value / scale`` of its
``quantity``, so that the gateway's mapping reads back the standard value. A top-level
``unixtime`` (epoch seconds, as Shelly devices send) carries the device's clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.services import MqttSettings
from ville_autonome.configuration.topology import MqttField
from ville_autonome.mqttlink.client import connect_properties, make_client

log = logging.getLogger(__name__)

MALFORMED_PAYLOAD = b'{"emeters": [{"power": 12.5, "total": '  # truncated JSON (malformed_mqtt fault)


def _set_path(doc: dict[str, Any], path: str, value: float) -> None:
    parts = path.split(".")
    node: Any = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt_is_index = not last and parts[i + 1].isdigit()
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append({} if not nxt_is_index else [])
            if last:
                node[index] = value
            else:
                if not isinstance(node[index], dict | list):
                    node[index] = [] if nxt_is_index else {}
                node = node[index]
        else:
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, [] if nxt_is_index else {})


def build_payload(fields: Sequence[MqttField], values: Mapping[str, float], unixtime_s: float) -> bytes:
    """The JSON status document of one device (pure)."""
    doc: dict[str, Any] = {}
    for f in fields:
        if f.quantity in values:
            _set_path(doc, f.path, round(values[f.quantity] / f.scale, 3))
    doc.setdefault("unixtime", int(unixtime_s))
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


class MqttPublisher:
    """One paho client for every MQTT device; connects in the background and keeps retrying."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self.settings = settings
        self.client: mqtt.Client = make_client(settings, client_id)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._started = False
        self._failures = 0
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_connect = self._on_connect

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        self._failures += 1
        if self._failures == 1:  # loud once, then quiet until it recovers
            log.warning(
                "MQTT broker %s:%d unreachable; MQTT devices wait and retry", self.settings.host, self.settings.port
            )

    def _on_connect(self, _c: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT broker refused the simulators: %s", reason)
            return
        if self._failures:
            log.info("MQTT broker reachable again after %d failed attempts", self._failures)
        self._failures = 0

    def start(self) -> None:
        s = self.settings
        self.client.connect_async(s.host, s.port, keepalive=s.keepalive_s, **connect_properties(s, clean_start=True))
        self.client.loop_start()
        self._started = True
        log.info("simulated MQTT devices publish to %s:%d", s.host, s.port)

    def publish(self, topic: str, payload: bytes) -> None:
        if self.client.is_connected():
            self.client.publish(topic, payload, qos=0)

    def stop(self) -> None:
        if self._started:
            self._started = False
            self.client.disconnect()
            self.client.loop_stop()
