"""MQTT device input: map what a device publishes onto standard quantities. Pure.

A device configured with ``protocol: mqtt`` publishes on one or more topics
(``DeviceConfig.mqtt_topics()``: a preset, explicit ``topics``, or one ``topic`` with ``fields``;
docs/profiles.md, "MQTT devices"). Each topic's payload is

- JSON: each field's ``path`` is a dotted path into it (``ENERGY.Power``; list items by index,
  ``emeters.0.power``); or
- a plain number (Shelly Gen1 publishes ``231.4`` on ``…/emeter/0/voltage``): ``path: ""``.

Time: a topic that names its ``timestamp`` (a path in the JSON, as epoch seconds, epoch ms or
ISO 8601 with an offset) dates its readings by the device's clock **only when that clock agrees
with the gateway's** within the device's ``max_clock_skew_s`` (default 30 s); otherwise, or without
a timestamp, the reception time does, and a disagreeing clock is counted as ``clock_skew`` in the
device's health. An ISO time without an offset (Tasmota's default ``Time``, local time) is never
used: its zone is unknown. So a device with a wrong clock can neither move its readings into the
future nor rewrite the past.

A missing or non-numeric value yields a ``decode_error`` reading (never a silent drop); a payload
that is not JSON (where JSON is expected) or not a number (where a number is) is refused as a whole
with a :class:`PayloadError`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ville_autonome.configuration.mqtt_mapping import MqttTopic
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.gateway.errors import PayloadError
from ville_autonome.gateway.quality import ValueTracker
from ville_autonome.readings.model import Quality, Reading
from ville_autonome.registers.codec import DecodedValue, DecodeReason


def lookup(doc: Any, path: str) -> Any:
    """Follow a dotted path (``a.b.0.c``) through dicts and lists; ``KeyError`` if absent."""
    node = doc
    for part in path.split(".") if path else ():
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(path)
    return node


def device_time_ms(raw: Any, fmt: str) -> int | None:
    """The device's time as epoch ms, or ``None`` if it is absent, malformed or without a zone."""
    if fmt == "iso":
        if not isinstance(raw, str):
            return None
        try:
            when = dt.datetime.fromisoformat(raw)
        except ValueError:
            return None
        return int(when.timestamp() * 1000) if when.tzinfo is not None else None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw <= 0:
        return None
    return int(raw * 1000) if fmt == "epoch_s" else int(raw)


@dataclass(frozen=True, slots=True)
class Decoded:
    readings: list[Reading]
    clock_skewed: bool = False  # the device sent a time too far from the gateway's: not used


def _document(device: str, topic: MqttTopic, payload: bytes) -> Any:
    try:
        text = payload.decode("utf-8")
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        kind = "a number" if all(f.path == "" for f in topic.fields) else "JSON"
        raise PayloadError(f"device {device}: payload on {topic.topic} is not {kind}: {exc}") from exc


def readings_from_payload(
    device: str, topic: MqttTopic, payload: bytes, received_ms: int, tracker: ValueTracker, max_skew_ms: int
) -> Decoded:
    doc = _document(device, topic, payload)
    if any(f.path for f in topic.fields) and not isinstance(doc, dict):
        raise PayloadError(f"device {device}: payload on {topic.topic} is not a JSON object")
    ts_ms, skewed = received_ms, False
    if topic.timestamp is not None:
        try:
            own = device_time_ms(lookup(doc, topic.timestamp), topic.timestamp_format)
        except KeyError:
            own = None
        if own is not None and abs(own - received_ms) <= max_skew_ms:
            ts_ms = own
        elif own is not None:
            skewed = True
    out = []
    for f in topic.fields:
        try:
            raw = lookup(doc, f.path)
        except KeyError:
            out.append(Reading(device, f.quantity, ts_ms, None, Quality.DECODE_ERROR))
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            decoded = DecodedValue(None, DecodeReason.DECODE_ERROR, detail=f"{f.path or 'payload'} is not a number")
        else:
            decoded = DecodedValue(float(raw) * f.scale, raw=raw)
        out.append(tracker.assess(device, f.quantity, ts_ms, decoded))
    return Decoded(out, skewed)


class MqttInputs:
    """The MQTT devices of one gateway: which topic belongs to which device, and their trackers."""

    def __init__(self, devices: Iterable[DeviceConfig]) -> None:
        self.by_topic: dict[str, tuple[DeviceConfig, MqttTopic]] = {}
        self.trackers: dict[str, ValueTracker] = {}
        for dev in devices:
            for t in dev.mqtt_topics():
                self.by_topic[t.topic] = (dev, t)
            self.trackers[dev.id] = ValueTracker()

    @property
    def topics(self) -> list[str]:
        return list(self.by_topic)

    def decode(self, topic: str, payload: bytes, received_ms: int) -> tuple[DeviceConfig, Decoded] | None:
        """The device and readings of one message; ``None`` if the topic is not a device's.
        Raises :class:`PayloadError` for a payload the mapping cannot read."""
        found = self.by_topic.get(topic)
        if found is None:
            return None
        dev, mapping = found
        skew_ms = int(dev.max_clock_skew_s * 1000)
        return dev, readings_from_payload(dev.id, mapping, payload, received_ms, self.trackers[dev.id], skew_ms)
