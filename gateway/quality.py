"""From decoded register values to readings with their quality. Pure: no I/O, no clock.

Quality rules (``readings.model.Quality``), in the order they are applied:

1. the read failed: ``timeout`` (no answer) or ``exception`` (a Modbus exception response);
2. the words do not decode: ``decode_error`` (NaN, bad scale factor) or ``not_implemented``
   (the datatype's SunSpec marker);
3. the value lies outside the quantity's physical range (``readings.quantities``):
   ``out_of_range`` — the value is kept so an operator can see it;
4. a gauge that has not changed for ``stuck_after_s`` (when configured for the device):
   ``stuck`` — again with its value. Zero is exempt: a stopped machine legitimately reads 0.

Counters that go backwards are reported as ``good`` (the device did reset or wrap; the central
side's energy computation handles it) and counted as ``counter_reset`` in the device's health.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ville_autonome.readings.model import Quality, Reading
from ville_autonome.readings.quantities import QUANTITIES, Kind
from ville_autonome.registers.codec import DecodedValue, DecodeReason, decode
from ville_autonome.registers.profile import Point

_REASON_QUALITY = {
    DecodeReason.NOT_IMPLEMENTED: Quality.NOT_IMPLEMENTED,
    DecodeReason.DECODE_ERROR: Quality.DECODE_ERROR,
}


def decode_point(point: Point, words: list[int] | tuple[int, ...], factors: Mapping[str, DecodedValue]) -> DecodedValue:
    """Decode one point, applying its scale-factor point's value from ``factors``."""
    sf: int | None = None
    if point.scale_factor is not None:
        factor = factors.get(point.scale_factor)
        if factor is None or factor.value is None:
            reason = factor.reason if factor is not None and factor.reason else DecodeReason.DECODE_ERROR
            return DecodedValue(None, reason, detail=f"scale factor {point.scale_factor} unusable")
        assert isinstance(factor.value, float)
        sf = int(factor.value)
    return decode(
        words,
        point.datatype,
        word_order=point.word_order,
        byte_order=point.byte_order,
        scale=point.scale,
        scale_factor=sf,
        markers=point.markers,
    )


@dataclass
class ValueTracker:
    """Per-device memory needed for the stuck and counter-reset rules."""

    stuck_after_ms: int | None = None
    _since: dict[str, tuple[float, int]] = field(default_factory=dict)  # quantity -> (value, first ts)
    _counters: dict[str, float] = field(default_factory=dict)
    counter_resets: int = 0

    def assess(self, device: str, quantity: str, ts_ms: int, decoded: DecodedValue) -> Reading:
        """The reading for one decoded value of ``quantity`` measured at ``ts_ms``."""
        if decoded.reason is not None or decoded.value is None or isinstance(decoded.value, str):
            reason = decoded.reason or DecodeReason.DECODE_ERROR
            return Reading(device, quantity, ts_ms, None, _REASON_QUALITY[reason])
        return self.assess_value(device, quantity, ts_ms, float(decoded.value))

    def assess_value(self, device: str, quantity: str, ts_ms: int, value: float) -> Reading:
        """The reading for a value of ``quantity`` that decoded (rules 3 and 4)."""
        q = QUANTITIES[quantity]
        quality = Quality.GOOD if q.minimum <= value <= q.maximum else Quality.OUT_OF_RANGE
        kind = q.kind
        if kind is Kind.COUNTER:
            previous = self._counters.get(quantity)
            if previous is not None and value < previous:
                self.counter_resets += 1
            self._counters[quantity] = value
        elif kind is Kind.GAUGE and self.stuck_after_ms is not None and quality is Quality.GOOD:
            since = self._since.get(quantity)
            if since is None or since[0] != value:
                self._since[quantity] = (value, ts_ms)
            elif value != 0.0 and ts_ms - since[1] >= self.stuck_after_ms:
                quality = Quality.STUCK
        return Reading(device, quantity, ts_ms, value, quality)


def failed_readings(device: str, quantities: list[str], ts_ms: int, quality: Quality) -> list[Reading]:
    """Readings without a value for every quantity of a failed request."""
    return [Reading(device, q, ts_ms, None, quality) for q in quantities]
