"""Dead letters: what the ingest refused and why, one message per refused uplink or health message.

Published on ``{root}/v1/deadletter/{gateway}`` (QoS 1). Payload (JSON, schema 2)::

    {"schema": 2, "kind": "uplink", "gateway": "gw-saint-leu", "seq": 42, "epoch": 0,
     "received_ms": 1763762400000,
     "reasons": {"unknown_device": 2, "out_of_range": 1},
     "rejected": [{"index": 3, "reason": "unknown_device",
                   "detail": "device 'x' is not in the configuration", "reading": {...as received...}},
                  ...],
     "omitted": 0}

``kind`` is ``uplink`` or ``health``; ``reasons`` counts every refused reading (or health record)
by reason; ``rejected`` lists the first ``MAX_LISTED`` of them with their detail and the item as
received (cut to ``ITEM_EXCERPT_CHARS`` of JSON when larger); ``omitted`` says how many more
there were. A message refused whole (unreadable, beyond a limit, wrong gateway, …) has one entry
with ``"index": null`` and ``"payload"``: its first ``PAYLOAD_EXCERPT_BYTES`` bytes as text (it may
not be JSON at all). An envelope of 20,000 refused readings is one dead letter, not 20,000.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ville_autonome.ingest.validation import Rejection

DEADLETTER_SCHEMA = 2
PAYLOAD_EXCERPT_BYTES = 512
ITEM_EXCERPT_CHARS = 512
MAX_LISTED = 100


def _item(value: object) -> object:
    """The refused item as received, or its JSON cut to ``ITEM_EXCERPT_CHARS`` characters."""
    try:
        text = json.dumps(value, separators=(",", ":"), default=str)
    except (ValueError, TypeError, RecursionError):
        return repr(value)[:ITEM_EXCERPT_CHARS]
    if len(text) <= ITEM_EXCERPT_CHARS:
        return value
    return text[:ITEM_EXCERPT_CHARS] + "…"


def encode_dead_letter(
    kind: str,
    gateway: str,
    seq: int | None,
    rejections: Sequence[Rejection],
    payload: bytes,
    received_ms: int,
    *,
    epoch: int = 0,
) -> bytes:
    """One dead letter for every refusal of one message (``rejections`` non-empty)."""
    listed: list[dict[str, Any]] = []
    for rej in rejections[:MAX_LISTED]:
        entry: dict[str, Any] = {"index": rej.index, "reason": rej.reason, "detail": rej.detail[:500]}
        if rej.index is None:
            entry["payload"] = payload[:PAYLOAD_EXCERPT_BYTES].decode("utf-8", errors="replace")
        else:
            entry["reading" if kind == "uplink" else "record"] = _item(rej.reading)
        listed.append(entry)
    doc: dict[str, Any] = {
        "schema": DEADLETTER_SCHEMA,
        "kind": kind,
        "gateway": gateway,
        "seq": seq,
        "epoch": epoch,
        "received_ms": received_ms,
        "reasons": dict(Counter(r.reason for r in rejections)),
        "rejected": listed,
        "omitted": max(0, len(rejections) - MAX_LISTED),
    }
    # a raw reading may hold NaN/inf that came in as JSON extensions: keep them readable
    return json.dumps(doc, separators=(",", ":"), default=str).encode()
