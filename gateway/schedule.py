"""When each Modbus device is polled within its interval (its phase). Pure: no I/O, no clock.

Devices behind one connection are read one request at a time (``modbus_source.Connection``): if
they are all due at the same moment, the last one's request waits for every other answer on its
connection, and its lateness at send grows with the connection's round trip times the number
of devices in front of it. So the devices of one connection are spread evenly over the
interval, and connections interleaved, every device in its own slot: with 100 endpoints × 10
units at 1 s, the devices of one endpoint are 100 ms apart and a poll starts every millisecond.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def spread_phases(connections: Sequence[str]) -> list[float]:
    """The phase of each device, as a fraction of its poll interval in [0, 1), given the key of
    its connection: the n-th device of a connection of k at n/k, ties between connections broken
    by their order, then every device given its own slot of 1/len(connections)."""
    sizes = Counter(connections)
    order = {key: i for i, key in enumerate(dict.fromkeys(connections))}
    seen: Counter[str] = Counter()
    targets = []
    for device, key in enumerate(connections):
        targets.append((seen[key] / sizes[key], order[key], device))
        seen[key] += 1
    phases = [0.0] * len(connections)
    for slot, (_, _, device) in enumerate(sorted(targets)):
        phases[device] = slot / len(connections)
    return phases
