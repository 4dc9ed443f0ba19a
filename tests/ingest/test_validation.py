"""The validator (pure): each rule with its reason, and the fast path agreeing with the full one."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ville_autonome.configuration.services import IngestSettings
from ville_autonome.ingest.catalog import DeviceCatalog
from ville_autonome.ingest.sequence_tracker import SeenSequences
from ville_autonome.ingest.validation import Validator
from ville_autonome.readings.columns import ReadingColumns
from ville_autonome.readings.envelope import RawReading, parse_reading
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.readings.quantities import QUANTITIES

NOW = 1_763_762_400_000
DEVICES = {"m1": DeviceContext("d", "s", "m1", "grid", ""), "pv1": DeviceContext("d", "s", "pv1", "production", "pv")}
V = Validator(DeviceCatalog.open(DEVICES), IngestSettings(max_future_s=300, max_past_days=10))


def env(readings: list[Any], gateway: str = "gw-a") -> bytes:
    return json.dumps({"schema": 1, "gateway": gateway, "seq": 5, "sent_ms": NOW, "readings": readings}).encode()


def one(reading: Any) -> tuple[list[StoredReading], list[str]]:
    v = V.check("gw-a", env([reading]), NOW)
    return v.points, [r.reason for r in v.rejections]


GOOD = {"device": "pv1", "quantity": "active_power_w", "ts": NOW, "value": 12.5, "quality": "good"}


def test_a_good_reading_takes_its_tags_from_the_configuration() -> None:
    points, reasons = one(GOOD)
    assert reasons == []
    assert points == [StoredReading(DEVICES["pv1"], "active_power_w", NOW, 12.5, Quality.GOOD)]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"device": "nobody"}, "unknown_device"),
        ({"quantity": "horsepower"}, "unknown_quantity"),
        ({"unit": "kW"}, "unit_mismatch"),
        ({"ts": NOW + 301_000}, "future_timestamp"),
        ({"ts": NOW - 11 * 86_400_000}, "past_timestamp"),
        ({"value": "1"}, "bad_reading"),
        ({"value": None}, "bad_reading"),
        ({"quality": "great"}, "bad_reading"),
        ({"ts": 1.0}, "bad_reading"),
        ({"device": ["m1"]}, "bad_reading"),
        ({"quality": ["good"]}, "bad_reading"),
        ({"quantity": {"x": 1}}, "bad_reading"),
        ({"device": "m" * 65}, "bad_reading"),
        ({"value": 10**400}, "not_an_envelope"),  # an integer beyond 19 digits: beyond the decoding limit
        ({"value": 1e308 * 10}, "bad_reading"),
        ({"quantity": "soc_pct", "value": 100.5}, "out_of_range"),
    ],
)
def test_each_rule_has_its_reason(change: dict[str, Any], reason: str) -> None:
    assert one({**GOOD, **change}) == ([], [reason])


def test_matching_unit_integer_value_and_non_good_without_value_are_accepted() -> None:
    assert one({**GOOD, "unit": "W"})[1] == []
    assert one({**GOOD, "value": 3})[0][0].value == 3.0
    assert one({**GOOD, "value": None, "quality": "timeout"})[0][0].value is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{", "not_an_envelope"),
        (env([GOOD], gateway="gw-b"), "gateway_mismatch"),
        (env([GOOD], gateway="GW A"), "bad_gateway_id"),
        (b" " * 1_000_001, "oversize"),
    ],
)
def test_whole_envelope_rejections(payload: bytes, reason: str) -> None:
    v = V.check("gw-a", payload, NOW)
    assert (v.points, [r.reason for r in v.rejections], v.gateway) == ([], [reason], None)


def _oracle(fields: dict[str, Any]) -> StoredReading | None:
    """The rules written plainly, independent of the validator's fast path."""
    try:
        r = parse_reading(RawReading(0, fields))
    except ValueError:
        return None
    q = QUANTITIES.get(r.quantity)
    if r.device not in DEVICES or q is None:
        return None
    if "unit" in fields and fields["unit"] != q.unit:
        return None
    if not NOW - 10 * 86_400_000 <= r.ts_ms <= NOW + 300_000:
        return None
    if r.is_good and not q.minimum <= r.value <= q.maximum:  # type: ignore[operator]
        return None
    return StoredReading(DEVICES[r.device], r.quantity, r.ts_ms, r.value, r.quality)


values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True), st.text(max_size=3)
)
readings = st.fixed_dictionaries(
    {},
    optional={
        "device": st.sampled_from(["m1", "pv1", "x", ""]) | values,
        "quantity": st.sampled_from(["active_power_w", "soc_pct", "nope"]) | values,
        "ts": st.sampled_from([NOW, NOW + 10**6, NOW - 10**11]) | values,
        "value": values,
        "quality": st.sampled_from([str(q) for q in Quality] + ["bad"]) | values,
        "unit": st.sampled_from(["W", "%", "kW"]) | values,
        "extra": values,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.lists(readings | st.just(GOOD), min_size=1, max_size=3))
def test_fast_paths_agree_with_the_rules(batch: list[dict[str, Any]]) -> None:
    """Whichever path an envelope takes (typed decoding when every reading is well formed, the
    per-reading path otherwise), each reading gets the verdict of the plainly written rules."""
    v = V.check("gw-a", json.dumps({"schema": 1, "gateway": "gw-a", "seq": 1, "readings": batch}).encode(), NOW)
    expected = {i: _oracle(json.loads(json.dumps(fields))) for i, fields in enumerate(batch)}
    assert [r.index for r in v.rejections] == [i for i, e in expected.items() if e is None]
    assert v.indexes == [i for i, e in expected.items() if e is not None]
    for got, i in zip(v.points, v.indexes, strict=True):
        want = expected[i]
        assert want is not None
        assert got == want or (got.value is not None and math.isnan(got.value))


def test_seen_sequences_detects_duplicates_and_merges_ranges() -> None:
    seen = SeenSequences(max_ranges=3)
    assert [seen.add("g", s) for s in (1, 2, 3, 2, 5, 4, 5)] == [True, True, True, False, True, True, False]
    assert seen.ranges("g") == [(1, 5)]
    for s in (10, 20, 30, 40):
        seen.add("g", s)
    assert len(seen.ranges("g")) == 3  # bounded: the oldest ranges are forgotten


def test_a_well_formed_envelope_is_held_in_columns() -> None:
    """The fast path keeps no reading object per reading (docs/ingest.md, "Performance"): its points are
    columns whose series are shared by every reading of a device's quantity."""
    v = V.check("gw-a", json.dumps({"schema": 1, "gateway": "gw-a", "seq": 1, "readings": [GOOD, GOOD]}).encode(), NOW)
    assert isinstance(v.points, ReadingColumns)
    assert v.points.series[0] is v.points.series[1]
    assert list(v.points) == [_oracle(GOOD), _oracle(GOOD)]
