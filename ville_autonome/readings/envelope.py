"""The uplink envelope: a versioned JSON batch of readings from one gateway.

Wire format (docs/uplink.md)::

    {"schema": 1, "gateway": "gw-saint-leu", "seq": 42, "sent_ms": 1763762400000,
     "readings": [{"device": "sl-meter-1", "quantity": "active_power_w",
                   "ts": 1763762399000, "value": 1234.5, "quality": "good"}, ...]}

``seq`` is a per-gateway sequence number, strictly increasing by one per envelope, kept across
restarts; the central side uses it for acknowledgements and gap detection. ``epoch`` (optional,
default 0) names the boot of the gateway's buffer that sealed the envelope: a new random number at
every start, carried back in the acknowledgement, so that an acknowledgement of another boot never
frees an envelope (a power cut can roll the buffer back and reuse sequence numbers; docs/uplink.md).

Encoding and decoding here are pure; validation of individual readings (known device, unit,
plausible time) is the ingest's job, so that one bad reading never costs the rest of the batch.
Decoding stays within the explicit limits of :mod:`readings.wire_limits`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import msgspec

from ville_autonome.readings.model import Quality, Reading
from ville_autonome.readings.wire_limits import (
    MAX_ID_CHARS,
    MAX_INT,
    MAX_ITEMS,
    MAX_KEYS,
    MAX_PAYLOAD_BYTES,
    MAX_TEXT_CHARS,
    WireLimitError,
    excerpt,
    is_int,
    is_text,
    load_json,
)

SCHEMA_VERSION = 1
MAX_ENVELOPE_BYTES = MAX_PAYLOAD_BYTES
MAX_READINGS = MAX_ITEMS


class EnvelopeError(ValueError):
    """The payload is not a usable envelope at all (not JSON, wrong schema, no gateway/seq)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    gateway: str
    seq: int
    sent_ms: int
    readings: tuple[Reading, ...]
    schema: int = SCHEMA_VERSION
    epoch: int = 0


@dataclass(frozen=True, slots=True)
class RawReading:
    """A reading as found in a payload, before validation: any field may be wrong."""

    index: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DecodedEnvelope:
    """An envelope whose header is valid; its readings are still unvalidated JSON values, as
    decoded (``items``: normally dicts, but any JSON value may appear)."""

    gateway: str
    seq: int
    sent_ms: int
    schema: int
    items: list[Any]
    epoch: int = 0

    @property
    def readings(self) -> tuple[RawReading, ...]:
        """Every item as a :class:`RawReading` (the ingest builds one only for an item off its fast path)."""
        return tuple(raw_reading(i, r) for i, r in enumerate(self.items))


def raw_reading(index: int, item: Any) -> RawReading:
    """The reading at ``index`` of an envelope, whatever JSON value it is."""
    return RawReading(index, item if isinstance(item, dict) else {"_not_an_object": item})


class WireReading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A reading of the common, well-formed shape (types checked by the decoder, nothing else);
    strings and numbers only, hence left out of the garbage collector's tracking."""

    device: str
    quantity: str
    ts: int
    value: float | None = None
    quality: str = "good"
    unit: str | None = None


class WireEnvelope(msgspec.Struct):
    """An envelope whose every reading has the common shape; header values still unchecked."""

    schema: int
    gateway: str
    seq: int
    readings: list[WireReading]
    sent_ms: int = 0
    epoch: int = 0


_WIRE = msgspec.json.Decoder(WireEnvelope)


def decode_wire(payload: bytes) -> WireEnvelope | None:
    """The ingest's fast decoding: the envelope as typed structs when the payload is strict JSON
    and every reading has the expected fields and types (what a healthy gateway sends), else
    ``None``, and :func:`decode_header` then finds the reason, reading by reading. About five
    times faster than :func:`json.loads` (bench/bench_ingest.py)."""
    try:
        return _WIRE.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


class _OutReading(msgspec.Struct, gc=False):
    """A reading as :func:`encode` writes it (the wire's field names)."""

    device: str
    quantity: str
    ts: int
    value: float | None
    quality: str


_ENCODER = msgspec.json.Encoder()


def encode(envelope: Envelope) -> bytes:
    """Serialise an envelope to compact UTF-8 JSON. msgspec writes a non-finite value as
    ``null`` (JSON has no NaN) and is about 15 times faster than :func:`json.dumps` of dicts: a
    gateway seals a thousand devices' readings every second (bench/bench_gateway.py)."""
    doc: dict[str, Any] = {
        "schema": envelope.schema,
        "gateway": envelope.gateway,
        "seq": envelope.seq,
        "sent_ms": envelope.sent_ms,
    }
    if envelope.epoch:
        doc["epoch"] = envelope.epoch
    doc["readings"] = [_OutReading(r.device, r.quantity, r.ts_ms, r.value, r.quality) for r in envelope.readings]
    return _ENCODER.encode(doc)


