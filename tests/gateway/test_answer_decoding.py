"""A poll's answers to readings (gateway.answer_decoding): the plan made once gives, poll after
poll, what decoding every point with the codec gives; failed requests and unusable scale factors
are named."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.gateway.modbus_devices import BASE, METER_VALUES, meter_image
from ville_autonome.gateway.answer_decoding import Answer, AnswerDecoder
from ville_autonome.gateway.planning import ReadRequest, plan_reads
from ville_autonome.gateway.quality import ValueTracker, decode_point
from ville_autonome.readings.model import Quality
from ville_autonome.registers.profile import load_profile

PROFILE = load_profile("sunspec-meter-203")
ROLE = "grid"
TS = 1_764_640_000_000


def _answers(requests: list[ReadRequest], image: list[int]) -> list[Answer]:
    return [(image[r.address - BASE : r.address - BASE + r.count], None) for r in requests]


@pytest.mark.parametrize("max_count", [125, 10])  # one request, or scale factors in other requests
def test_the_readings_are_the_codecs_point_by_point(max_count: int) -> None:
    requests = plan_reads(PROFILE.needed(ROLE), max_gap=PROFILE.max_gap, max_count=max_count)
    image = meter_image()
    readings = AnswerDecoder(requests, ROLE).readings("m1", _answers(requests, image), TS, ValueTracker())

    words = {p.name: image[p.address - BASE : p.end - BASE] for p in PROFILE.needed(ROLE)}
    factors = {name: decode_point(PROFILE.point(name), w, {}) for name, w in words.items()}
    expected = {
        q: decode_point(p, words[p.name], factors).value for p in PROFILE.measured(ROLE) if (q := p.quantity_for(ROLE))
    }
    assert {r.quantity: r.value for r in readings} == expected
    assert all(r.quality is Quality.GOOD and r.device == "m1" and r.ts_ms == TS for r in readings)
    assert {r.quantity: r.value for r in readings}["active_power_w"] == METER_VALUES["W"]


SPECIAL = st.sampled_from([0, 0xFFFF, 0x8000, 0x7FFF, 0x7FC0, 0xFFF6, 0x000A, 0x000B])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_on_any_words_the_readings_are_those_of_the_codec_and_the_quality_rules(data: st.DataObject) -> None:
    requests = plan_reads(
        PROFILE.needed(ROLE), max_gap=PROFILE.max_gap, max_count=data.draw(st.sampled_from([125, 10]))
    )
    image = meter_image()
    words = data.draw(st.lists(st.one_of(st.integers(0, 0xFFFF), SPECIAL), min_size=len(image), max_size=len(image)))
    readings = AnswerDecoder(requests, ROLE).readings("m1", _answers(requests, words), TS, ValueTracker())

    of = {p.name: words[p.address - BASE : p.end - BASE] for p in PROFILE.needed(ROLE)}
    factors = {name: decode_point(PROFILE.point(name), w, {}) for name, w in of.items()}
    reference = ValueTracker()
    expected = [
        reference.assess("m1", q, TS, decode_point(p, of[p.name], factors))
        for req in requests
        for p in req.points
        if (q := p.quantity_for(ROLE))
    ]
    assert readings == expected


def test_a_failed_request_gives_its_points_without_value_and_costs_no_other() -> None:
    requests = plan_reads(PROFILE.needed(ROLE), max_gap=PROFILE.max_gap, max_count=10)
    assert len(requests) > 2
    answers = _answers(requests, meter_image())
    failed = next(i for i, r in enumerate(requests) if not any(p.datatype == "sunssf" for p in r.points))
    answers[failed] = (None, Quality.EXCEPTION)
    readings = AnswerDecoder(requests, ROLE).readings("m1", answers, TS, ValueTracker())

    lost = {q for p in requests[failed].points if (q := p.quantity_for(ROLE))}
    assert lost
    assert {r.quantity for r in readings if r.quality is Quality.EXCEPTION and r.value is None} == lost
    assert all(r.quality is Quality.GOOD for r in readings if r.quantity not in lost)


def test_a_value_whose_scale_factor_request_failed_is_a_decode_error() -> None:
    requests = plan_reads(PROFILE.needed(ROLE), max_gap=PROFILE.max_gap, max_count=10)
    holder = next(i for i, r in enumerate(requests) if any(p.name == "V_SF" for p in r.points))
    voltage = PROFILE.point("PhVphA")
    assert voltage.scale_factor == "V_SF"
    assert not any(p.name == "PhVphA" for p in requests[holder].points)  # read by another request
    answers = _answers(requests, meter_image())
    answers[holder] = (None, Quality.TIMEOUT)
    readings = {r.quantity: r for r in AnswerDecoder(requests, ROLE).readings("m1", answers, TS, ValueTracker())}

    reading = readings[str(voltage.quantity_for(ROLE))]
    assert (reading.value, reading.quality) == (None, Quality.DECODE_ERROR)


def test_answers_that_do_not_match_the_requests_are_refused() -> None:
    requests = plan_reads(PROFILE.needed(ROLE), max_gap=PROFILE.max_gap)
    with pytest.raises(ValueError, match="answers for"):
        AnswerDecoder(requests, ROLE).readings("m1", [], TS, ValueTracker())
