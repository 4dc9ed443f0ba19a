"""MQTT devices (Shelly Pro 3EM, Shelly Gen1 EM, Tasmota, or a custom mapping), in their real shapes.

Each device publishes what its mapping (``DeviceConfig.mqtt_topics()``: a preset of
``configuration.mqtt_presets``, or its own ``topics``/``fields``) says it publishes: one message
per topic, JSON where the fields have paths (each ``path``, dotted, numeric parts are list
indices, receives ``value / scale`` of its ``quantity``), a plain number where the field's path is
empty (Shelly Gen1: ``shellies/<id>/emeter/0/power`` → ``231.5``). A topic that names a
``timestamp`` carries the device's clock there (epoch seconds, ms, or ISO 8601 with its offset, as
Tasmota sends it with ``SetOption52 1``); the Shelly Gen2 status topics have none, as on the wire.

A device whose preset has an output (``configuration.mqtt_presets.Relay``: Shelly Gen1, Tasmota)
obeys its command topic as the real one does: ``on``/``off``/``toggle`` (Tasmota: any case, and
``1``/``0``), then reports its state on its state topic (Tasmota: also ``{"POWER":"ON"}`` on
``stat/<topic>/RESULT``); an unknown word changes nothing and is answered with the state. While
off, the device publishes no power (0 W, 0 A); the simulated site is not rebalanced (its
counters keep counting).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.mqtt_mapping import MqttTopic
from ville_autonome.configuration.mqtt_presets import Relay
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.mqttlink.client import connect_properties, make_client

log = logging.getLogger(__name__)

MALFORMED_PAYLOAD = b'{"emeters": [{"power": 12.5, "total": '  # truncated JSON (malformed_mqtt fault)


def _set_path(doc: dict[str, Any], path: str, value: float | str) -> None:
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


def _value(values: Mapping[str, float], quantity: str) -> float | None:
    """A quantity of the device, or what a single-phase plug derives from the three-phase detail."""
    if quantity in values:
        return values[quantity]
    if quantity == "voltage_v" and "voltage_l1_v" in values:
        return values["voltage_l1_v"]
    if quantity == "current_a" and "active_power_w" in values:
        return abs(values["active_power_w"]) / values.get("voltage_l1_v", 230.0)
    return None


def _stamp(fmt: str, clock_ms: int) -> float | str:
    if fmt == "iso":
        return dt.datetime.fromtimestamp(clock_ms // 1000, dt.UTC).isoformat()
    return clock_ms if fmt == "epoch_ms" else clock_ms // 1000


def build_payload(topic: MqttTopic, values: Mapping[str, float], clock_ms: int) -> bytes | None:
    """The payload of one topic (pure); ``None`` when the device has none of its values."""
    if all(f.path == "" for f in topic.fields):
        value = _value(values, topic.fields[0].quantity)
        return None if value is None else str(round(value / topic.fields[0].scale, 3)).encode()
    doc: dict[str, Any] = {}
    for f in topic.fields:
        value = _value(values, f.quantity)
        if value is not None:
            _set_path(doc, f.path, round(value / f.scale, 3))
    if not doc:
        return None
    if topic.timestamp is not None:
        _set_path(doc, topic.timestamp, _stamp(topic.timestamp_format, clock_ms))
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def next_slot(due: float, now: float, interval: float) -> float:
    """The next publication time after the slot ``due`` was served at ``now``: slots stay on the
    ``due + k × interval`` grid (a late tick does not stretch the period), a missed slot is skipped."""
    return due + interval * (int(max(now - due, 0.0) // interval) + 1)


def build_payloads(device: DeviceConfig, values: Mapping[str, float], clock_ms: int) -> list[tuple[str, bytes]]:
    """Every (topic, payload) one device publishes now."""
    out = []
    for topic in device.mqtt_topics():
        payload = build_payload(topic, values, clock_ms)
        if payload is not None:
            out.append((topic.topic, payload))
    return out


def obey(relay: Relay, on: bool, payload: bytes) -> bool:
    """The output's state after a command payload (pure): ``on``, ``off``, ``toggle`` in the
    family's case (Tasmota: any case, and ``1``/``0``); anything else leaves it as it is."""
    word = payload.decode("utf-8", "replace").strip()
    if relay.on.isupper():  # Tasmota: case-insensitive, numbers too
        word = {"1": "on", "0": "off", "2": "toggle"}.get(word, word.lower())
    elif word not in ("on", "off", "toggle"):
        return on
    if word == "toggle":
        return not on
    return {"on": True, "off": False}.get(word, on)


class MqttPublisher:
    """One paho client for every MQTT device; connects in the background and keeps retrying. The
    devices' outputs (``relays``: device id → relay) obey their command topics, and ``on_output``
    hears each change (device id, on), so that the site's physics follows it."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        relays: Mapping[str, Relay] | None = None,
        on_output: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.client: mqtt.Client = make_client(settings, client_id)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._started = False
        self._failures = 0
        self._relays = {r.command_topic: (device, r) for device, r in (relays or {}).items()}
        self.output_on: dict[str, bool] = dict.fromkeys(relays or {}, True)
        self._on_output = on_output
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_command

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
        for topic in self._relays:
            self.client.subscribe(topic, qos=1)

    def _on_command(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        found = self._relays.get(message.topic)
        if found is None:
            return
        device, relay = found
        on = obey(relay, self.output_on[device], bytes(message.payload))
        self.output_on[device] = on
        if self._on_output is not None:
            self._on_output(device, on)
        word = relay.on if on else relay.off
        log.info("simulated %s: output %s (command %r)", device, word, bytes(message.payload)[:16])
        self.client.publish(relay.state_topic, word.encode(), qos=1)
        if relay.result_topic is not None:
            self.client.publish(relay.result_topic, json.dumps({"POWER": word}).encode(), qos=1)

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
