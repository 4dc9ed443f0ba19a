"""MQTT device input: map fields of a device's JSON payload onto standard quantities. Pure.

A device configured with ``protocol: mqtt`` publishes JSON on ``DeviceConfig.topic``; each
``DeviceConfig.fields`` entry names a dotted path into the payload (``emeters.0.power``: list
items by index), the quantity it carries and a scale. A root ``ts`` field (UTC epoch ms) dates
the readings; without it the receive time does. A missing or non-numeric field yields a
``decode_error`` reading (never a silent drop); a payload that is not a JSON object is refused
as a whole with a :class:`PayloadError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from ville_autonome.configuration.topology import MqttField
from ville_autonome.gateway.quality import ValueTracker
from ville_autonome.readings.model import Quality, Reading
from ville_autonome.registers.codec import DecodedValue, DecodeReason


class PayloadError(ValueError):
    """The payload is not a JSON object."""


def lookup(doc: Any, path: str) -> Any:
    """Follow a dotted path (``a.b.0.c``) through dicts and lists; ``KeyError`` if absent."""
    node = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(path)
    return node


def readings_from_payload(
    device: str, fields: Sequence[MqttField], payload: bytes, received_ms: int, tracker: ValueTracker
) -> list[Reading]:
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"device {device}: payload is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise PayloadError(f"device {device}: payload is not a JSON object")
    ts = doc.get("ts")
    ts_ms = ts if isinstance(ts, int) and not isinstance(ts, bool) and ts > 0 else received_ms
    out = []
    for f in fields:
        try:
            raw = lookup(doc, f.path)
        except KeyError:
            out.append(Reading(device, f.quantity, ts_ms, None, Quality.DECODE_ERROR))
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            decoded = DecodedValue(None, DecodeReason.DECODE_ERROR, detail=f"{f.path} is not a number")
        else:
            decoded = DecodedValue(float(raw) * f.scale, raw=raw)
        out.append(tracker.assess(device, f.quantity, ts_ms, decoded))
    return out
