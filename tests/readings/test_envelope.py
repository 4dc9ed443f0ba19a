"""The uplink envelope: round trip, and every malformed header named."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ville_autonome.readings.ack import Ack, AckError, decode_ack, encode_ack
from ville_autonome.readings.envelope import (
    SCHEMA_VERSION,
    Envelope,
    EnvelopeError,
    RawReading,
    decode,
    decode_header,
    encode,
    parse_reading,
)
from ville_autonome.readings.health import DeviceHealth, HealthError, decode_health, encode_health
from ville_autonome.readings.model import Quality, Reading
from ville_autonome.readings.topics import Topics, is_valid_id

ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)
readings_st = st.builds(
    Reading,
    device=ids,
    quantity=st.sampled_from(["active_power_w", "energy_import_wh", "soc_pct"]),
    ts_ms=st.integers(min_value=0, max_value=4_102_444_800_000),
    value=st.floats(allow_nan=False, allow_infinity=False, width=64),
    quality=st.just(Quality.GOOD),
)


@given(gateway=ids, seq=st.integers(min_value=0, max_value=2**53), readings=st.lists(readings_st, max_size=20))
def test_encode_then_decode_gives_back_the_envelope(gateway: str, seq: int, readings: list[Reading]) -> None:
    env = Envelope(gateway=gateway, seq=seq, sent_ms=1_700_000_000_000, readings=tuple(readings))
    assert decode(encode(env)) == env


def test_a_reading_without_value_keeps_its_quality() -> None:
    r = Reading("m1", "active_power_w", 1, None, Quality.TIMEOUT)
    env = Envelope("gw", 1, 2, (r,))
    assert decode(encode(env)).readings == (r,)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_value_is_written_as_null_its_quality_kept(value: float) -> None:
    r = Reading("m1", "active_power_w", 1, value, Quality.DECODE_ERROR)
    payload = encode(Envelope("gw", 1, 2, (r,)))
    assert json.loads(payload)["readings"][0]["value"] is None
    assert decode(payload).readings == (Reading("m1", "active_power_w", 1, None, Quality.DECODE_ERROR),)


def test_the_envelope_is_compact_json_with_the_wire_field_names() -> None:
    env = Envelope("gw-é", 7, 2, (Reading("m1", "soc_pct", 1, 55.5, Quality.GOOD),), epoch=9)
    assert json.loads(encode(env)) == {
        "schema": SCHEMA_VERSION,
        "gateway": "gw-é",
        "seq": 7,
        "sent_ms": 2,
        "epoch": 9,
        "readings": [{"device": "m1", "quantity": "soc_pct", "ts": 1, "value": 55.5, "quality": "good"}],
    }
    assert b" " not in encode(env)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"schema": 2, "gateway": "g", "seq": 1, "readings": []}', "unsupported schema version 2"),
        (b'{"schema": true, "gateway": "g", "seq": 1, "readings": []}', "unsupported schema version True"),
        (b'{"schema": 1, "seq": 1, "readings": []}', "missing or non-string 'gateway'"),
        (b'{"schema": 1, "gateway": "g", "seq": -1, "readings": []}', "'seq' must be a non-negative integer"),
        (b'{"schema": 1, "gateway": "g", "seq": "1", "readings": []}', "'seq' must be a non-negative integer"),
        (b'{"schema": 1, "gateway": "g", "seq": 1, "sent_ms": 1.5, "readings": []}', "'sent_ms' must be an integer"),
        (b'{"schema": 1, "gateway": "g", "seq": 1, "readings": {}}', "'readings' must be a list"),
    ],
)
def test_a_bad_header_is_refused_with_its_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decode_header(payload)


def test_an_oversize_payload_is_refused_before_parsing() -> None:
    with pytest.raises(EnvelopeError, match="exceeds the limit of 10"):
        decode_header(b"x" * 11, max_bytes=10)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"_not_an_object": 3}, "reading is not a JSON object"),
        ({"quantity": "q", "ts": 1, "value": 1}, "'device' must be a non-empty string"),
        ({"device": "d", "ts": 1, "value": 1}, "'quantity' must be a non-empty string"),
        ({"device": "d", "quantity": "q", "ts": "2026", "value": 1}, "'ts' must be integer milliseconds"),
        ({"device": "d", "quantity": "q", "ts": 1, "value": "12"}, "'value' must be a number or null, got str"),
        ({"device": "d", "quantity": "q", "ts": 1, "value": True}, "'value' must be a number or null, got bool"),
        ({"device": "d", "quantity": "q", "ts": 1, "value": 1e400}, "'value' is not finite"),
        ({"device": "d", "quantity": "q", "ts": 1, "value": None}, "a good reading needs a value"),
        ({"device": "d", "quantity": "q", "ts": 1, "value": 1, "quality": "meh"}, "unknown quality 'meh'"),
    ],
)
def test_a_bad_reading_is_refused_with_its_reason(fields: dict, reason: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        parse_reading(RawReading(0, fields))


def test_bad_readings_do_not_spoil_the_header() -> None:
    payload = json.dumps(
        {"schema": SCHEMA_VERSION, "gateway": "g", "seq": 3, "readings": [{"device": "d"}, 7]}
    ).encode()
    header = decode_header(payload)
    assert (header.gateway, header.seq, len(header.readings)) == ("g", 3, 2)


def test_ack_round_trip_and_refusals() -> None:
    ack = Ack("gw-a", (1, 2, 5))
    assert decode_ack(encode_ack(ack)) == ack
    for bad in (b"nope", b'{"schema": 1, "gateway": "g", "seqs": [-1]}', b'{"schema": 9}'):
        with pytest.raises(AckError):
            decode_ack(bad)


def test_health_round_trip_and_refusals() -> None:
    devices = [DeviceHealth("m1", "gw", True, 10, 20, "good", {"timeout": 2})]
    assert decode_health(encode_health("gw", 20, devices)) == devices
    with pytest.raises(HealthError):
        decode_health(b'{"schema": 1, "gateway": "gw", "ts": 1, "devices": [{"online": true}]}')


def test_topics_carry_the_gateway_and_refuse_foreign_ones() -> None:
    t = Topics("va")
    assert t.uplink("gw-a") == "va/v1/uplink/gw-a"
    assert t.gateway_of("va/v1/uplink/gw-a") == "gw-a"
    assert t.gateway_of("other/v1/uplink/gw-a") is None
    assert t.shared_uplink_filter("ingest") == "$share/ingest/va/v1/uplink/+"
    assert is_valid_id("gw-a")
    assert not is_valid_id("GW A")
    assert not is_valid_id("a,b=c")
