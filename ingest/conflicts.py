"""Same (gateway, epoch, seq), other content: the first envelope wins (pure, bounded memory).

A gateway numbers its envelopes and re-sends them byte for byte (its buffer keeps the encoded
body; the backfill keeps what it sent), so a second envelope with the same gateway, epoch and
sequence number but another body is not a re-delivery: a buggy or compromised gateway, or a buffer
rolled back without a new epoch. It is refused whole as ``seq_conflict`` and the first one's
readings stay as written.

The ledger remembers a 16-byte digest per envelope for the last ``max_entries`` envelopes this
worker saw (oldest forgotten first). With several workers in a shared group each sees its share:
a conflicting envelope routed to another worker than the first is not detected there (its
readings then overwrite the first ones; docs/security.md names this limit).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

Key = tuple[str, int, int]  # (gateway, epoch, seq)


def digest(payload: bytes) -> bytes:
    """16 bytes of SHA-256, which CPUs with SHA extensions compute in hardware (a 99-kB envelope:
    75 µs of CPU against 198 µs for BLAKE2b, measured on the project's 2-core machine)."""
    return hashlib.sha256(payload).digest()[:16]


class ContentLedger:
    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._seen: OrderedDict[Key, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def conflicts(self, gateway: str, epoch: int, seq: int, body_digest: bytes) -> bool:
        """Remember this envelope's digest; ``True`` if another body already holds its key."""
        key = (gateway, epoch, seq)
        with self._lock:
            first = self._seen.get(key)
            if first is None:
                self._seen[key] = body_digest
                if len(self._seen) > self.max_entries:
                    self._seen.popitem(last=False)
                return False
            return first != body_digest
