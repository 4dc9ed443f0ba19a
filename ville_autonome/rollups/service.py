"""The rollup compiler service (``ville-autonome rollups``; a thread of ``ville-autonome demo``).

Ingest workers only write raw points and dirty marks; this service is the one writer of rollups.
Every ``services.store.rollup_refresh_s`` it runs one pass of :meth:`storage.base.Store.refresh_rollups`
(the compile itself is backend code in ``storage``); a pass that used its whole budget is
followed at once by the next (a backfill's backlog), so that a stop waits for one chunk at most.
Its counters go to the store as ``rollups/<name>`` for the API.

Safe to run twice by mistake: each compiler recomputes rollups from raw points and writes them
whole, so two of them only double the database's work (docs/storage.md, "Rollups"). With a
:class:`rollups.balances.BalanceCompiler` (``balances=``), it also compiles the per-device day
balances: from each chunk of compiled buckets before their marks are consumed, and the history
not compiled yet a slice after each pass.

Exceptions: none leave :meth:`RollupCompiler.run`. A :class:`storage.base.StoreError` fails the
pass (logged once loudly, then quietly until a pass succeeds) and the next pass retries; so does
any other exception (logged with its traceback: a bug).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ville_autonome.rollups.balances import BalanceCompiler
from ville_autonome.series.values import RollupKey
from ville_autonome.storage.base import Store, StoreError

log = logging.getLogger(__name__)

PASS_BUDGET_S = 5.0  # a pass stops after its first chunk past this; a backlog goes on at once
MIN_INTERVAL_S = 0.2


@dataclass(slots=True)
class CompilerStats:
    passes: int = 0
    failures: int = 0
    rollups_written: int = 0  # 15-min rollups (re)written
    last_pass_s: float = 0.0
    balance_days_written: int = 0

    def as_stats(self) -> dict[str, float]:
        return {
            "passes": self.passes,
            "failures": self.failures,
            "rollups_written": self.rollups_written,
            "last_pass_s": self.last_pass_s,
            "balance_days_written": self.balance_days_written,
        }


class RollupCompiler:
    """Passes of ``store.refresh_rollups`` every ``interval_s``, until told to stop."""

    def __init__(
        self,
        store: Store,
        *,
        interval_s: float,
        name: str = "rollups",
        on_compiled: Callable[[Sequence[RollupKey]], None] | None = None,
        balances: BalanceCompiler | None = None,
    ) -> None:
        self.store = store
        self.interval_s = max(interval_s, MIN_INTERVAL_S)
        self.name = name
        self.on_compiled = on_compiled
        self.balances = balances
        self.stats = CompilerStats()
        self._failing_since: float | None = None

    def run_pass(self, budget_s: float | None = PASS_BUDGET_S) -> bool:
        """One pass; returns whether it ended within its budget (False: a backlog is left, or it failed)."""
        t0 = time.monotonic()
        try:
            written = self.store.refresh_rollups(budget_s=budget_s, on_compiled=self._compiled)
            left = None if budget_s is None else max(budget_s - (time.monotonic() - t0), 0.0)
            caught_up = self.balances.catch_up(left) if self.balances is not None else True
        except Exception as exc:
            self.stats.failures += 1
            if self._failing_since is None:
                self._failing_since = t0
                if isinstance(exc, StoreError):
                    log.error("rollups not compiled (retried every pass): %s", exc)
                else:
                    log.exception("rollups not compiled: unexpected failure (retried every pass)")
            else:
                log.debug("rollups still not compiled: %s", exc)
            return False
        elapsed = time.monotonic() - t0
        if self._failing_since is not None:
            log.warning("rollups compiled again after %.0f s of failures", t0 - self._failing_since)
            self._failing_since = None
        self.stats.passes += 1
        self.stats.rollups_written += written
        self.stats.last_pass_s = elapsed
        if self.balances is not None:
            self.stats.balance_days_written = self.balances.days_written
        if written:
            log.debug("%d rollups compiled in %.2f s", written, elapsed)
        return (budget_s is None or elapsed < budget_s) and caught_up

    def _compiled(self, keys: Sequence[RollupKey]) -> None:
        if self.balances is not None:
            self.balances.on_compiled(keys)
        if self.on_compiled is not None:
            self.on_compiled(keys)

    def run(self, stop: threading.Event) -> None:
        """Compile until ``stop`` is set: a pass, the counters, then a pause unless a backlog is left."""
        log.info("rollup compiler %s: a pass every %.1f s", self.name, self.interval_s)
        while not stop.is_set():
            done = self.run_pass()
            self._publish_counters()
            if done or self._failing_since is not None:
                stop.wait(self.interval_s)

    def _publish_counters(self) -> None:
        try:
            self.store.write_service_stats(f"rollups/{self.name}", self.stats.as_stats())
        except StoreError as exc:
            log.debug("rollup counters not published: %s", exc)
