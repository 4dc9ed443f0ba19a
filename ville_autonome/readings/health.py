"""Device health as the gateway reports it (retained on ``{root}/v1/health/{gateway}``).

Payload (JSON)::

    {"schema": 1, "gateway": "gw-saint-leu", "ts": 1763762400000,
     "devices": [{"device": "sl-meter-1", "online": true, "last_seen": 1763762399000,
                  "last_quality": "good", "errors": {"timeout": 3, "exception": 0}}],
     "buffer": {"envelopes": 12, "readings": 4800, "oldest_ms": 1763762300000}}

``buffer`` (optional): the gateway's store-and-forward backlog — envelopes and readings waiting
for their end-to-end acknowledgement, and when the oldest of them was sealed (``null`` when none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ville_autonome.readings.wire_limits import (
    MAX_ID_CHARS,
    MAX_INT,
    MAX_ITEMS,
    MAX_KEYS,
    MAX_TEXT_CHARS,
    WireLimitError,
    is_int,
    is_text,
    load_json,
)

HEALTH_SCHEMA = 1


class HealthError(ValueError):
    """A health payload that cannot be used."""


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    device: str
    gateway: str
    online: bool
    last_seen_ms: int | None
    updated_ms: int
    last_quality: str = "good"
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BufferReport:
    """A gateway's backlog: envelopes and readings not yet acknowledged, the oldest one's sealing time."""

    envelopes: int
    readings: int
    oldest_ms: int | None


def encode_health(gateway: str, ts_ms: int, devices: list[DeviceHealth], buffer: BufferReport | None = None) -> bytes:
    doc: dict[str, Any] = {
        "schema": HEALTH_SCHEMA,
        "gateway": gateway,
        "ts": ts_ms,
        "devices": [
            {
                "device": d.device,
                "online": d.online,
                "last_seen": d.last_seen_ms,
                "last_quality": d.last_quality,
                "errors": dict(d.errors),
            }
            for d in devices
        ],
    }
    if buffer is not None:
        doc["buffer"] = {"envelopes": buffer.envelopes, "readings": buffer.readings, "oldest_ms": buffer.oldest_ms}
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class HealthProblem:
    """One device record of a health document that cannot be used, and why."""

    index: int
    detail: str
    record: object  # the record as received (for the dead letter)


@dataclass(frozen=True, slots=True)
class HealthDocument:
    """A health document whose header is valid: the usable device records and the others."""

    gateway: str
    ts_ms: int
    devices: list[DeviceHealth]
    problems: list[HealthProblem]
    indexes: list[int] = field(default_factory=list)  # each usable record's index in ``devices`` as received
    buffer: BufferReport | None = None
    buffer_problem: str | None = None  # a ``buffer`` that cannot be used (the device records still are)


def _buffer(raw: Any) -> BufferReport:
    """The ``buffer`` object, or ``ValueError`` naming the field at fault."""
    if not isinstance(raw, dict) or len(raw) > MAX_KEYS:
        raise ValueError("'buffer' must be an object")
    envelopes, readings, oldest = raw.get("envelopes"), raw.get("readings"), raw.get("oldest_ms")
    if not is_int(envelopes) or not is_int(readings):
        raise ValueError("'buffer.envelopes' and 'buffer.readings' must be non-negative integers")
    if oldest is not None and not is_int(oldest, minimum=-MAX_INT):
        raise ValueError("'buffer.oldest_ms' must be integer milliseconds or null")
    return BufferReport(envelopes, readings, oldest)


def _device(gateway: str, ts: int, d: Any) -> DeviceHealth:
    """One device record, or ``ValueError`` naming the field at fault (types and sizes)."""
    if not isinstance(d, dict):
        raise ValueError("not a JSON object")
    if len(d) > MAX_KEYS:
        raise ValueError(f"{len(d)} fields, more than {MAX_KEYS}")
    device = d.get("device")
    if not is_text(device):
        raise ValueError(f"'device' must be a non-empty string of at most {MAX_ID_CHARS} characters")
    online = d.get("online", False)
    if type(online) is not bool:
        raise ValueError("'online' must be true or false")
    last_seen = d.get("last_seen")
    if last_seen is not None and not is_int(last_seen, minimum=-MAX_INT):
        raise ValueError("'last_seen' must be integer milliseconds or null")
    last_quality = d.get("last_quality", "good")
    if not is_text(last_quality, MAX_TEXT_CHARS):
        raise ValueError(f"'last_quality' must be a string of at most {MAX_TEXT_CHARS} characters")
    errors = d.get("errors") or {}
    if not isinstance(errors, dict) or len(errors) > MAX_KEYS:
        raise ValueError(f"'errors' must be an object of at most {MAX_KEYS} counts")
    for k, v in errors.items():
        if not is_text(k, MAX_ID_CHARS) or not is_int(v):
            raise ValueError("'errors' must map names to non-negative integer counts")
    return DeviceHealth(
        device=device,
        gateway=gateway,
        online=online,
        last_seen_ms=last_seen,
        updated_ms=ts,
        last_quality=last_quality,
        errors=dict(errors),
    )


def parse_health(payload: bytes) -> HealthDocument:
    """Decode a health document within the limits of :mod:`readings.wire_limits`: raise
    :class:`HealthError` when its header is unusable; otherwise each device record is kept or
    listed in ``problems`` on its own."""
    try:
        doc: Any = load_json(payload)
    except WireLimitError as exc:
        raise HealthError(str(exc)) from None
    if not isinstance(doc, dict) or doc.get("schema") != HEALTH_SCHEMA or isinstance(doc.get("schema"), bool):
        raise HealthError("not a health document of schema 1")
    gateway, ts = doc.get("gateway"), doc.get("ts")
    if not is_text(gateway) or not is_int(ts, minimum=-MAX_INT):
        raise HealthError("'gateway' must be a string and 'ts' integer milliseconds")
    records = doc.get("devices")
    if records is None:
        records = []
    if not isinstance(records, list) or len(records) > MAX_ITEMS:
        raise HealthError(f"'devices' must be a list of at most {MAX_ITEMS} records")
    devices: list[DeviceHealth] = []
    problems: list[HealthProblem] = []
    indexes: list[int] = []
    for i, d in enumerate(records):
        try:
            devices.append(_device(gateway, ts, d))
            indexes.append(i)
        except ValueError as exc:
            problems.append(HealthProblem(i, f"devices[{i}]: {exc}", d))
    buffer, buffer_problem = None, None
    if doc.get("buffer") is not None:
        try:
            buffer = _buffer(doc["buffer"])
        except ValueError as exc:
            buffer_problem = str(exc)
    return HealthDocument(gateway, ts, devices, problems, indexes, buffer, buffer_problem)


def decode_health(payload: bytes) -> list[DeviceHealth]:
    """Strict decode: every device record must be usable, else :class:`HealthError`."""
    doc = parse_health(payload)
    if doc.problems:
        raise HealthError(doc.problems[0].detail)
    return doc.devices
