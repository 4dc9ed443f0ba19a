"""The storage seam: what the ingest writes and the API reads.

::

    StoreError                  base of every storage failure
    ├── StoreTransientError     the store cannot be reached, timed out or answered 5xx: nothing of
    │                           the request is known to be done; back off and retry
    ├── StoreAuthError          the store refused our credentials (HTTP 401/403): retrying will not
    │                           help until an operator acts; say so loudly, retry slowly
    └── StoreRejectedError      the store refused these points for what they are (type conflict,
                                malformed): do not retry them; dead-letter them

Writes are upserts: the same (device, quantity, timestamp) written twice holds the last value
once, so at-least-once delivery ends exactly-once in the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading


class StoreError(Exception):
    """Base of storage failures."""


class StoreTransientError(StoreError):
    """The store is down, unreachable, timed out or answered 5xx; nothing of the batch is known to be written."""


class StoreAuthError(StoreError):
    """The store refused the credentials (HTTP 401/403): a configuration or a revoked token, not a passing fault."""


class StoreRejectedError(StoreError):
    """The store refused some points for what they are; ``rejected`` maps index → reason."""

    def __init__(self, message: str, rejected: dict[int, str] | None = None) -> None:
        super().__init__(message)
        self.rejected = rejected or {}


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: int
    rejected: dict[int, str] = field(default_factory=dict)  # index in the batch → reason


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
    """Aggregate of one quantity of one device over [start_ms, start_ms + interval).

    For counters, the autonomy engine takes energy per interval from successive ``last`` values
    (and ``min``/``first`` to see a reset inside an interval); for gauges, ``mean``.
    """

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
class SequenceGap:
    """Envelopes ``first_seq..last_seq`` (inclusive) of one gateway that never reached a store:
    data that never arrived, which feeds data coverage."""

    gateway: str
    first_seq: int
    last_seq: int

    @property
    def missing(self) -> int:
        return self.last_seq - self.first_seq + 1


@runtime_checkable
class Store(Protocol):
    """What every backend provides. Times are UTC milliseconds; ranges are [start, end)."""

    def ping(self) -> str:
        """Version string of the backend; raises :class:`StoreTransientError` when down."""
        ...

    def write(self, points: Sequence[StoredReading]) -> WriteResult:
        """Upsert ``points``. Raises :class:`StoreTransientError` if nothing could be written;
        returns the per-point rejections otherwise (the rest is durably written)."""
        ...

    def latest(self, *, since_ms: int | None = None) -> list[LatestValue]:
        """The latest value of every (device, quantity), optionally only those newer than ``since_ms``."""
        ...

    def series(self, device: str, quantity: str, start_ms: int, end_ms: int, *, limit: int) -> list[SeriesPoint]:
        """Raw points of one device's quantity in [start, end), oldest first, at most ``limit``."""
        ...

    def intervals(self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int) -> list[IntervalStat]:
        """Good values aggregated per aligned interval in [start, end) (from rollups where they exist)."""
        ...

    def write_health(self, records: Sequence[DeviceHealth]) -> None:
        """Upsert the latest health of each device."""
        ...

    def health(self) -> list[DeviceHealth]:
        """The latest health of every device reported so far."""
        ...

    def record_sequences(self, gateway: str, seqs: Sequence[int], *, worker: str, received_ms: int) -> None:
        """Record that envelopes ``seqs`` of ``gateway`` were durably stored (by ingest ``worker``).
        With several workers sharing a subscription each records what it wrote; gaps are computed
        over the union, so they are right whatever worker received which envelope."""
        ...

    def gaps(self, gateway: str | None = None) -> list[SequenceGap]:
        """Sequence numbers never recorded between the lowest and highest recorded, per gateway."""
        ...

    def write_counters(self, service: str, counters: Mapping[str, float]) -> None:
        """Upsert the current counters of one service instance (e.g. ``ingest/va-ingest-1``)."""
        ...

    def counters(self) -> dict[str, dict[str, float]]:
        """The latest counters of every service instance: service → counter name → value."""
        ...

    def refresh_rollups(self, *, budget_s: float | None = None) -> int:
        """Recompute the 15-min and daily rollups touched by writes since the last refresh; returns
        how many 15-min buckets were recomputed. With ``budget_s``, stop after about that long
        (always doing some work) and leave the rest, still durably marked, to the next call: a
        writer that refreshes never holds its writes back for long after a large backfill.
        Backends also do this by themselves on write (at most every
        ``StoreSettings.rollup_refresh_s``, within ``WRITE_REFRESH_BUDGET_S``) and on close
        (within ``CLOSE_REFRESH_BUDGET_S``; what is left is done after the next start)."""
        ...

    def close(self) -> None: ...


WRITE_REFRESH_BUDGET_S = 2.0  # rollup work a write may do before it returns
CLOSE_REFRESH_BUDGET_S = 10.0  # rollup work a store does when it closes
