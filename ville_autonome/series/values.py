"""The values a store answers with (pure): latest values, raw points, interval statistics (as
objects or numpy columns) and the sequence gaps of a gateway's envelopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from ville_autonome.readings.model import DeviceContext, Quality

if TYPE_CHECKING:
    import numpy.typing as npt

# ``start_ms`` and some of ``series.rollups.STAT_FIELDS`` as numpy arrays, one entry per interval
IntervalColumns: TypeAlias = "dict[str, npt.NDArray[Any]]"
RollupKey: TypeAlias = tuple[str, str, int]  # device, quantity, 15-min bucket start (ms)


@dataclass(frozen=True, slots=True)
class LatestValue:
    context: DeviceContext
    quantity: str
    ts_ms: int
    value: float | None
    quality: Quality


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    ts_ms: int
    value: float | None
    quality: Quality


@dataclass(frozen=True, slots=True)
class IntervalStat:
    """Aggregate of one quantity of one device over [start_ms, start_ms + interval): counters give
    energy from successive ``last`` values (``min``/``first`` show a reset), gauges their ``mean``."""

    start_ms: int
    count: int
    first: float
    last: float
    minimum: float
    maximum: float
    mean: float
    first_ts_ms: int
    last_ts_ms: int


@dataclass(frozen=True, slots=True)
class SequenceNote:
    """Envelopes ``seqs`` of ``gateway`` that ingest ``worker`` stored, received at ``received_ms``:
    recorded with the readings they carried (``Store.write(points, sequences=…)``)."""

    gateway: str
    seqs: tuple[int, ...]
    worker: str
    received_ms: int


@dataclass(frozen=True, slots=True)
class SequenceGap:
    """Envelopes ``first_seq..last_seq`` (inclusive) of one gateway that never reached a store:
    data that never arrived, which feeds data coverage."""

    gateway: str
    first_seq: int
    last_seq: int

    @property
    def missing(self) -> int:
        return self.last_seq - self.first_seq + 1
