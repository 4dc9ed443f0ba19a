"""Validation of uplink envelopes, reading by reading (pure: configuration in, verdicts out).

An envelope whose header is unusable (not JSON, beyond a decoding limit, wrong schema version,
oversize, gateway id not a slug or not the topic's) is rejected whole; otherwise each reading is
checked on its own and the valid rest goes on. Every rejection carries a short ``reason`` code
(counted and sent to the dead letter topic) and a ``detail`` line for people.

Checks per reading: shape, types and sizes (:func:`readings.envelope.parse_reading`: strings,
integer ms, finite numbers, known quality), a device the configuration places behind the
publishing gateway (:class:`ingest.catalog.DeviceCatalog`: its district/site/role/source become
the stored tags), known quantity, unit (when the reading states one) equal to the quantity's SI
unit, timestamp not later than ``max_future_s`` after now nor older than ``max_past_days``, a good
value inside the device's physical range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ville_autonome.configuration.services import IngestSettings
from ville_autonome.ingest.catalog import DeviceCatalog
from ville_autonome.readings.columns import ReadingColumns, Series
from ville_autonome.readings.envelope import (
    MAX_ENVELOPE_BYTES,
    MAX_READINGS,
    SCHEMA_VERSION,
    DecodedEnvelope,
    EnvelopeError,
    WireEnvelope,
    decode_header,
    decode_wire,
    parse_reading,
    raw_reading,
)
from ville_autonome.readings.model import DeviceContext, Quality, Reading, StoredReading
from ville_autonome.readings.quantities import QUANTITIES
from ville_autonome.readings.topics import is_valid_id
from ville_autonome.readings.wire_limits import MAX_INT

# reason codes (docs/ingest.md)
NOT_AN_ENVELOPE = "not_an_envelope"
OVERSIZE = "oversize"
BAD_GATEWAY_ID = "bad_gateway_id"
GATEWAY_MISMATCH = "gateway_mismatch"
BAD_READING = "bad_reading"
UNKNOWN_DEVICE = "unknown_device"
FOREIGN_DEVICE = "foreign_device"
OUT_OF_RANGE = "out_of_range"
UNKNOWN_QUANTITY = "unknown_quantity"
UNIT_MISMATCH = "unit_mismatch"
FUTURE_TIMESTAMP = "future_timestamp"
PAST_TIMESTAMP = "past_timestamp"
STORE_REFUSED = "store_refused"
STORE_REJECTED = "store_rejected"
SEQ_CONFLICT = "seq_conflict"
UNDECODABLE = "undecodable"

_QUALITY = {str(q): q for q in Quality}


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    detail: str
    index: int | None = None  # the reading's index in the envelope; None for the whole envelope
    reading: object = None  # the raw reading as received (for the dead letter)


@dataclass(slots=True)
class Verdict:
    """What one uplink message holds: gateway/seq when the header was readable, valid points and
    rejections."""

    gateway: str | None
    seq: int | None
    epoch: int = 0
    # the valid readings: a list on the per-reading path, columns on the fast one (ReadingColumns)
    points: Sequence[StoredReading] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # each point's index in the envelope
    rejections: list[Rejection] = field(default_factory=list)


class Validator:
    def __init__(self, catalog: DeviceCatalog, settings: IngestSettings) -> None:
        self.catalog = catalog
        self.devices = catalog.devices
        self.max_future_ms = int(settings.max_future_s * 1000)
        self.max_past_ms = int(settings.max_past_days * 86_400_000)
        self.max_bytes = MAX_ENVELOPE_BYTES
        # gateway → device → quantity → (its series, lowest and highest plausible value)
        self._by_gateway: dict[str, dict[str, dict[str, tuple[Series, float, float]]]] = {}

    def check(self, topic_gateway: str, payload: bytes, now_ms: int) -> Verdict:
        if len(payload) > self.max_bytes:
            return _whole(None, None, OVERSIZE, f"payload of {len(payload)} bytes exceeds {self.max_bytes}")
        wire = decode_wire(payload)
        if wire is not None:
            fast = self._check_wire(topic_gateway, wire, now_ms)
            if fast is not None:
                return fast
        try:
            env = decode_header(payload, max_bytes=self.max_bytes)
        except EnvelopeError as exc:
            return _whole(None, None, NOT_AN_ENVELOPE, str(exc))
        bad_header = _header_problem(topic_gateway, env)
        if bad_header is not None:
            return bad_header
        return self._check_readings(env, now_ms)

    def _check_readings(self, env: DecodedEnvelope, now_ms: int) -> Verdict:
        """The verdict on each reading of an envelope whose header passed: its point or its rejection."""
        points: list[StoredReading] = []
        verdict = Verdict(env.gateway, env.seq, env.epoch, points)
        devices, indexes = self.catalog.allowed(env.gateway), verdict.indexes
        limits = self.catalog.limits
        lo, hi = now_ms - self.max_past_ms, now_ms + self.max_future_ms
        new_point = StoredReading
        for index, f in enumerate(env.items):
            # fast path for the common, well-formed reading: the same checks as _check_reading,
            # without building intermediate objects; anything unusual takes the full path for its reason
            if type(f) is dict:
                device, ts, value, qty, q = (
                    f.get("device"),
                    f.get("ts"),
                    f.get("value"),
                    f.get("quantity"),
                    f.get("quality"),
                )
                ctx = devices.get(device) if type(device) is str else None
                quality = (
                    _QUALITY.get(q) if type(q) is str else (Quality.GOOD if q is None and "quality" not in f else None)
                )
                if (
                    ctx is not None
                    and type(qty) is str
                    and type(ts) is int
                    and lo <= ts <= hi
                    and type(value) is float
                    and math.isfinite(value)
                    and quality is not None
                    and qty in QUANTITIES
                    and "unit" not in f
                    and len(f) <= 5
                    and (quality is not Quality.GOOD or _inside(limits[ctx.device][qty], value))
                ):
                    points.append(new_point(ctx, qty, ts, value, quality))
                    indexes.append(index)
                    continue
            self._check_reading(verdict, points, devices, index, f, now_ms)
        return verdict

    def _check_reading(
        self,
        verdict: Verdict,
        points: list[StoredReading],
        devices: Mapping[str, DeviceContext],
        index: int,
        f: Any,
        now_ms: int,
    ) -> None:
        """The full path for one reading: its point (in ``points``, the verdict's), or its rejection
        with the reason."""
        raw = raw_reading(index, f)
        try:
            reading = parse_reading(raw)
        except ValueError as exc:
            verdict.rejections.append(Rejection(BAD_READING, str(exc), raw.index, raw.fields))
            return
        problem = self._problem(raw.fields, devices, reading, now_ms)
        if problem:
            verdict.rejections.append(Rejection(problem[0], problem[1], raw.index, raw.fields))
            return
        points.append(
            StoredReading(devices[reading.device], reading.quantity, reading.ts_ms, reading.value, reading.quality)
        )
        verdict.indexes.append(raw.index)

    def _check_wire(self, topic_gateway: str, env: WireEnvelope, now_ms: int) -> Verdict | None:
        """The verdict on an envelope of well-formed readings when all of them pass, else ``None``
        (the full path then names each problem, with the readings as received)."""
        if (
            env.schema != SCHEMA_VERSION
            or not 0 <= env.seq <= MAX_INT
            or not 0 <= env.epoch <= MAX_INT
            or env.gateway != topic_gateway
            or not is_valid_id(env.gateway)
            or len(env.readings) > MAX_READINGS
        ):
            return None
        cols = ReadingColumns()
        verdict = Verdict(env.gateway, env.seq, env.epoch, cols)
        allowed, qualities = self._wire_devices(env.gateway), _QUALITY
        lo, hi = now_ms - self.max_past_ms, now_ms + self.max_future_ms
        good = Quality.GOOD
        series, times, values, kinds = cols.series.append, cols.ts.append, cols.values.append, cols.qualities.append
        for r in env.readings:
            known = allowed.get(r.device)
            if known is None:
                return None
            entry = known.get(r.quantity)  # None: not a standard quantity
            value, ts = r.value, r.ts
            if entry is None or r.unit is not None or not lo <= ts <= hi:
                return None
            if r.quality == "good":
                # a good value: finite and inside the device's physical range
                if value is None or value - value != 0.0 or not entry[1] <= value <= entry[2]:
                    return None
                quality = good
            else:
                named = qualities.get(r.quality)
                if named is None or (value is not None and value - value != 0.0):
                    return None
                quality = named
            series(entry[0])
            times(ts)
            values(value)
            kinds(quality)
        verdict.indexes.extend(range(len(cols)))
        return verdict

    def _wire_devices(self, gateway: str) -> Mapping[str, Mapping[str, tuple[Series, float, float]]]:
        """The devices ``gateway`` may speak for, each quantity with its series (tags and quantity)
        and physical range (two lookups per reading on the fast path); cached per gateway, bounded
        like the catalog's."""
        found = self._by_gateway.get(gateway)
        if found is None:
            found = {
                d: {q: (Series(ctx, q), lo, hi) for q, (lo, hi) in self.catalog.limits[d].items()}
                for d, ctx in self.catalog.allowed(gateway).items()
            }
            if len(self._by_gateway) < 10_000:  # gateway ids come from topics: bound the cache
                self._by_gateway[gateway] = found
        return found

    def _problem(
        self, fields: dict[str, object], allowed: Mapping[str, DeviceContext], reading: Reading, now_ms: int
    ) -> tuple[str, str] | None:
        device, quantity, ts_ms = reading.device, reading.quantity, reading.ts_ms
        if device not in allowed:
            if device in self.devices:
                return FOREIGN_DEVICE, f"device {device!r} is not behind this gateway in the configuration"
            return UNKNOWN_DEVICE, f"device {device!r} is not in the configuration"
        q = QUANTITIES.get(quantity)
        if q is None:
            return UNKNOWN_QUANTITY, f"quantity {quantity!r} is not a standard quantity"
        unit = fields.get("unit")
        if unit is not None and unit != q.unit:
            return UNIT_MISMATCH, f"unit {str(unit)[:40]!r} does not match {quantity} [{q.unit}]"
        if ts_ms > now_ms + self.max_future_ms:
            return FUTURE_TIMESTAMP, f"timestamp {ts_ms} is {(ts_ms - now_ms) / 1000:.0f} s in the future"
        if ts_ms < now_ms - self.max_past_ms:
            return PAST_TIMESTAMP, f"timestamp {ts_ms} is older than the accepted past"
        if reading.quality is Quality.GOOD and reading.value is not None:
            lo, hi = self.catalog.limits[device][quantity]
            if not lo <= reading.value <= hi:
                return (
                    OUT_OF_RANGE,
                    f"{quantity} {reading.value:g} is outside {device}'s physical range [{lo:g}, {hi:g}]",
                )
        return None


def _inside(limits: tuple[float, float], value: float) -> bool:
    return limits[0] <= value <= limits[1]


def _header_problem(topic_gateway: str, env: DecodedEnvelope) -> Verdict | None:
    """The whole envelope's rejection when its gateway id is not a slug or not the topic's."""
    if not is_valid_id(env.gateway):
        return _whole(None, env.seq, BAD_GATEWAY_ID, f"gateway id {env.gateway[:80]!r} is not a slug")
    if env.gateway != topic_gateway:
        detail = f"envelope gateway {env.gateway!r} published on the topic of {topic_gateway!r}"
        return _whole(None, env.seq, GATEWAY_MISMATCH, detail)
    return None


def _whole(gateway: str | None, seq: int | None, reason: str, detail: str) -> Verdict:
    return Verdict(gateway, seq, rejections=[Rejection(reason, detail)])
