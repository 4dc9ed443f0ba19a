"""Pure codec between Modbus register words and values: no I/O, no configuration.

Built on pymodbus's ``convert_from_registers`` / ``convert_to_registers`` (class methods of
``ModbusTcpClient``, usable without a connection). The gateway decodes with :func:`decode`; the
simulators encode with :func:`encode`, its inverse.

Orders:

- ``word_order``: ``"big"`` = most significant register first (Modbus convention, SunSpec);
  ``"little"`` = least significant register first (many vendor "swapped" float/int32 maps).
- ``byte_order``: ``"big"`` = most significant byte first inside each register (Modbus);
  ``"little"`` swaps the two bytes of every register (rare, seen on some gateways).

Scaling: ``value = raw × scale × 10 ** scale_factor``. ``scale_factor`` is the value of a
SunSpec ``sunssf`` register (an int16 in −10…10), already read; ``None`` means no factor.

"Not implemented" markers (SunSpec Information Model Specification, "Unimplemented registers"):

========================  =====================
datatype                  marker
========================  =====================
int16, sunssf             0x8000
uint16, enum16, bitfield16, count  0xFFFF
acc16, acc32, acc64       0 (an accumulator that never counted)
int32                     0x80000000
uint32, enum32, bitfield32  0xFFFFFFFF
int64                     0x8000000000000000
uint64                    0xFFFFFFFFFFFFFFFF
float32, float64          NaN
string                    all registers 0x0000
========================  =====================

With ``markers=False`` (vendor maps without such conventions) only NaN is refused, as a
decode error. Errors::

    ValueError
    └── CodecError          a datatype, order, length or value the codec cannot handle
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pymodbus.client import ModbusTcpClient

Order = Literal["big", "little"]
_DT = ModbusTcpClient.DATATYPE


class CodecError(ValueError):
    """A datatype, order, length or value that the codec cannot handle."""


class DecodeReason(StrEnum):
    NOT_IMPLEMENTED = "not_implemented"  # the register holds the datatype's "not implemented" marker
    DECODE_ERROR = "decode_error"  # NaN/inf, undecodable string, wrong register count, bad scale factor


@dataclass(frozen=True, slots=True)
class _Type:
    pymodbus: ModbusTcpClient.DATATYPE
    registers: int  # 0 for strings (length given per point)
    marker: int | None  # raw integer "not implemented" marker (None: NaN for floats, zeros for strings)
    numeric: bool = True
    integer: bool = True


_TYPES: dict[str, _Type] = {
    "int16": _Type(_DT.INT16, 1, -0x8000),
    "sunssf": _Type(_DT.INT16, 1, -0x8000),
    "uint16": _Type(_DT.UINT16, 1, 0xFFFF),
    "enum16": _Type(_DT.UINT16, 1, 0xFFFF),
    "bitfield16": _Type(_DT.UINT16, 1, 0xFFFF),
    "count": _Type(_DT.UINT16, 1, 0xFFFF),
    "acc16": _Type(_DT.UINT16, 1, 0),
    "int32": _Type(_DT.INT32, 2, -0x80000000),
    "uint32": _Type(_DT.UINT32, 2, 0xFFFFFFFF),
    "enum32": _Type(_DT.UINT32, 2, 0xFFFFFFFF),
    "bitfield32": _Type(_DT.UINT32, 2, 0xFFFFFFFF),
    "acc32": _Type(_DT.UINT32, 2, 0),
    "int64": _Type(_DT.INT64, 4, -0x8000000000000000),
    "uint64": _Type(_DT.UINT64, 4, 0xFFFFFFFFFFFFFFFF),
    "acc64": _Type(_DT.UINT64, 4, 0),
    "float32": _Type(_DT.FLOAT32, 2, None, integer=False),
    "float64": _Type(_DT.FLOAT64, 4, None, integer=False),
    "string": _Type(_DT.STRING, 0, None, numeric=False, integer=False),
}

DATATYPES: tuple[str, ...] = tuple(_TYPES)
SCALE_FACTOR_RANGE = range(-10, 11)  # SunSpec: sunssf values are −10…10


@dataclass(frozen=True, slots=True)
class DecodedValue:
    """A decoded register value, or the reason why there is none.

    ``value`` is a float for numeric types (after scaling), a str for strings, ``None`` when
    ``reason`` is set. ``raw`` is the unscaled integer/float as read (for diagnostics).
    """

    value: float | str | None
    reason: DecodeReason | None = None
    raw: int | float | str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None


def _type(datatype: str) -> _Type:
    try:
        return _TYPES[datatype]
    except KeyError:
        raise CodecError(f"unknown datatype {datatype!r} (known: {', '.join(DATATYPES)})") from None


def _check_order(name: str, order: str) -> None:
    if order not in ("big", "little"):
        raise CodecError(f"{name} must be 'big' or 'little', not {order!r}")


def register_count(datatype: str, length: int | None = None) -> int:
    """Registers that one value of ``datatype`` occupies; strings need ``length`` (registers)."""
    t = _type(datatype)
    if t.registers:
        if length is not None and length != t.registers:
            raise CodecError(f"{datatype} occupies {t.registers} register(s), not {length}")
        return t.registers
    if length is None or length < 1:
        raise CodecError(f"{datatype} needs a length in registers (≥ 1)")
    return length


def is_integer_type(datatype: str) -> bool:
    return _type(datatype).integer


def swap_bytes(words: Sequence[int]) -> list[int]:
    """Swap the two bytes of every register."""
    return [((w & 0xFF) << 8) | ((w >> 8) & 0xFF) for w in words]


def decode(
    words: Sequence[int],
    datatype: str,
    *,
    word_order: Order = "big",
    byte_order: Order = "big",
    scale: float = 1.0,
    scale_factor: int | None = None,
    markers: bool = True,
) -> DecodedValue:
    """Decode ``words`` (16-bit register values) as one value of ``datatype``.

    Never raises for bad *data* (it returns a :class:`DecodedValue` with a reason); raises
    :class:`CodecError` for a bad *call* (unknown datatype or order).
    """
    t = _type(datatype)
    _check_order("word_order", word_order)
    _check_order("byte_order", byte_order)
    bad_words = _words_problem(words, t, datatype)
    if bad_words is not None:
        return bad_words
    regs = swap_bytes(words) if byte_order == "little" else list(words)
    if not t.numeric:
        return _decode_string(regs, word_order, markers)
    raw = ModbusTcpClient.convert_from_registers(regs, t.pymodbus, word_order=word_order)
    assert isinstance(raw, int | float)
    bad_raw = _raw_problem(raw, t, datatype, markers)
    if bad_raw is not None:
        return bad_raw
    if datatype == "sunssf":
        if raw not in SCALE_FACTOR_RANGE:
            return DecodedValue(None, DecodeReason.DECODE_ERROR, raw=raw, detail=f"scale factor {raw} outside −10…10")
        return DecodedValue(float(raw), raw=raw)
    bad_factor = _scale_factor_problem(raw, scale_factor, markers)
    if bad_factor is not None:
        return bad_factor
    return DecodedValue(apply_scale(raw, scale, scale_factor), raw=raw)


def _words_problem(words: Sequence[int], t: _Type, datatype: str) -> DecodedValue | None:
    """Why ``words`` cannot hold one value of the type (wrong count, not 16-bit words), or ``None``."""
    if t.registers and len(words) != t.registers:
        return DecodedValue(
            None, DecodeReason.DECODE_ERROR, detail=f"{datatype} needs {t.registers} register(s), got {len(words)}"
        )
    if not words or any(not 0 <= w <= 0xFFFF for w in words):
        return DecodedValue(None, DecodeReason.DECODE_ERROR, detail="register words must be 0…65535")
    return None


def _raw_problem(raw: float, t: _Type, datatype: str, markers: bool) -> DecodedValue | None:
    """Why the unscaled number is no value (a "not implemented" marker, NaN, infinite), or ``None``."""
    if t.integer:
        if markers and raw == t.marker:
            return DecodedValue(None, DecodeReason.NOT_IMPLEMENTED, raw=raw, detail=f"{datatype} marker")
    elif math.isnan(raw):
        reason = DecodeReason.NOT_IMPLEMENTED if markers else DecodeReason.DECODE_ERROR
        return DecodedValue(None, reason, raw=raw, detail="NaN")
    elif math.isinf(raw):
        return DecodedValue(None, DecodeReason.DECODE_ERROR, raw=raw, detail="infinite")
    return None


def _scale_factor_problem(raw: float, scale_factor: int | None, markers: bool) -> DecodedValue | None:
    """Why the SunSpec scale factor read beside the value cannot scale it, or ``None``."""
    if scale_factor is None:
        return None
    if scale_factor == -0x8000 and markers:
        return DecodedValue(None, DecodeReason.NOT_IMPLEMENTED, raw=raw, detail="scale factor not implemented")
    if scale_factor not in SCALE_FACTOR_RANGE:
        return DecodedValue(
            None, DecodeReason.DECODE_ERROR, raw=raw, detail=f"scale factor {scale_factor} outside −10…10"
        )
    return None


def apply_scale(raw: float, scale: float = 1.0, scale_factor: int | None = None) -> float:
    """``raw × scale × 10 ** scale_factor`` (dividing for negative factors: 1234 × 10⁻¹ gives 123.4 exactly)."""
    value = float(raw) * scale
    if scale_factor:
        value = value * 10.0**scale_factor if scale_factor > 0 else value / 10.0 ** (-scale_factor)
    return value


def _decode_string(regs: list[int], word_order: Order, markers: bool) -> DecodedValue:
    if markers and all(w == 0 for w in regs):
        return DecodedValue(None, DecodeReason.NOT_IMPLEMENTED, raw="", detail="string of zeros")
    try:
        text = ModbusTcpClient.convert_from_registers(regs, _DT.STRING, word_order=word_order)
    except UnicodeDecodeError as exc:
        return DecodedValue(None, DecodeReason.DECODE_ERROR, detail=f"not UTF-8: {exc.reason}")
    assert isinstance(text, str)
    return DecodedValue(text.rstrip("\x00 "), raw=text)


def encode(
    value: float | str | None,
    datatype: str,
    *,
    word_order: Order = "big",
    byte_order: Order = "big",
    scale: float = 1.0,
    scale_factor: int | None = None,
    length: int | None = None,
) -> list[int]:
    """The register words that :func:`decode` turns back into ``value`` (within the resolution of
    ``scale × 10 ** scale_factor``). ``None`` encodes the datatype's "not implemented" marker.

    Raises :class:`CodecError` if the scaled value does not fit the datatype.
    """
    t = _type(datatype)
    _check_order("word_order", word_order)
    _check_order("byte_order", byte_order)
    count = register_count(datatype, length if not t.registers else None)
    if scale == 0:
        raise CodecError("scale must not be 0")
    if scale_factor is not None and scale_factor not in SCALE_FACTOR_RANGE:
        raise CodecError(f"scale factor {scale_factor} outside −10…10")
    if not t.numeric:
        regs = _encode_string(value, count, word_order)
    else:
        regs = _encode_number(value, datatype, t, word_order, scale, scale_factor)
    return swap_bytes(regs) if byte_order == "little" else regs


def _encode_string(value: float | str | None, count: int, word_order: Order) -> list[int]:
    if value is None:
        return [0] * count
    if not isinstance(value, str):
        raise CodecError(f"a string register needs a str, got {type(value).__name__}")
    data = value.encode("utf-8")
    if len(data) > 2 * count:
        raise CodecError(f"string of {len(data)} bytes does not fit {count} register(s)")
    data = data.ljust(2 * count, b"\x00")
    regs = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return list(reversed(regs)) if word_order == "little" else regs


def _encode_number(
    value: float | str | None, datatype: str, t: _Type, word_order: Order, scale: float, scale_factor: int | None
) -> list[int]:
    raw: int | float
    if value is None:
        raw = t.marker if t.marker is not None else math.nan
    elif isinstance(value, str | bool):
        raise CodecError(f"{datatype} needs a number, got {type(value).__name__}")
    elif isinstance(value, int) and t.integer and scale == 1 and not scale_factor:
        raw = value  # exact, also past 2**53 for 64-bit counters
        low, high = _limits(t)
        if not low <= raw <= high:
            raise CodecError(f"{value!r} does not fit {datatype} ({low}…{high})")
    else:
        unscaled = float(value) / scale
        if scale_factor:
            unscaled = unscaled / 10.0**scale_factor if scale_factor > 0 else unscaled * 10.0 ** (-scale_factor)
        if t.integer:
            if not math.isfinite(unscaled):
                raise CodecError(f"{datatype} cannot hold {value!r}")
            raw = round(unscaled)
            low, high = _limits(t)
            if not low <= raw <= high:
                raise CodecError(f"{value!r} (raw {raw}) does not fit {datatype} ({low}…{high})")
        else:
            raw = unscaled
    try:
        return ModbusTcpClient.convert_to_registers(raw, t.pymodbus, word_order=word_order)
    except (OverflowError, struct.error) as exc:
        raise CodecError(f"{value!r} does not fit {datatype}: {exc}") from exc


def _limits(t: _Type) -> tuple[int, int]:
    bits = 16 * t.registers
    code = t.pymodbus.value[0]
    if code.islower():  # signed struct codes: h, i, q
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1