def decode_header(payload: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> DecodedEnvelope:
    """Parse the envelope's header; raise :class:`EnvelopeError` naming what is wrong (a payload
    beyond a limit of :mod:`readings.wire_limits` included)."""
    try:
        doc = load_json(payload, max_bytes=max_bytes)
    except WireLimitError as exc:
        raise EnvelopeError(str(exc)) from None
    if not isinstance(doc, dict):
        raise EnvelopeError("not a JSON object")
    schema = doc.get("schema")
    if schema != SCHEMA_VERSION or isinstance(schema, bool):
        raise EnvelopeError(f"unsupported schema version {excerpt(schema, 40)} (expected {SCHEMA_VERSION})")
    gateway = doc.get("gateway")
    if not isinstance(gateway, str) or not gateway:
        raise EnvelopeError("missing or non-string 'gateway'")
    seq = doc.get("seq")
    if not is_int(seq):
        raise EnvelopeError(f"'seq' must be a non-negative integer below 2^63, got {excerpt(seq, 40)}")
    sent_ms = doc.get("sent_ms", 0)
    if not is_int(sent_ms, minimum=-MAX_INT):
        raise EnvelopeError(f"'sent_ms' must be an integer, got {excerpt(sent_ms, 40)}")
    epoch = doc.get("epoch", 0)
    if not is_int(epoch):
        raise EnvelopeError(f"'epoch' must be a non-negative integer below 2^63, got {excerpt(epoch, 40)}")
    raw = doc.get("readings")
    if not isinstance(raw, list):
        raise EnvelopeError("'readings' must be a list")
    if len(raw) > MAX_READINGS:
        raise EnvelopeError(f"{len(raw)} readings exceed the limit of {MAX_READINGS} per envelope")
    return DecodedEnvelope(gateway=gateway, seq=seq, sent_ms=sent_ms, schema=schema, items=raw, epoch=epoch)


def parse_reading(raw: RawReading) -> Reading:
    """Structural parse of one raw reading; raises ``ValueError`` naming the bad field.

    Checks shape, types and sizes only (strings of at most ``MAX_ID_CHARS``, integer ms, finite
    numbers, a known quality, at most ``MAX_KEYS`` fields); the ingest adds the checks that need
    configuration (known device, unit, plausible time, physical range).
    """
    f = raw.fields
    if "_not_an_object" in f:
        raise ValueError("reading is not a JSON object")
    if len(f) > MAX_KEYS:
        raise ValueError(f"reading has {len(f)} fields, more than {MAX_KEYS}")
    device, qty, ts = f.get("device"), f.get("quantity"), f.get("ts")
    if not is_text(device):
        raise ValueError(f"'device' must be a non-empty string of at most {MAX_ID_CHARS} characters")
    if not is_text(qty):
        raise ValueError(f"'quantity' must be a non-empty string of at most {MAX_ID_CHARS} characters")
    if not is_int(ts, minimum=-MAX_INT):
        raise ValueError(f"'ts' must be integer milliseconds, got {excerpt(ts, 40)}")
    q = f.get("quality", "good")
    if not is_text(q, MAX_TEXT_CHARS) or q not in _QUALITIES:
        raise ValueError(f"unknown quality {excerpt(q, 40)}")
    quality = _QUALITIES[q]
    unit = f.get("unit")
    if unit is not None and not is_text(unit, MAX_TEXT_CHARS):
        raise ValueError(f"'unit' must be a string of at most {MAX_TEXT_CHARS} characters")
    value = f.get("value")
    if value is not None:
        if type(value) is int:
            if not -MAX_INT <= value <= MAX_INT:
                raise ValueError("'value' is beyond the integer range")
            value = float(value)
        elif type(value) is not float:
            raise ValueError(f"'value' must be a number or null, got {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError("'value' is not finite")
    if value is None and quality is Quality.GOOD:
        raise ValueError("a good reading needs a value")
    return Reading(device=device, quantity=qty, ts_ms=ts, value=value, quality=quality)


_QUALITIES = {str(q): q for q in Quality}


def decode(payload: bytes) -> Envelope:
    """Strict decode of a whole envelope (every reading must parse); for tests and tools."""
    header = decode_header(payload)
    readings = tuple(parse_reading(r) for r in header.readings)
    return Envelope(
        gateway=header.gateway,
        seq=header.seq,
        sent_ms=header.sent_ms,
        readings=readings,
        schema=header.schema,
        epoch=header.epoch,
    )
