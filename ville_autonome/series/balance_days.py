"""Per-device day balances: what the autonomy reading needs of one device over one UTC day,
compiled once by the rollup compiler (``ville-autonome rollups``) so that a period reads a few
thousand of them instead of every device's 15-min rollups (docs/storage.md, "Day balances").

A :class:`BalanceDay` holds, for one device, one day and one interval length ``I`` (the
platform's metrics interval):

- per counter side (supply, draw), the counter it came from and the numbers of a *run* of
  ``autonomy.counter_energy`` over the day with one interval on each side
  (:mod:`autonomy_queries.balance_compile`): statuses and anomaly bits of the intervals
  ``[day − I, day + 1 d]`` (``per_day + 2`` of them) and the energies of ``(day, day + 1 d]``
  (``per_day``), and the wrap-around value the run used;
- per counter the device may be read from, the largest value read that day (none: no data);
- the parameters it was computed with (rated power, the lab's clock rate).

Numbers are stored exactly (float64, little-endian), as MessagePack (about 1.5 kB a device-day at
15 min; not compressed: a city-year's cold read decodes 8,000 of them, and inflating each cost
more than reading it, docs/performance.md): one value per device and day for the database,
whatever the interval. The storage of the days is a
small table per backend (:mod:`storage.sqlite_balances`, :mod:`storage.influx_balances`) behind
:class:`BalanceTable`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from ville_autonome.series.values import IntervalColumns

FORMAT = 4  # bumped whenever what a day holds changes: the compiler then compiles every day again
DAY_MS = 86_400_000


class SideRun(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One counter side (``supply`` or ``draw``) of a device over a day's run."""

    side: str
    quantity: str
    wrap_wh: float | None  # where the counter rolls over, as judged in this run (autonomy_queries.wraps)
    energy: bytes  # float64 [Wh] of the intervals (day, day + 1 d]: per_day values
    status: bytes  # int8 autonomy.Status of the intervals [day − I, day + 1 d]: per_day + 2
    anomaly: bytes  # int8 autonomy.Anomaly bits, same intervals


class BalanceDay(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One device's day at one interval length (module docstring)."""

    device: str
    site: str
    district: str
    day_ms: int  # UTC day start
    interval_s: int
    rated_power_w: float | None  # the configuration's, when compiled
    clock_rate: float  # the lab's clock rate, when compiled
    highest: dict[str, float]  # counter → the largest value read that day (absent: no data that day)
    sides: list[SideRun] = []
    format: int = FORMAT

    @property
    def per_day(self) -> int:
        return DAY_MS // (self.interval_s * 1000)


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(BalanceDay)


def encode(day: BalanceDay) -> bytes:
    return _ENCODER.encode(day)


def decode(data: bytes) -> BalanceDay:
    """Inverse of :func:`encode`; raises ``ValueError`` for anything else (a day of an earlier
    format included: its state's format tells the reader and the compiler to ignore it)."""
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a balance day: {exc}") from exc


@dataclass(frozen=True)
class BalanceState:
    """What the compiler has compiled for one interval length: every day of each device whose
    parameters digest to ``devices[device]`` (:func:`autonomy_queries.balance_compile.device_digest`)."""

    interval_s: int
    format: int
    devices: dict[str, str] = field(default_factory=dict)  # device → digest of what it was compiled with
    updated_ms: int = 0


def state_doc(state: BalanceState) -> str:
    """The stored text of ``state`` (its interval is the key it is stored under)."""
    return json.dumps(
        {"format": state.format, "devices": state.devices, "updated_ms": state.updated_ms}, sort_keys=True
    )


def state_from_doc(doc: str | None, interval_s: int) -> BalanceState | None:
    """:func:`state_doc` back; None when absent or not ours."""
    if doc is None:
        return None
    try:
        raw = json.loads(doc)
        devices = {str(k): str(v) for k, v in dict(raw["devices"]).items()}
        return BalanceState(interval_s, int(raw["format"]), devices, int(raw.get("updated_ms", 0)))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


@dataclass(frozen=True)
class Outstanding:
    """Rollup marks not compiled yet (buckets whose rollups, hence balances, may lag the raw data):
    per (device, quantity) the 15-min bucket starts, and buckets marked for every device
    (InfluxDB's ``again`` marks do not name their series). ``everything``: too many to list."""

    by_series: Mapping[tuple[str, str], Sequence[int]] = field(default_factory=dict)
    any_series: Sequence[int] = ()
    everything: bool = False


class BalanceTable(Protocol):
    """Where a store keeps its day balances (``Store.balance_table()`` of SqliteStore, InfluxStore)."""

    def write_days(self, days: Sequence[BalanceDay]) -> None:
        """Upsert each day on (device, interval, day)."""

    def read_days(
        self, interval_s: int, start_ms: int, end_ms: int, devices: Collection[str]
    ) -> dict[str, dict[int, BalanceDay]]:
        """The days of ``devices`` starting in [start_ms, end_ms): device → day start → day. A
        stored day that does not read back is left out (it reads as not compiled)."""

    def rollup_columns(
        self, series: Collection[tuple[str, str]], start_ms: int, end_ms: int, interval_s: int, fields: Sequence[str]
    ) -> dict[tuple[str, str], IntervalColumns] | None:
        """``Store.interval_columns`` of every (device, quantity) of ``series`` over one window, read
        together (the partial days at both ends of a period, for every device of a scope): the same
        columns, in one or a few queries. None when no rollup fits the window (the caller reads
        each series alone); a series without data has its empty columns."""

    def state(self, interval_s: int) -> BalanceState | None:
        """What the compiler says it has compiled (None: nothing yet)."""

    def write_state(self, state: BalanceState) -> None: ...

    def outstanding(self, start_ms: int, end_ms: int) -> Outstanding:
        """The marks of buckets in [start_ms, end_ms) the rollup compiler has not consumed yet."""

    def defer(self, interval_s: int, days: Mapping[str, Collection[int]]) -> None:
        """Note durably that these days (device → day starts) must be compiled again: written
        before the rollup marks that changed them are consumed, read until :meth:`settle`."""

    def deferred(self, interval_s: int) -> dict[str, set[int]]:
        """The days noted by :meth:`defer` and not settled since: device → day starts."""

    def settle(self, interval_s: int, days: Mapping[str, Collection[int]], *, everything: bool) -> None:
        """``days`` are compiled; ``everything``: so is every day noted so far (a backend that
        cannot forget days one by one forgets them only then)."""
