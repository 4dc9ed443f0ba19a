"""Decoding tables: register words → values, with word/byte orders, scales and markers.

Vectors are computed by hand from the IEEE-754 / two's-complement definitions (e.g. 1.5 as
float32 is 0x3FC00000; -2 as int32 is 0xFFFFFFFE), not by the codec itself.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ville_autonome.registers.codec import (
    DATATYPES,
    CodecError,
    DecodeReason,
    decode,
    encode,
    register_count,
    swap_bytes,
)

NI = DecodeReason.NOT_IMPLEMENTED
ERR = DecodeReason.DECODE_ERROR

# words, datatype, options, expected value (float/str) or reason
DECODE_TABLE: list[tuple[list[int], str, dict[str, object], object]] = [
    ([0x0001], "int16", {}, 1.0),
    ([0xFFFF], "int16", {}, -1.0),
    ([0x7FFF], "int16", {}, 32767.0),
    ([0x8000], "int16", {}, NI),
    ([0x8000], "int16", {"markers": False}, -32768.0),
    ([0xFFFF], "uint16", {}, NI),
    ([0xFFFF], "uint16", {"markers": False}, 65535.0),
    ([0xFFFE], "uint16", {}, 65534.0),
    ([0xFFFF], "enum16", {}, NI),
    ([0x0000], "acc16", {}, NI),
    ([0x0000, 0x0000], "acc32", {}, NI),
    ([0x0000, 0x0001], "acc32", {}, 1.0),
    ([0x0001, 0x0000], "acc32", {}, 65536.0),
    ([0x0001, 0x0000], "acc32", {"word_order": "little"}, 1.0),
    ([0xFFFF, 0xFFFE], "int32", {}, -2.0),
    ([0xFFFE, 0xFFFF], "int32", {"word_order": "little"}, -2.0),
    ([0x8000, 0x0000], "int32", {}, NI),
    ([0xFFFF, 0xFFFF], "uint32", {}, NI),
    ([0x075B, 0xCD15], "uint32", {}, 123456789.0),
    ([0xCD15, 0x075B], "uint32", {"word_order": "little"}, 123456789.0),
    ([0x5B07, 0x15CD], "uint32", {"byte_order": "little"}, 123456789.0),
    ([0x15CD, 0x5B07], "uint32", {"word_order": "little", "byte_order": "little"}, 123456789.0),
    ([0x3FC0, 0x0000], "float32", {}, 1.5),
    ([0x0000, 0x3FC0], "float32", {"word_order": "little"}, 1.5),
    ([0xC03F, 0x0000], "float32", {"byte_order": "little"}, 1.5),  # bytes 3F C0 swapped in each word
    ([0x7FC0, 0x0000], "float32", {}, NI),
    ([0x7FC0, 0x0000], "float32", {"markers": False}, ERR),
    ([0x7F80, 0x0000], "float32", {}, ERR),  # +inf
    ([0x0000, 0x0000, 0x0000, 0x0001], "uint64", {}, 1.0),
    ([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], "uint64", {}, NI),
    ([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], "int64", {}, -2.0),
    ([0x8000, 0x0000, 0x0000, 0x0000], "int64", {}, NI),
    ([0x0000, 0x0000, 0x0000, 0x0000], "acc64", {}, NI),
    ([0x0002, 0x0000, 0x0000, 0x0000], "uint64", {"word_order": "little"}, 2.0),
    # scales and SunSpec scale factors
    ([0x04D2], "int16", {"scale_factor": -1}, 123.4),
    ([0xFB2E], "int16", {"scale_factor": -1}, -123.4),
    ([0x04D2], "int16", {"scale_factor": 2}, 123400.0),
    ([0x04D2], "uint16", {"scale": 0.01}, 12.34),
    ([0x04D2], "uint16", {"scale": 10.0, "scale_factor": -1}, 1234.0),
    ([0x0000, 0x0064], "acc32", {"scale_factor": 3}, 100000.0),
    ([0x04D2], "int16", {"scale_factor": -32768}, NI),  # the scale factor itself is not implemented
    ([0x04D2], "int16", {"scale_factor": 11}, ERR),
    ([0xFFFE], "sunssf", {}, -2.0),
    ([0x8000], "sunssf", {}, NI),
    ([0x000B], "sunssf", {}, ERR),
    # strings
    ([0x5375, 0x6E53], "string", {}, "SunS"),
    ([0x6E53, 0x5375], "string", {"word_order": "little"}, "SunS"),
    ([0x7553, 0x536E], "string", {"byte_order": "little"}, "SunS"),
    ([0x4142, 0x4300, 0x0000], "string", {}, "ABC"),
    ([0x0000, 0x0000], "string", {}, NI),
    ([0xFFFE, 0x4142], "string", {}, ERR),
    # wrong register count, word out of range
    ([0x0001], "int32", {}, ERR),
    ([0x10000], "uint16", {}, ERR),
]


@pytest.mark.parametrize(("words", "datatype", "options", "expected"), DECODE_TABLE)
def test_decode_table(words: list[int], datatype: str, options: dict[str, object], expected: object) -> None:
    got = decode(words, datatype, **options)  # type: ignore[arg-type]
    if isinstance(expected, DecodeReason):
        assert got.reason is expected, got
        assert got.value is None
        assert not got.ok
    else:
        assert got.reason is None, got
        if isinstance(expected, float):
            assert got.value == pytest.approx(expected, rel=1e-12)
        else:
            assert got.value == expected


ENCODE_TABLE: list[tuple[object, str, dict[str, object], list[int]]] = [
    (-123.4, "int16", {"scale_factor": -1}, [0xFB2E]),
    (123456789, "uint32", {}, [0x075B, 0xCD15]),
    (123456789, "uint32", {"word_order": "little"}, [0xCD15, 0x075B]),
    (123456789, "uint32", {"byte_order": "little"}, [0x5B07, 0x15CD]),
    (1.5, "float32", {}, [0x3FC0, 0x0000]),
    (1.5, "float32", {"word_order": "little"}, [0x0000, 0x3FC0]),
    ("SunS", "string", {"length": 2}, [0x5375, 0x6E53]),
    ("ABC", "string", {"length": 3}, [0x4142, 0x4300, 0x0000]),
    (None, "int16", {}, [0x8000]),
    (None, "uint16", {}, [0xFFFF]),
    (None, "acc32", {}, [0, 0]),
    (None, "uint32", {}, [0xFFFF, 0xFFFF]),
    (None, "int32", {}, [0x8000, 0x0000]),
    (None, "string", {"length": 2}, [0, 0]),
    (100000.0, "acc32", {"scale_factor": 3}, [0x0000, 0x0064]),
]


@pytest.mark.parametrize(("value", "datatype", "options", "expected"), ENCODE_TABLE)
def test_encode_table(value: object, datatype: str, options: dict[str, object], expected: list[int]) -> None:
    assert encode(value, datatype, **options) == expected  # type: ignore[arg-type]


def test_encode_nan_marker_for_floats() -> None:
    words = encode(None, "float32")
    assert decode(words, "float32").reason is NI


@pytest.mark.parametrize(
    ("value", "datatype", "options"),
    [
        (40000, "int16", {}),
        (-1, "uint16", {}),
        (70000, "uint16", {}),
        (2**32, "uint32", {}),
        (1e40, "float32", {}),
        ("text", "int16", {}),
        (1.0, "string", {"length": 1}),
        ("too long", "string", {"length": 2}),
        (1.0, "int16", {"scale_factor": 12}),
        (1.0, "int16", {"scale": 0}),
        (math.inf, "int32", {}),
    ],
)
def test_encode_refuses_what_does_not_fit(value: object, datatype: str, options: dict[str, object]) -> None:
    with pytest.raises(CodecError):
        encode(value, datatype, **options)  # type: ignore[arg-type]


def test_bad_calls_raise() -> None:
    with pytest.raises(CodecError, match="unknown datatype 'int12'"):
        decode([1], "int12")
    with pytest.raises(CodecError, match="word_order"):
        decode([1], "int16", word_order="middle")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("datatype", "length", "count"),
    [
        ("int16", None, 1),
        ("sunssf", None, 1),
        ("float32", None, 2),
        ("acc32", None, 2),
        ("uint64", None, 4),
        ("string", 8, 8),
        ("int32", 2, 2),
    ],
)
def test_register_count(datatype: str, length: int | None, count: int) -> None:
    assert register_count(datatype, length) == count


def test_register_count_errors() -> None:
    with pytest.raises(CodecError, match="needs a length"):
        register_count("string")
    with pytest.raises(CodecError, match="occupies 2"):
        register_count("float32", 3)


def test_swap_bytes() -> None:
    assert swap_bytes([0x1234, 0xABCD]) == [0x3412, 0xCDAB]


orders = st.sampled_from(["big", "little"])
INT_RANGES = {
    "int16": (-32767, 32767),
    "uint16": (0, 65534),
    "int32": (-(2**31) + 1, 2**31 - 1),
    "uint32": (0, 2**32 - 2),
    "acc32": (1, 2**32 - 1),
    "int64": (-(2**63) + 1, 2**63 - 1),
    "uint64": (0, 2**64 - 2),
}


@given(data=st.data(), word_order=orders, byte_order=orders)
def test_integer_round_trip(data: st.DataObject, word_order: str, byte_order: str) -> None:
    datatype = data.draw(st.sampled_from(sorted(INT_RANGES)))
    low, high = INT_RANGES[datatype]
    sf = data.draw(st.none() | st.integers(-3, 3))
    if sf is not None:  # a scaled value goes through a float: stay within its 53-bit mantissa
        low, high = max(low, -(2**50)), min(high, 2**50)
    raw = data.draw(st.integers(low, high))
    value: float = raw * 10.0**sf if sf is not None else raw
    opts = {"word_order": word_order, "byte_order": byte_order, "scale_factor": sf}
    words = encode(value, datatype, **opts)  # type: ignore[arg-type]
    assert len(words) == register_count(datatype)
    got = decode(words, datatype, **opts)  # type: ignore[arg-type]
    assert got.raw == raw
    assert got.value == pytest.approx(value, rel=1e-9)


@given(value=st.floats(width=32, allow_nan=False, allow_infinity=False), word_order=orders, byte_order=orders)
def test_float_round_trip(value: float, word_order: str, byte_order: str) -> None:
    words = encode(value, "float32", word_order=word_order, byte_order=byte_order)  # type: ignore[arg-type]
    assert decode(words, "float32", word_order=word_order, byte_order=byte_order).value == value  # type: ignore[arg-type]


@given(text=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=16), word_order=orders)
def test_string_round_trip(text: str, word_order: str) -> None:
    words = encode(text, "string", length=8, word_order=word_order)  # type: ignore[arg-type]
    assert decode(words, "string", word_order=word_order).value == text  # type: ignore[arg-type]


def test_every_datatype_has_a_count() -> None:
    for datatype in DATATYPES:
        assert register_count(datatype, 4 if datatype == "string" else None) >= 1
