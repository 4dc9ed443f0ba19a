"""Envelope sequence numbers this worker has seen, per gateway, as merged ranges (pure).

Used to count re-deliveries (duplicates). Memory is bounded: past ``max_ranges`` ranges for a
gateway (a worker of a shared subscription sees every other envelope), the oldest are forgotten;
a forgotten envelope seen again is then not counted as a duplicate — it is still written
idempotently, so only the statistic is affected. Gaps are computed by the store over the union of
every worker's records (:meth:`storage.base.Store.gaps`), not here.
"""

from __future__ import annotations

import bisect


class SeenSequences:
    def __init__(self, max_ranges: int = 4096) -> None:
        self.max_ranges = max_ranges
        self._ranges: dict[str, list[list[int]]] = {}

    def add(self, gateway: str, seq: int) -> bool:
        """Remember ``seq``; return ``True`` if it had not been seen before."""
        ranges = self._ranges.setdefault(gateway, [])
        i = bisect.bisect_right(ranges, [seq, float("inf")])  # first range starting after seq
        if i > 0 and ranges[i - 1][0] <= seq <= ranges[i - 1][1]:
            return False
        joins_left = i > 0 and ranges[i - 1][1] == seq - 1
        joins_right = i < len(ranges) and ranges[i][0] == seq + 1
        if joins_left and joins_right:
            ranges[i - 1][1] = ranges[i][1]
            del ranges[i]
        elif joins_left:
            ranges[i - 1][1] = seq
        elif joins_right:
            ranges[i][0] = seq
        else:
            ranges.insert(i, [seq, seq])
            if len(ranges) > self.max_ranges:
                del ranges[0]
        return True

    def ranges(self, gateway: str) -> list[tuple[int, int]]:
        return [(a, b) for a, b in self._ranges.get(gateway, [])]
