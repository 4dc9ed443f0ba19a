"""How the store answers the ingest's writes, and what the ingest does about each kind of failure.

=====================  ======================================  ========================================
failure                retry                                   said
=====================  ======================================  ========================================
transient (down,       0.2 s, doubling to 5 s                  one error line when it starts, one
timeout, 5xx) or                                               warning when it ends; the state
unforeseen                                                     ``unreachable`` in the counters
credentials refused    1 s, doubling to 30 s                   an error line when it starts and
(401/403)                                                      **every minute** while it lasts; the
                                                               worker's health turns red
                                                               (``store_auth_failed``), counter
                                                               ``store_auth_failures``
=====================  ======================================  ========================================

Per-batch rejections are not failures of the store: :mod:`ingest.batch` dead-letters them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ville_autonome.ingest.stats import StoreState
from ville_autonome.storage.base import StoreAuthError, StoreError

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 5.0
AUTH_BACKOFF_MIN_S = 1.0
AUTH_BACKOFF_MAX_S = 30.0
AUTH_LOG_EVERY_S = 60.0


class StoreWatch:
    """Thread-safe: several writer threads report to one watch."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.state = StoreState.OK
        self.failures = 0
        self.auth_failures = 0
        self._since: float | None = None
        self._last_auth_log = 0.0
        self._lock = threading.Lock()

    def failed(self, exc: BaseException, held: int, previous_delay: float | None) -> float:
        """Record one failed write of a batch of ``held`` messages; return the delay before retrying."""
        auth = isinstance(exc, StoreAuthError)
        now = self.clock()
        with self._lock:
            self.failures += 1
            state = StoreState.AUTH_FAILED if auth else StoreState.UNREACHABLE
            changed = state is not self.state
            self.state = state
            if self._since is None:
                self._since = now
            if auth:
                self.auth_failures += 1
                loud = changed or now - self._last_auth_log >= AUTH_LOG_EVERY_S
                if loud:
                    self._last_auth_log = now
            else:
                loud = changed
        if auth:
            if loud:
                log.error(
                    "the store refuses the ingest's credentials (%s) for %.0f s: nothing is written or acknowledged "
                    "until an operator fixes services.store (token/password); %d messages held",
                    exc,
                    now - (self._since or now),
                    held,
                )
            lo, hi = AUTH_BACKOFF_MIN_S, AUTH_BACKOFF_MAX_S
        else:
            if loud:
                if isinstance(exc, StoreError):
                    log.error("store unavailable, holding %d messages unacknowledged: %s", held, exc)
                else:
                    log.error("unexpected failure writing a batch; it is retried", exc_info=exc)
            else:
                log.debug("store still unavailable: %s", exc)
            lo, hi = BACKOFF_MIN_S, BACKOFF_MAX_S
        if changed or previous_delay is None or not lo <= previous_delay <= hi:
            return lo
        return min(previous_delay * 2, hi)

    def succeeded(self) -> None:
        with self._lock:
            if self._since is None:
                return
            lasted = self.clock() - self._since
            was = self.state
            self.state = StoreState.OK
            self._since = None
        log.warning("store available again after %.1f s (%s)", lasted, was)

    @property
    def down(self) -> bool:
        return self.state is not StoreState.OK
