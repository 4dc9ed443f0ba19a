"""The block decoder gives what the codec gives, for every datatype, order, scale, scale factor and
marker setting, on random words: the codec (built on pymodbus) is the reference, the block
decoder its fast path for the gateway."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ville_autonome.registers.block_decode import PointDecoder, WordBlock
from ville_autonome.registers.codec import DATATYPES, CodecError, DecodedValue, decode, register_count

NUMERIC = [d for d in DATATYPES if d != "string"]
ORDERS = st.sampled_from(["big", "little"])


def same(a: DecodedValue, b: DecodedValue) -> bool:
    def eq(x: object, y: object) -> bool:
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            return True
        return x == y and type(x) is type(y)

    return eq(a.value, b.value) and a.reason == b.reason and eq(a.raw, b.raw) and a.detail == b.detail


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[int], int, int, str, dict[str, object], int | None]:
    datatype = draw(st.sampled_from([*NUMERIC, "string"]))
    count = register_count(datatype) if datatype != "string" else draw(st.integers(1, 4))
    if draw(st.booleans()):  # sometimes the wrong number of registers, as a short answer gives
        count = draw(st.integers(1, 5))
    before, after = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    special = st.sampled_from([0, 0xFFFF, 0x8000, 0x7FFF, 0x7F80, 0xFF80, 0x7FC0, 0x7FF0])
    word = st.one_of(st.integers(0, 0xFFFF), special)
    words = draw(st.lists(word, min_size=before + count + after, max_size=before + count + after))
    if draw(st.integers(0, 20)) == 0:  # not a register value at all
        words[draw(st.integers(0, len(words) - 1))] = draw(st.sampled_from([-1, 0x10000]))
    options: dict[str, object] = {
        "word_order": draw(ORDERS),
        "byte_order": draw(ORDERS),
        "scale": draw(st.sampled_from([1.0, 0.1, 0.001, 10.0, 2.5])),
        "markers": draw(st.booleans()),
    }
    sf = draw(st.one_of(st.none(), st.integers(-11, 11), st.just(-0x8000)))
    return words, before, count, datatype, options, sf


@settings(max_examples=600)  # about 35 per datatype (8 per datatype and order pair); the codec has its own tests
@given(cases())
def test_the_block_decoder_gives_what_the_codec_gives(
    case: tuple[list[int], int, int, str, dict[str, object], int | None],
) -> None:
    words, offset, n, datatype, options, sf = case
    fast = PointDecoder(datatype, **options)(WordBlock(words), offset, n, sf)  # type: ignore[arg-type]
    slow = decode(words[offset : offset + n], datatype, scale_factor=sf, **options)  # type: ignore[arg-type]
    assert same(fast, slow), (fast, slow)


@settings(max_examples=600)  # about 35 per datatype (8 per datatype and order pair); the codec has its own tests
@given(cases())
def test_the_fast_value_is_the_decoders_value_or_none(
    case: tuple[list[int], int, int, str, dict[str, object], int | None],
) -> None:
    words, offset, n, datatype, options, sf = case
    decoder = PointDecoder(datatype, **options)  # type: ignore[arg-type]
    block = WordBlock(words)
    full = decoder(block, offset, n, sf)
    fast = decoder.fast_value(block, offset, n, sf)
    if fast is not None:
        assert full.reason is None
        assert fast == full.value, (fast, full)
        assert type(fast) is type(full.value)
    elif datatype != "string" and options["byte_order"] == "big" and (options["word_order"] == "big" or n == 1):
        # in order and of the right size: only a value the decoder refuses goes the slow way
        assert full.value is None or n != decoder.registers or offset + n > len(words) or not block.valid


@pytest.mark.parametrize("datatype", NUMERIC)
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_every_value_of_a_block_decodes_at_its_offset(datatype: str, word_order: str) -> None:
    words = [0x1234, 0x5678, 0x9ABC, 0xDEF0, 0x0F1E, 0x2D3C, 0x4B5A, 0x6978]
    n = register_count(datatype)
    block = WordBlock(words)
    decoder = PointDecoder(datatype, word_order=word_order)  # type: ignore[arg-type]
    for offset in range(len(words) - n + 1):
        expected = decode(words[offset : offset + n], datatype, word_order=word_order)  # type: ignore[arg-type]
        assert same(decoder(block, offset, n), expected)


def test_a_bad_call_fails_as_the_codec_does() -> None:
    with pytest.raises(CodecError):
        PointDecoder("float128")
    with pytest.raises(CodecError):
        PointDecoder("float32", word_order="middle")  # type: ignore[arg-type]
