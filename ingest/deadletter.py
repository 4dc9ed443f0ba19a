"""Dead-letter messages: what the ingest refused and why (``{root}/v1/deadletter/{gateway}``, QoS 1).

Payload (JSON)::

    {"schema": 1, "gateway": "gw-saint-leu", "seq": 42, "reason": "unknown_device",
     "detail": "device 'x' is not in the configuration", "index": 3,
     "reading": {...as received...}, "received_ms": 1763762400000}

A whole-envelope rejection has ``"index": null`` and ``"payload"``: the first bytes of the
message, decoded as UTF-8 with replacement (it may not be JSON at all).
"""

from __future__ import annotations

import json
from typing import Any

from ville_autonome.ingest.validation import Rejection

DEADLETTER_SCHEMA = 1
PAYLOAD_EXCERPT_BYTES = 512


def encode_dead_letter(gateway: str, seq: int | None, rejection: Rejection, payload: bytes, received_ms: int) -> bytes:
    doc: dict[str, Any] = {
        "schema": DEADLETTER_SCHEMA,
        "gateway": gateway,
        "seq": seq,
        "reason": rejection.reason,
        "detail": rejection.detail,
        "index": rejection.index,
        "received_ms": received_ms,
    }
    if rejection.index is None:
        doc["payload"] = payload[:PAYLOAD_EXCERPT_BYTES].decode("utf-8", errors="replace")
    else:
        doc["reading"] = rejection.reading
    # a raw reading may hold NaN/inf that came in as JSON extensions: keep them readable
    return json.dumps(doc, separators=(",", ":"), default=str).encode()


def decode_dead_letter(payload: bytes) -> dict[str, Any]:
    doc = json.loads(payload)
    if not isinstance(doc, dict) or doc.get("schema") != DEADLETTER_SCHEMA:
        raise ValueError("not a dead letter of schema 1")
    return doc
