"""End-to-end acknowledgements: the ingest tells a gateway which envelopes are durably stored.

Published by the ingest on ``{root}/v1/ack/{gateway}`` (QoS 1) after each durable write; only
this frees the gateway's store-and-forward buffer (a broker PUBACK does not: the broker may lose
its queue in a crash). Payload::

    {"schema": 1, "gateway": "gw-saint-leu", "seqs": [41, 42, 43]}

With several ingest workers, each acknowledges the envelopes it wrote. An envelope whose readings
were all rejected (dead-lettered) is acknowledged too: it was handled and must not be re-sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

ACK_SCHEMA = 1


class AckError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Ack:
    gateway: str
    seqs: tuple[int, ...]


def encode_ack(ack: Ack) -> bytes:
    return json.dumps({"schema": ACK_SCHEMA, "gateway": ack.gateway, "seqs": list(ack.seqs)}).encode()


def decode_ack(payload: bytes) -> Ack:
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AckError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("schema") != ACK_SCHEMA:
        raise AckError("not an acknowledgement of schema 1")
    gateway, seqs = doc.get("gateway"), doc.get("seqs")
    if not isinstance(gateway, str) or not isinstance(seqs, list):
        raise AckError("'gateway' must be a string and 'seqs' a list")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seqs):
        raise AckError("'seqs' must hold non-negative integers")
    return Ack(gateway=gateway, seqs=tuple(seqs))
