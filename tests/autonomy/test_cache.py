"""The energy cache: entries expire, the least recently used go first."""

from __future__ import annotations

from ville_autonome.autonomy_queries import TtlCache


def test_entries_expire_after_their_ttl() -> None:
    now = [0.0]
    cache: TtlCache[int] = TtlCache(ttl_s=10, clock=lambda: now[0])
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get_or_compute("k", compute) == 1
    assert cache.get_or_compute("k", compute) == 1
    now[0] = 10.5
    assert cache.get_or_compute("k", compute) == 2
    assert (cache.hits, cache.misses) == (1, 2)


def test_least_recently_used_entries_are_dropped() -> None:
    cache: TtlCache[str] = TtlCache(max_entries=2)
    cache.get_or_compute("a", lambda: "a")
    cache.get_or_compute("b", lambda: "b")
    cache.get_or_compute("a", lambda: "a")
    cache.get_or_compute("c", lambda: "c")
    assert cache.get_or_compute("c", lambda: "x") == "c"
    assert cache.get_or_compute("b", lambda: "recomputed") == "recomputed"  # b was the least recent
