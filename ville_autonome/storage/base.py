"""The storage seam: what the ingest writes, the rollup compiler compiles and the API reads.

Every backend raises exactly these, third-party errors (HTTP, ``sqlite3``) translated where they
arise with ``raise … from exc``, for writes and queries alike::

    StoreError                  base of every storage failure
    ├── StoreTransientError     unreachable, timed out, 5xx or 429, busy (SQLite locked, disk I/O):
    │                           nothing of the request is known to be done; back off and retry
    ├── StoreAuthError          refused until an operator acts: credentials (HTTP 401/403), a
    │                           read-only or corrupt SQLite file, a database that is not there
    │                           and may not be created; say so loudly, retry slowly
    └── StoreRejectedError      this request refused for what it is (a query it cannot run, a
                                statement SQLite refuses): the same request fails again; do not
                                retry it. A write refuses single points in ``WriteResult.rejected``
                                instead (the rest of its batch is written)

Writes are upserts: the same (device, quantity, timestamp) written twice holds the last value
once, so at-least-once delivery ends exactly-once in the data. A write also leaves durable
*dirty marks* of the (device, quantity, 15-min bucket) it touched; only the rollup compiler
(``ville-autonome rollups``) turns them into rollups, with :meth:`Store.refresh_rollups`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import StoredReading
from ville_autonome.series.values import (
    IntervalColumns,
    IntervalStat,
    LatestValue,
    RollupKey,
    SequenceGap,
    SequenceNote,
    SeriesPoint,
)


class StoreError(Exception):
    """Base of storage failures."""


class StoreTransientError(StoreError):
    """The store is down, unreachable, timed out, busy or answered 5xx; nothing of the request is known to be done."""


class StoreAuthError(StoreError):
    """The store refuses us (HTTP 401/403, a read-only file): an operator must act, not a passing fault."""


class StoreRejectedError(StoreError):
    """The store refused this request for what it is; retrying the same request fails the same way.

    ``rejected`` maps the index of a refused point of a write to its reason, when the store says
    which; empty when the whole request was refused.
    """

    def __init__(self, message: str, rejected: dict[int, str] | None = None) -> None:
        super().__init__(message)
        self.rejected = rejected or {}


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: int
    rejected: dict[int, str] = field(default_factory=dict)  # index in the batch → reason


@dataclass(frozen=True, slots=True)
class Encoded:
    """``points`` in a backend's own form (``form``), made by :meth:`Store.encode` ahead of
    :meth:`Store.write`, on another thread: the ingest's writers then only send."""

    points: Sequence[StoredReading]
    form: object = None


@runtime_checkable
class Store(Protocol):
    """What every backend provides. Times are UTC milliseconds; ranges are [start, end)."""

    def ping(self) -> str:
        """Version string of the backend; raises :class:`StoreTransientError` when down."""

    def encode(self, points: Sequence[StoredReading]) -> Encoded:
        """``points`` made ready for :meth:`write` (``encoded=``), on any thread; a backend with
        nothing to prepare returns them as they are."""

    def write(
        self, points: Sequence[StoredReading], *, sequences: Sequence[SequenceNote] = (), encoded: Encoded | None = None
    ) -> WriteResult:
        """Upsert ``points`` and mark their rollup buckets dirty (no rollup work here); returns the
        points refused one by one (the rest is durably written and marked). ``sequences``: the
        envelopes these points came in, recorded as :meth:`record_sequences` does, in the same
        transaction or request (once the write returns, they are stored with the points; a record
        the store refuses for what it is is logged, not raised). ``encoded``: what :meth:`encode`
        made of these same ``points``, if it was called."""

    def latest(self, *, since_ms: int | None = None) -> list[LatestValue]:
        """The latest value of every (device, quantity), optionally only those newer than ``since_ms``."""

    def series(self, device: str, quantity: str, start_ms: int, end_ms: int, *, limit: int) -> list[SeriesPoint]:
        """Raw points of one device's quantity in [start, end), oldest first, at most ``limit``."""

    def intervals(self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int) -> list[IntervalStat]:
        """Good values per aligned interval in [start, end), from rollups where they fit."""

    def interval_columns(
        self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int, *, fields: Sequence[str]
    ) -> IntervalColumns:
        """:meth:`intervals` as numpy columns: ``start_ms`` and ``fields`` (of
        ``series.rollups.STAT_FIELDS``), the same numbers without one Python object per interval."""

    def recent_columns(
        self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int, fields: Sequence[str]
    ) -> IntervalColumns | None:
        """What :meth:`interval_columns` answers, from the statistics this store's rollup compiler
        computed in its last pass when they hold the whole window; None: read the store."""

    def write_health(self, records: Sequence[DeviceHealth]) -> None:
        """Upsert the latest health of each device."""

    def health(self) -> list[DeviceHealth]:
        """The latest health of every device reported so far."""

    def record_sequences(self, gateway: str, seqs: Sequence[int], *, worker: str, received_ms: int) -> None:
        """Record that envelopes ``seqs`` of ``gateway`` were durably stored (by ingest ``worker``);
        gaps are computed over the union of every worker's records."""

    def gaps(self, gateway: str | None = None) -> list[SequenceGap]:
        """Sequence numbers never recorded between the lowest and highest recorded, per gateway."""

    def write_service_stats(self, service: str, stats: Mapping[str, float]) -> None:
        """Upsert the current stats of one service instance (e.g. ``ingest/va-ingest-1``): its
        operational figures, stored under the name ``counters`` (docs/architecture.md, "Words")."""

    def service_stats(self) -> dict[str, dict[str, float]]:
        """The latest stats of every service instance: service → stat name → value."""

    def refresh_rollups(
        self,
        *,
        budget_s: float | None = None,
        on_compiled: Callable[[Sequence[RollupKey]], None] | None = None,
    ) -> int:
        """The rollup compiler's step (only ``ville-autonome rollups``, and tests playing it, call
        it): recompute from raw points the 15-min and day rollups of the buckets marked dirty, then
        consume the marks; returns how many 15-min rollups were written. ``on_compiled`` sees each
        chunk of keys once their rollups are written, before their marks are consumed (an
        exception leaves them for the next call). With ``budget_s``, stop after the first chunk
        past it. Idempotent, restartable anywhere."""

    def close(self) -> None: ...
