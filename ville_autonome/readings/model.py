"""A reading: one value of one quantity of one device at one instant, with its quality.

Time is UTC, milliseconds since the Unix epoch (``ts_ms``). A reading whose quality is not
``good`` may carry no value (a timeout has none) or a suspect one (a stuck or out-of-range value
is kept so the operator can see it); consumers use only ``good`` values for energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import msgspec


class Quality(StrEnum):
    GOOD = "good"
    TIMEOUT = "timeout"  # the device did not answer in time
    EXCEPTION = "exception"  # the device answered with a Modbus exception code
    DECODE_ERROR = "decode_error"  # the words could not be decoded (NaN marker, bad string)
    OUT_OF_RANGE = "out_of_range"  # decoded, but outside the quantity's physical range
    STUCK = "stuck"  # the same value for longer than the device's stuck window
    NOT_IMPLEMENTED = "not_implemented"  # SunSpec "not implemented" marker
    IMPUTED = "imputed"  # filled in by the platform, not measured


@dataclass(frozen=True, slots=True)
class Reading:
    """One measured value. ``value`` is ``None`` only when quality is not good."""

    device: str
    quantity: str
    ts_ms: int
    value: float | None
    quality: Quality = Quality.GOOD

    @property
    def is_good(self) -> bool:
        return self.quality is Quality.GOOD and self.value is not None


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """Where a device sits in the topology: the tags every stored reading carries."""

    district: str
    site: str
    device: str
    role: str
    source: str  # production source (hydro, pv, wind, chp) or "" for other roles


class StoredReading(msgspec.Struct, gc=False):
    """A reading with its topology tags, as the storage backends receive it. Treated as immutable
    but not frozen. A ``msgspec.Struct`` rather than a dataclass: the ingest builds one per reading
    on its hot path, and a struct is built in C in a third of a slotted dataclass's time; left out
    of the garbage collector's tracking (``gc=False``: it holds only a context, strings and
    numbers, so it cannot be part of a reference cycle), a batch of them costs no collection
    (bench/bench_ingest.py, docs/ingest.md)."""

    context: DeviceContext
    quantity: str
    ts_ms: int
    value: float | None
    quality: Quality = Quality.GOOD

    @property
    def device(self) -> str:
        return self.context.device
