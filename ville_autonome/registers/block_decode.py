"""Decoding one read answer (a block of register words) point by point, fast: the rules of
:func:`registers.codec.decode`, with each point's ``struct`` format chosen once.

:func:`registers.codec.decode` goes through pymodbus's ``convert_from_registers`` for every value
(a bytearray built register by register, an enum looked up, a format string formatted): fine
for one value, most of a gateway's CPU at a thousand devices a second. Here a block's words are
packed into bytes once (:class:`WordBlock`), and a :class:`PointDecoder` made once per point
unpacks its value at its offset with a precompiled ``struct.Struct`` — the same bytes in the same
order as pymodbus (registers most significant byte first, reversed for ``word_order="little"``;
``byte_order="little"`` swaps the two bytes of every register), then the same markers, checks and
scaling as the codec, so the results are equal, ``detail`` included (``tests/registers``
checks it against the codec on random words). Strings and blocks whose words are not 16-bit
values go through the codec itself. Pure: no I/O.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

from ville_autonome.registers.codec import (
    SCALE_FACTOR_RANGE,
    DecodedValue,
    DecodeReason,
    Order,
    apply_scale,
    decode,
)

# datatype → struct code of one value, registers, "not implemented" marker (None: floats)
_CODES: dict[str, tuple[str, int, int | None]] = {
    "int16": ("h", 1, -0x8000),
    "sunssf": ("h", 1, -0x8000),
    "uint16": ("H", 1, 0xFFFF),
    "enum16": ("H", 1, 0xFFFF),
    "bitfield16": ("H", 1, 0xFFFF),
    "count": ("H", 1, 0xFFFF),
    "acc16": ("H", 1, 0),
    "int32": ("i", 2, -0x80000000),
    "uint32": ("I", 2, 0xFFFFFFFF),
    "enum32": ("I", 2, 0xFFFFFFFF),
    "bitfield32": ("I", 2, 0xFFFFFFFF),
    "acc32": ("I", 2, 0),
    "int64": ("q", 4, -0x8000000000000000),
    "uint64": ("Q", 4, 0xFFFFFFFFFFFFFFFF),
    "acc64": ("Q", 4, 0),
    "float32": ("f", 2, None),
    "float64": ("d", 4, None),
}


class WordBlock:
    """The words of one read answer, packed once: big-endian registers, and byte-swapped ones on
    demand. ``valid`` is False when a word is not a 16-bit value (the codec then says why)."""

    __slots__ = ("_swapped", "packed", "valid", "words")

    def __init__(self, words: Sequence[int]) -> None:
        self.words = words
        self._swapped: bytes | None = None
        try:
            self.packed = struct.pack(f">{len(words)}H", *words)
            self.valid = True
        except struct.error:
            self.packed, self.valid = b"", False

    def swapped(self) -> bytes:
        """Every register with its two bytes swapped (``byte_order="little"``)."""
        if self._swapped is None:
            self._swapped = struct.pack(f"<{len(self.words)}H", *self.words)
        return self._swapped


class PointDecoder:
    """:func:`registers.codec.decode` of one point's value inside a :class:`WordBlock`, its
    ``struct`` format compiled once."""

    __slots__ = ("_code", "_fast", "byte_order", "datatype", "markers", "registers", "scale", "word_order")

    def __init__(
        self,
        datatype: str,
        *,
        word_order: Order = "big",
        byte_order: Order = "big",
        scale: float = 1.0,
        markers: bool = True,
    ) -> None:
        found = _CODES.get(datatype)
        # an unknown datatype or order fails here (CodecError), as the codec's decode would
        decode([0] * (found[1] if found else 1), datatype, word_order=word_order, byte_order=byte_order)
        self.datatype, self.word_order, self.byte_order = datatype, word_order, byte_order
        self.scale, self.markers = scale, markers
        self.registers = found[1] if found else 0
        self._code = (struct.Struct(">" + found[0]), found[2]) if found else None
        # fast_value's case: a number whose bytes are in order in the block (no swapping to do)
        self._fast = found is not None and byte_order == "big" and (word_order == "big" or found[1] == 1)

    def fast_value(self, block: WordBlock, offset: int, count: int, scale_factor: int | None = None) -> float | None:
        """The value :meth:`__call__` gives when nothing is unusual — a number in order, no marker,
        no NaN or infinity, a usable scale factor — without building a :class:`DecodedValue`;
        ``None`` otherwise (then :meth:`__call__` says why). The gateway's path for every poll."""
        code = self._code
        if not self._fast or code is None or not block.valid or count != self.registers:
            return None
        if offset + count > len(block.words):
            return None
        unpacker, marker = code
        raw = unpacker.unpack_from(block.packed, 2 * offset)[0]
        if marker is None:
            if not math.isfinite(raw):
                return None
        elif self.markers and raw == marker:
            return None
        if self.datatype == "sunssf":
            return float(raw) if raw in SCALE_FACTOR_RANGE else None
        if scale_factor is not None and scale_factor not in SCALE_FACTOR_RANGE:
            return None
        return apply_scale(raw, self.scale, scale_factor)

    def __call__(self, block: WordBlock, offset: int, count: int, scale_factor: int | None = None) -> DecodedValue:
        """The value of the ``count`` registers at ``offset`` of ``block`` (what the codec gives for them)."""
        code = self._code
        if code is None or not block.valid or count != self.registers or offset + count > len(block.words):
            return self._by_codec(block, offset, count, scale_factor)
        unpacker, marker = code
        raw = self._unpack(unpacker, block, offset, count)
        refused = self._raw_problem(raw, marker)
        if refused is not None:
            return refused
        if self.datatype == "sunssf":
            if raw not in SCALE_FACTOR_RANGE:
                return DecodedValue(
                    None, DecodeReason.DECODE_ERROR, raw=raw, detail=f"scale factor {raw} outside −10…10"
                )
            return DecodedValue(float(raw), raw=raw)
        refused = self._scale_factor_problem(raw, scale_factor)
        if refused is not None:
            return refused
        return DecodedValue(apply_scale(raw, self.scale, scale_factor), raw=raw)

    def _by_codec(self, block: WordBlock, offset: int, count: int, scale_factor: int | None) -> DecodedValue:
        """The codec's own decode, for what the fast path does not cover."""
        return decode(
            block.words[offset : offset + count],
            self.datatype,
            word_order=self.word_order,
            byte_order=self.byte_order,
            scale=self.scale,
            scale_factor=scale_factor,
            markers=self.markers,
        )

    def _unpack(self, unpacker: struct.Struct, block: WordBlock, offset: int, count: int) -> Any:
        """The raw number the registers hold, in the point's word and byte order."""
        data = block.swapped() if self.byte_order == "little" else block.packed
        if self.word_order == "little" and count > 1:
            words = b"".join(data[2 * i : 2 * i + 2] for i in range(offset + count - 1, offset - 1, -1))
            return unpacker.unpack(words)[0]
        return unpacker.unpack_from(data, 2 * offset)[0]

    def _raw_problem(self, raw: Any, marker: int | None) -> DecodedValue | None:
        """A "not implemented" marker, NaN or infinity, as the codec names them; None for a number."""
        if marker is not None:
            if self.markers and raw == marker:
                return DecodedValue(None, DecodeReason.NOT_IMPLEMENTED, raw=raw, detail=f"{self.datatype} marker")
        elif math.isnan(raw):
            reason = DecodeReason.NOT_IMPLEMENTED if self.markers else DecodeReason.DECODE_ERROR
            return DecodedValue(None, reason, raw=raw, detail="NaN")
        elif math.isinf(raw):
            return DecodedValue(None, DecodeReason.DECODE_ERROR, raw=raw, detail="infinite")
        return None

    def _scale_factor_problem(self, raw: Any, scale_factor: int | None) -> DecodedValue | None:
        """A scale factor that is not implemented or out of range; None when it can be applied."""
        if scale_factor is None:
            return None
        if scale_factor == -0x8000 and self.markers:
            return DecodedValue(None, DecodeReason.NOT_IMPLEMENTED, raw=raw, detail="scale factor not implemented")
        if scale_factor not in SCALE_FACTOR_RANGE:
            return DecodedValue(
                None, DecodeReason.DECODE_ERROR, raw=raw, detail=f"scale factor {scale_factor} outside −10…10"
            )
        return None
