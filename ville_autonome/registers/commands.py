"""What a command may write to a device, from its profile: pure checks and encoding.

A command names writable points of the device's profile and a value for each, in the point's
unit after scaling (``%`` for a SunSpec rate, ``s`` for a timeout). A value is refused when the
point is not writable, is outside the point's ``minimum``/``maximum``, is not one of its
``values``, is not an integer where the register holds one, or does not fit the register. The API
checks before it publishes; the gateway checks again before it writes (its profile is the one in
force on the device). Errors::

    ValueError
    └── WriteRefusedError    a write this profile does not allow (the reason names the point)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ville_autonome.registers.codec import CodecError, encode
from ville_autonome.registers.points import Point, Profile

INTEGER_TYPES = frozenset({"int16", "uint16", "enum16", "bitfield16", "int32", "uint32", "enum32", "bitfield32"})


class WriteRefusedError(ValueError):
    """A write that the device's profile does not allow."""


@dataclass(frozen=True, slots=True)
class CheckedWrite:
    point: Point
    value: float


def writable_points(profile: Profile) -> list[Point]:
    return [p for p in profile.points if p.writable]


def check_write(profile: Profile, name: str, value: float) -> CheckedWrite:
    """The write of ``value`` to point ``name``, or :class:`WriteRefusedError` saying why not."""
    try:
        point = profile.point(name)
    except KeyError:
        known = ", ".join(p.name for p in writable_points(profile)) or "none"
        raise WriteRefusedError(f"{name!r} is not a point of {profile.name} (writable: {known})") from None
    if not point.writable:
        raise WriteRefusedError(f"{name} is not writable")
    if point.values and value not in point.values:
        allowed = ", ".join(f"{k} ({v})" for k, v in sorted(point.values.items()))
        raise WriteRefusedError(f"{name}: {value:g} is not one of {allowed}")
    if point.minimum is not None and value < point.minimum:
        raise WriteRefusedError(f"{name}: {value:g} is below the minimum {point.minimum:g} {point.unit or ''}".rstrip())
    if point.maximum is not None and value > point.maximum:
        raise WriteRefusedError(f"{name}: {value:g} is above the maximum {point.maximum:g} {point.unit or ''}".rstrip())
    if point.datatype in INTEGER_TYPES and point.scale == 1.0 and point.scale_factor is None and value != int(value):
        raise WriteRefusedError(f"{name}: {value:g} is not an integer")
    return CheckedWrite(point, value)


def check_writes(profile: Profile, writes: Sequence[tuple[str, float]]) -> list[CheckedWrite]:
    """Every write checked, in order; the first refusal stops (a command is all or nothing)."""
    return [check_write(profile, name, value) for name, value in writes]


def encode_write(write: CheckedWrite, scale_factor: int | None) -> list[int]:
    """The register words of a checked write, given the point's scale factor as read from the device."""
    p = write.point
    value: float | int = int(write.value) if write.value == int(write.value) else write.value
    try:
        return encode(
            value,
            p.datatype,
            word_order=p.word_order,
            byte_order=p.byte_order,
            scale=p.scale,
            scale_factor=scale_factor,
            length=p.count,
        )
    except CodecError as exc:
        raise WriteRefusedError(f"{p.name}: {exc}") from None
