"""Log lines that a sender controls, at a bounded rate (a flood of bad messages is not a flood of logs).

:class:`RateLimitedLog` lets through at most ``burst`` lines per ``window_s`` for each key (a
reason code, say); what it holds back is counted and reported by the next line it lets through
(``… and 19,998 similar lines suppressed``). Thread-safe; the clock is passed in for tests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Window:
    start: float
    lines: int = 0
    suppressed: int = 0


class RateLimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 10,
        window_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1024,
    ) -> None:
        self.logger = logger
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self.max_keys = max_keys
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def log(self, level: int, key: str, msg: str, *args: object) -> bool:
        """Log ``msg % args`` unless ``key`` already had ``burst`` lines in this window; return
        whether it was logged."""
        now = self.clock()
        with self._lock:
            w = self._windows.get(key)
            if w is None or now - w.start >= self.window_s:
                held = w.suppressed if w is not None else 0
                if w is None and len(self._windows) >= self.max_keys:
                    self._windows.clear()  # keys come from the wire: bound them
                w = self._windows[key] = _Window(now)
            else:
                held = 0
            if w.lines >= self.burst:
                w.suppressed += 1
                return False
            w.lines += 1
        if held:
            msg += " (and %d similar lines suppressed in the previous %.0f s)"
            args = (*args, held, self.window_s)
        self.logger.log(level, msg, *args)
        return True

    def warning(self, key: str, msg: str, *args: object) -> bool:
        return self.log(logging.WARNING, key, msg, *args)
