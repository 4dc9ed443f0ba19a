"""MQTT device shapes: JSON paths, plain numbers, several topics per device, the device's own clock
(bounded), and the presets of the three families as their devices publish."""

from __future__ import annotations

import pytest

from ville_autonome.configuration.mqtt_mapping import MqttField, MqttTopic
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.gateway.errors import PayloadError
from ville_autonome.gateway.mqtt_source import MqttInputs, readings_from_payload
from ville_autonome.gateway.quality import ValueTracker
from ville_autonome.readings.model import Quality
from ville_autonome.simulators.mqtt_devices import build_payloads

T0 = 1_767_225_600_000  # 2026-01-01T00:00Z
JSON_TOPIC = MqttTopic(
    topic="plug/status",
    fields=[
        MqttField(path="emeters.0.power", quantity="active_power_w"),
        MqttField(path="emeters.0.total", quantity="energy_import_wh", scale=1000.0),
        MqttField(path="temp", quantity="temperature_c"),
    ],
    timestamp="unixtime",
)


def _decode(topic: MqttTopic, payload: bytes, received: int = T0, skew_ms: int = 30_000):  # type: ignore[no-untyped-def]
    return readings_from_payload("plug", topic, payload, received, ValueTracker(), skew_ms)


def test_json_paths_map_to_quantities_at_the_device_time() -> None:
    payload = b'{"unixtime": 1767225590, "emeters": [{"power": 1500.5, "total": 12.5}], "temp": 21}'
    decoded = _decode(JSON_TOPIC, payload)
    assert [(r.quantity, r.value, r.quality, r.ts_ms) for r in decoded.readings] == [
        ("active_power_w", 1500.5, Quality.GOOD, T0 - 10_000),
        ("energy_import_wh", 12500.0, Quality.GOOD, T0 - 10_000),
        ("temperature_c", 21.0, Quality.GOOD, T0 - 10_000),
    ]
    assert not decoded.clock_skewed


@pytest.mark.parametrize("offset_s", [31, -31, -3600, 86_400])
def test_a_device_clock_beyond_the_bound_is_not_used(offset_s: int) -> None:
    payload = b'{"unixtime": %d, "emeters": [{"power": 1, "total": 1}], "temp": 21}' % (T0 // 1000 + offset_s)
    decoded = _decode(JSON_TOPIC, payload)
    assert {r.ts_ms for r in decoded.readings} == {T0}  # the reception time
    assert decoded.clock_skewed


def test_missing_or_bad_fields_are_flagged_not_dropped() -> None:
    decoded = _decode(JSON_TOPIC, b'{"emeters": [{"power": "n/a"}], "temp": 900}', received=42)
    assert [(r.quantity, r.quality) for r in decoded.readings] == [
        ("active_power_w", Quality.DECODE_ERROR),
        ("energy_import_wh", Quality.DECODE_ERROR),
        ("temperature_c", Quality.OUT_OF_RANGE),
    ]
    assert all(r.ts_ms == 42 for r in decoded.readings)  # no device time: reception time


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b"\xff\xfe", b"12.5"])
def test_an_unusable_json_payload_is_refused(payload: bytes) -> None:
    with pytest.raises(PayloadError, match="plug"):
        _decode(JSON_TOPIC, payload)


def test_plain_number_payloads() -> None:
    topic = MqttTopic(topic="shellies/x/emeter/0/power", fields=[MqttField(path="", quantity="active_power_w")])
    assert [r.value for r in _decode(topic, b"231.47").readings] == [231.47]
    with pytest.raises(PayloadError, match="not a number"):
        _decode(topic, b"on")
    assert [r.quality for r in _decode(topic, b'"x"').readings] == [Quality.DECODE_ERROR]


@pytest.mark.parametrize(
    ("stamp", "used"),
    [("2026-01-01T00:59:50+01:00", True), ("2026-01-01T00:59:50", False), ("yesterday", False)],
)
def test_iso_times_need_their_offset(stamp: str, used: bool) -> None:
    topic = MqttTopic(
        topic="tele/p/SENSOR",
        fields=[MqttField(path="ENERGY.Power", quantity="active_power_w")],
        timestamp="Time",
        timestamp_format="iso",
    )
    payload = b'{"Time": "%s", "ENERGY": {"Power": 12}}' % stamp.encode()
    (reading,) = _decode(topic, payload).readings
    assert reading.ts_ms == (T0 - 10_000 if used else T0)


def _device(preset: str, role: str, topic: str, source: str | None = None) -> DeviceConfig:
    return DeviceConfig(id="d", role=role, source=source, protocol="mqtt", preset=preset, topic=topic)  # type: ignore[arg-type]


def test_presets_expand_to_the_families_topics() -> None:
    pro = _device("shelly-pro-3em", "grid", "shellies/meter")
    assert [t.topic for t in pro.mqtt_topics()] == ["shellies/meter/status/em:0", "shellies/meter/status/emdata:0"]
    gen1 = _device("shelly-gen1-em", "consumption", "shellies/load")
    assert [(t.topic, t.fields[0].quantity) for t in gen1.mqtt_topics()] == [
        ("shellies/load/emeter/0/power", "active_power_w"),
        ("shellies/load/emeter/0/voltage", "voltage_l1_v"),
        ("shellies/load/emeter/0/total", "energy_consumed_wh"),  # the import counter of a load
    ]
    plug = _device("tasmota", "production", "pv-plug", source="pv")
    (sensor,) = plug.mqtt_topics()
    assert sensor.topic == "tele/pv-plug/SENSOR"
    assert ("ENERGY.Total", "energy_produced_wh", 1000.0) in [(f.path, f.quantity, f.scale) for f in sensor.fields]


@pytest.mark.parametrize(
    ("preset", "role", "source"),
    [("shelly-pro-3em", "grid", None), ("shelly-gen1-em", "consumption", None), ("tasmota", "production", "pv")],
)
def test_simulated_payloads_read_back_through_the_preset(preset: str, role: str, source: str | None) -> None:
    dev = _device(preset, role, "dev", source)
    values = {
        "active_power_w": 1234.5,
        "active_power_l1_w": 400.0,
        "voltage_l1_v": 231.0,
        "current_l1_a": 1.8,
        "energy_import_wh": 5_000_000.0,
        "energy_export_wh": 20_000.0,
        "energy_consumed_wh": 700_000.0,
        "energy_produced_wh": 90_000.0,
    }
    inputs = MqttInputs([dev])
    got: dict[str, float] = {}
    for topic, payload in build_payloads(dev, values, T0):
        found = inputs.decode(topic, payload, T0)
        assert found is not None
        got.update({r.quantity: r.value for r in found[1].readings if r.value is not None})
    for quantity, value in got.items():
        if quantity in values:
            assert value == pytest.approx(values[quantity], rel=1e-3), quantity
    assert "active_power_w" in got
    assert any(q.startswith("energy_") for q in got)
