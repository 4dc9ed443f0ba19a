"""A small time-bounded cache of per-device interval energies, shared by the API's requests.

A city-year at 15 min reads about a million interval aggregates from the store; a dashboard or a
report asks for the same period several times in a row. Entries live ``ttl_s`` seconds (data
arriving later shows up after at most that long) and the least recently used are dropped beyond
``max_entries``. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(
        self, ttl_s: float = 60.0, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        now = self._clock()
        with self._lock:
            found = self._items.get(key)
            if found is not None and found[0] > now:
                self._items.move_to_end(key)
                self.hits += 1
                return found[1]
            self.misses += 1
        value = compute()  # outside the lock: concurrent misses may compute twice, never block
        with self._lock:
            self._items[key] = (now + self.ttl_s, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
