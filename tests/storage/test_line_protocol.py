"""Line protocol and InfluxQL quoting: exact escaping, and nothing can start a new line or statement."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ville_autonome.influx_wire.influxql import quote_ident, quote_string
from ville_autonome.influx_wire.line_protocol import LineProtocolError, identifier_problem, line
from ville_autonome.influx_wire.rows import series_tags, stat_line
from ville_autonome.readings.model import DeviceContext
from ville_autonome.series.values import IntervalStat


def test_line_sorts_tags_omits_empty_ones_and_writes_floats() -> None:
    text = line("readings", {"site": "s", "device": "d", "source": ""}, {"value": 1, "quality": "good"}, 1000)
    assert text == 'readings,device=d,site=s value=1.0,quality="good" 1000'


@pytest.mark.parametrize(
    ("tag", "escaped"),
    [("a,b", "a\\,b"), ("a b", "a\\ b"), ("a=b", "a\\=b"), ('a"b', 'a"b'), ("a'b", "a'b"), ("a\\b", "a\\b")],
)
def test_tag_value_escaping(tag: str, escaped: str) -> None:
    assert line("m", {"t": tag}, {"v": 1.0}, 1) == f"m,t={escaped} v=1.0 1"


def test_string_fields_escape_quotes_and_backslashes() -> None:
    assert line("m", {}, {"s": 'say "hi" \\ o/'}, 1) == 'm s="say \\"hi\\" \\\\ o/" 1'


def test_measurement_escaping() -> None:
    assert line("my m,x", {}, {"v": 2.5}, 3) == "my\\ m\\,x v=2.5 3"


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b", "end\\", "a\\ b", "a\\,b", "a\\=b"])
def test_identifiers_that_cannot_be_carried_are_refused(bad: str) -> None:
    assert identifier_problem(bad)
    with pytest.raises(LineProtocolError):
        line("m", {"t": bad}, {"v": 1.0}, 1)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_fields_are_refused(value: float) -> None:
    with pytest.raises(LineProtocolError, match="not finite"):
        line("m", {}, {"v": value}, 1)


def test_a_point_needs_a_field_and_integer_time() -> None:
    with pytest.raises(LineProtocolError):
        line("m", {"t": "x"}, {}, 1)
    with pytest.raises(LineProtocolError):
        line("m", {}, {"v": 1.0}, 1.5)  # type: ignore[arg-type]


@given(st.text())
def test_a_line_is_one_line_or_refused(tag: str) -> None:
    try:
        text = line("m", {"t": tag}, {"s": tag or "x"}, 1)
    except LineProtocolError:
        return
    assert "\n" not in text
    assert "\r" not in text


@given(st.text())
def test_influxql_quoting_never_closes_early(value: str) -> None:
    quoted = quote_string(value)
    body = quoted[1:-1]
    # every quote inside is escaped, and no raw newline survives
    assert "\n" not in quoted
    i = 0
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        assert body[i] != "'"
        i += 1
    assert quote_ident('a"b') == '"a\\"b"'


numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**40), 2**40)
tag_text = st.text(alphabet=st.sampled_from("ab ,=\"'\\é\n"), max_size=6)


@given(
    st.tuples(tag_text, tag_text, tag_text),
    st.integers(0, 10**6),
    st.tuples(*[numbers] * 5),
    st.integers(0, 2**45),
)
def test_rollup_lines_written_out_equal_the_generic_line(
    tags: tuple[str, str, str], count: int, values: tuple[float, ...], start: int
) -> None:
    """``stat_line`` (the hot path of a rollup refresh) writes what ``line`` writes, and refuses
    what it refuses (a non-finite number, an identifier line protocol cannot carry)."""
    ctx = DeviceContext(tags[0], tags[1], tags[2] or "dev", "grid", "")
    stat = IntervalStat(start, count, *values, start + 1, start + 2)
    names = ("count", "first", "last", "minimum", "maximum", "mean", "first_ts", "last_ts")
    fields: dict[str, float | str | bool] = dict(
        zip(names, map(float, (count, *values, start + 1, start + 2)), strict=True)
    )
    try:
        expected: str | None = line("rollup_15m", series_tags(ctx, "energy_import_wh"), fields, start)
    except LineProtocolError:
        expected = None
    if expected is None:
        with pytest.raises(LineProtocolError):
            stat_line("rollup_15m", ctx, "energy_import_wh", stat)
    else:
        assert stat_line("rollup_15m", ctx, "energy_import_wh", stat) == expected
