"""Quality rules and MQTT payload mapping (pure)."""

from __future__ import annotations

import pytest

from ville_autonome.gateway.quality import ValueTracker, decode_point
from ville_autonome.readings.model import Quality
from ville_autonome.registers.codec import DecodedValue, DecodeReason, decode, encode
from ville_autonome.registers.profile import load_profile


def good(value: float) -> DecodedValue:
    return DecodedValue(value, raw=value)


@pytest.mark.parametrize(
    ("quantity", "value", "quality"),
    [
        ("voltage_l1_v", 230.0, Quality.GOOD),
        ("voltage_l1_v", -76.0, Quality.OUT_OF_RANGE),
        ("soc_pct", 101.0, Quality.OUT_OF_RANGE),
        ("frequency_hz", 0.0, Quality.OUT_OF_RANGE),
        ("active_power_w", -5000.0, Quality.GOOD),  # export is negative, within range
        ("power_factor", 1.2, Quality.OUT_OF_RANGE),
    ],
)
def test_range(quantity: str, value: float, quality: Quality) -> None:
    reading = ValueTracker().assess("d", quantity, 0, good(value))
    assert reading.quality is quality
    assert reading.value == value  # the suspect value is kept


def test_decode_failures_carry_no_value() -> None:
    tracker = ValueTracker()
    ni = tracker.assess("d", "active_power_w", 0, DecodedValue(None, DecodeReason.NOT_IMPLEMENTED))
    bad = tracker.assess("d", "active_power_w", 0, DecodedValue(None, DecodeReason.DECODE_ERROR))
    assert (ni.quality, ni.value) == (Quality.NOT_IMPLEMENTED, None)
    assert (bad.quality, bad.value) == (Quality.DECODE_ERROR, None)


def test_stuck_after_window_but_not_zero() -> None:
    tracker = ValueTracker(stuck_after_ms=10_000)
    qualities = [tracker.assess("d", "active_power_w", t, good(500.0)).quality for t in (0, 5_000, 10_000, 11_000)]
    assert qualities == [Quality.GOOD, Quality.GOOD, Quality.STUCK, Quality.STUCK]
    assert tracker.assess("d", "active_power_w", 12_000, good(501.0)).quality is Quality.GOOD
    zeros = [tracker.assess("d", "active_power_l1_w", t, good(0.0)).quality for t in (0, 20_000)]
    assert zeros == [Quality.GOOD, Quality.GOOD]


def test_counters_are_never_stuck_and_resets_are_counted() -> None:
    tracker = ValueTracker(stuck_after_ms=1)
    values = [100.0, 100.0, 150.0, 3.0, 10.0]
    readings = [tracker.assess("d", "energy_import_wh", i * 1000, good(v)) for i, v in enumerate(values)]
    assert all(r.quality is Quality.GOOD for r in readings)
    assert tracker.counter_resets == 1


def test_decode_point_uses_its_scale_factor() -> None:
    meter = load_profile("sunspec-meter-203")
    w = meter.point("W")
    factors = {"W_SF": decode(encode(1, "sunssf"), "sunssf")}
    assert decode_point(w, encode(723, "int16"), factors).value == 7230.0
    missing = decode_point(w, encode(723, "int16"), {"W_SF": decode([0x8000], "sunssf")})
    assert missing.reason is DecodeReason.NOT_IMPLEMENTED
