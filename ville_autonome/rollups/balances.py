"""The per-device day balances, compiled by the rollup compiler (docs/storage.md, "Day balances").

:class:`BalanceCompiler` plugs into :class:`rollups.service.RollupCompiler`:

- ``on_compiled(keys)`` — each chunk of rollups just written, before its marks are consumed: the
  days whose numbers those buckets change (:func:`autonomy_queries.balance_compile.days_touched`)
  are noted durably (``BalanceTable.defer``: one small write a chunk). If that fails, the marks
  stay and the chunk comes again. The reading takes a noted day from the rollups until it is
  compiled again.
- ``catch_up(budget_s)`` — after each pass, within what is left of its budget: the noted days,
  a device's days together (one read and one run per counter for up to two months of days: a
  backfill's chunks touch the same days again and again), then ``settle``; then the history of
  every device the store has not compiled with the current parameters (a store older than the
  balances, a device new in the configuration, a changed rating, clock rate or interval), a
  slice per pass, then the state that says so (``BalanceState``: device → digest). The reading
  trusts a device's days only once its digest is there and equal to its own.

Errors: a :class:`storage.base.StoreError` leaves this module (the rollup pass fails and is retried).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from ville_autonome.autonomy_queries.balance_compile import (
    compile_days,
    counter_quantities,
    day_of,
    days_touched,
    device_digest,
)
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.series.balance_days import DAY_MS, FORMAT, BalanceState, BalanceTable
from ville_autonome.series.rollups import STAT_FIELDS
from ville_autonome.series.values import IntervalColumns, RollupKey
from ville_autonome.storage.base import Store

log = logging.getLogger(__name__)

HISTORY_END_MS = 4_102_444_800_000  # 2100-01-01: how far the history of a device is looked for
HISTORY_SLICE_DAYS = 31  # days of one device compiled at a time while catching up with its history


class BalanceCompiler:
    """Compiles ``store``'s day balances at ``config``'s metrics interval."""

    def __init__(self, store: Store, config: PlatformConfig, *, clock_ms: Callable[[], int] | None = None) -> None:
        self.store = store
        getter = getattr(store, "balance_table", None)
        if getter is None:
            raise TypeError(f"{type(store).__name__} keeps no day balances")
        self.table: BalanceTable = getter()
        self.reader = _RecentFirst(store)
        self.interval_s = config.services.metrics.interval_minutes * 60
        self.clock_rate = config.services.simulator.speed
        self.devices = {dev.id: (district.id, site.id, dev) for district, site, dev in config.devices()}
        self.digests = {
            d: device_digest(dev, self.interval_s, self.clock_rate) for d, (_, _, dev) in self.devices.items()
        }
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.days_written = 0
        self._state: BalanceState | None = None
        self._history: dict[str, list[int]] | None = None  # device → days still to compile
        self._noted: dict[str, set[int]] = {}  # device → days to compile again (noted in the store)

    # ------------------------------------------------------------------ live: what the rollups just changed

    def on_compiled(self, keys: Sequence[RollupKey]) -> None:
        days: dict[str, set[int]] = {}
        for (device, quantity), touched in days_touched(keys, self.interval_s).items():
            known = self.devices.get(device)
            if known is not None and quantity in counter_quantities(known[2]):
                days.setdefault(device, set()).update(touched)
        if days:
            self.table.defer(self.interval_s, days)
            for device, wanted in days.items():
                self._noted.setdefault(device, set()).update(wanted)

    def _compile(self, device: str, days: set[int]) -> None:
        district, site, dev = self.devices[device]
        compiled = compile_days(self.reader, district, site, dev, sorted(days), self.interval_s, self.clock_rate)
        self.table.write_days(compiled)
        self.days_written += len(compiled)

    # ------------------------------------------------------------------ catching up with history

    def catch_up(self, budget_s: float | None) -> bool:
        """Compile history within ``budget_s`` (None: all of it); True when none is left."""
        deadline = time.monotonic() + budget_s if budget_s is not None else None
        if self._history is None:
            self._history = self._plan_history()
        if not self._compile_noted(deadline):
            return False
        finished = self._compile_history(self._history, deadline)
        if finished:
            self._save(finished)
            for device in finished:
                del self._history[device]
            log.info("day balances: history compiled for %s", ", ".join(finished))
        return not self._history

    def _plan_history(self) -> dict[str, list[int]]:
        """The days of history each device whose balances are stale still needs (the days noted
        before a restart are taken back first, and compiled before the rest of the history)."""
        for device, noted in self.table.deferred(self.interval_s).items():  # noted before a restart
            if device in self.devices:
                self._noted.setdefault(device, set()).update(noted)
        self._state = self.table.state(self.interval_s)
        done = self._state.devices if self._state is not None and self._state.format == FORMAT else {}
        stale = [d for d in sorted(self.devices) if done.get(d) != self.digests[d]]
        if stale:
            log.info("day balances: compiling the history of %d devices", len(stale))
        return {
            d: [day for day in self._history_days(self.devices[d][2]) if day not in self._noted.get(d, ())]
            for d in stale
        }

    def _compile_history(self, history: dict[str, list[int]], deadline: float | None) -> list[str]:
        """Slices of each device's history until ``deadline``; the devices whose history is done."""
        finished: list[str] = []
        for device, days in history.items():
            while days:
                self._compile(device, set(days[:HISTORY_SLICE_DAYS]))
                del days[:HISTORY_SLICE_DAYS]
                if _past(deadline):
                    break
            if not days:
                finished.append(device)
            if _past(deadline):
                break
        return finished

    def _compile_noted(self, deadline: float | None) -> bool:
        """The noted days, device by device; True when none is left."""
        done: dict[str, set[int]] = {}
        for device in sorted(self._noted):
            self._compile(device, self._noted[device])
            done[device] = self._noted.pop(device)
            if deadline is not None and time.monotonic() >= deadline:
                break
        if done:
            self.table.settle(self.interval_s, done, everything=not self._noted)
        return not self._noted

    def _history_days(self, device: DeviceConfig) -> list[int]:
        """Every day whose run holds data of ``device``'s counters: the days with data and the one
        on each side of them."""
        end = max(day_of(self.clock_ms()) + 2 * DAY_MS, HISTORY_END_MS)  # data stamped ahead of this clock too
        days: set[int] = set()
        for q in counter_quantities(device):
            cols = self.store.interval_columns(device.id, q, 0, end, 86_400, fields=("count",))
            for day in cols["start_ms"][cols["count"] > 0].tolist():
                days.update((int(day) - DAY_MS, int(day), int(day) + DAY_MS))
        return sorted(days)

    def _save(self, finished: list[str]) -> None:
        known = dict(self._state.devices) if self._state is not None and self._state.format == FORMAT else {}
        known.update({d: self.digests[d] for d in finished})
        self._state = BalanceState(self.interval_s, FORMAT, known, self.clock_ms())
        self.table.write_state(self._state)


class _RecentFirst:
    """The columns of ``store``, from the statistics its rollup compiler just computed
    (``Store.recent_columns``: the same columns the store would read back) where it has them: a
    backfill's days are compiled without reading its rollups back."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def interval_columns(
        self,
        device: str,
        quantity: str,
        start_ms: int,
        end_ms: int,
        interval_s: int,
        *,
        fields: Sequence[str] = STAT_FIELDS,
    ) -> IntervalColumns:
        cols = self._store.recent_columns(device, quantity, start_ms, end_ms, interval_s, fields)
        if cols is not None:
            return cols
        return self._store.interval_columns(device, quantity, start_ms, end_ms, interval_s, fields=fields)


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline
