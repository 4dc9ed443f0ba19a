"""One evaluator at a time: a lease in the alarm log, so that a second ``ville-autonome alerts``
started by mistake (or a standby on purpose) never evaluates or notifies beside the first.

Every evaluator process writes a **claim** (holder, ``since``, ``expires``) each time it ticks and
reads everyone's. The **candidate** is the live claim with the smallest ``(since, holder)``. A
process acts (evaluates, notifies) only once it has been the candidate in every read for
``settle_ms`` — so a claim written by another process within that time is always seen first.
A newcomer takes a ``since`` after every live claim it can see, so it never overtakes the one
that leads; a process whose own claim expired (it was frozen, or cut from the store, for longer
than the lease's ``ttl``) is a newcomer again. A leader that stops expires its claim at once,
and the standby takes over after ``settle_ms``; one that dies is replaced ``ttl`` later.

Nothing here needs the clocks of two hosts to agree: ``since`` values are only compared, and a
newcomer's is taken after those it read. The window left is a newcomer whose write lands more
than ``settle_ms`` after the read it chose its ``since`` from: :meth:`Lease.tick` re-reads and
chooses again when its own write took more than half that (docs/alerts.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from ville_autonome.journals.alarm_records import AlarmLog, LeaseClaim

log = logging.getLogger(__name__)


def candidate(claims: Sequence[LeaseClaim]) -> str | None:
    """The holder that should lead among live ``claims``."""
    return min(claims, key=lambda c: (c.since_ms, c.holder)).holder if claims else None


def newcomer_since(claims: Sequence[LeaseClaim], now_ms: int, me: str) -> int:
    """A newcomer's ``since``: now, and after every live claim of others."""
    others = [c.since_ms for c in claims if c.holder != me]
    return max([now_ms, *(s + 1 for s in others)])


class Lease:
    def __init__(
        self,
        alarm_log: AlarmLog,
        holder: str,
        *,
        ttl_ms: int,
        settle_ms: int,
        clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log, self.holder = alarm_log, holder
        self.ttl_ms, self.settle_ms = ttl_ms, settle_ms
        self._clock, self._monotonic = clock, monotonic
        self._since: int | None = None
        self._renewed_ms: int | None = None
        self._candidate_since: float | None = None
        self.leader: str | None = None  # the candidate at the last read (for logs and the status)

    def _choose_since(self) -> None:
        for _ in range(3):
            t0 = self._monotonic()
            now = self._clock()
            self._since = newcomer_since(self.log.claims(now_ms=now), now, self.holder)
            self._write(now)
            if (self._monotonic() - t0) * 1000 <= self.settle_ms / 2:
                return
            log.warning("lease: claiming took longer than %.1f s; choosing again", self.settle_ms / 2000)

    def _write(self, now: int) -> None:
        assert self._since is not None
        self.log.claim(LeaseClaim(self.holder, self._since, now, now + self.ttl_ms))
        self._renewed_ms = now

    def tick(self) -> bool:
        """Renew this process's claim and read everyone's: ``True`` when it may act now.
        Store errors propagate (the caller retries at its next tick; its claim may expire)."""
        now = self._clock()
        if self._since is None or self._renewed_ms is None or now - self._renewed_ms >= self.ttl_ms:
            if self._since is not None:
                log.warning("lease: this evaluator's claim expired; claiming again after the others")
            self._candidate_since = None
            self._choose_since()
        else:
            self._write(now)
        claims = self.log.claims(now_ms=self._clock())
        self.leader = candidate(claims)
        if self.leader != self.holder:
            self._candidate_since = None
            return False
        if self._candidate_since is None:
            self._candidate_since = self._monotonic()
        return (self._monotonic() - self._candidate_since) * 1000 >= self.settle_ms

    def release(self) -> None:
        """Expire this process's claim now (a clean stop): a standby takes over at once."""
        if self._since is not None:
            now = self._clock()
            self.log.claim(LeaseClaim(self.holder, self._since, now, now))
        self._since = self._renewed_ms = self._candidate_since = None
