"""End-to-end acknowledgements: the ingest tells a gateway which envelopes are durably stored.

Published by the ingest on ``{root}/v1/ack/{gateway}`` (QoS 1) after each durable write; only
this frees the gateway's store-and-forward buffer (a broker PUBACK does not: the broker may lose
its queue in a crash). Payload::

    {"schema": 1, "gateway": "gw-saint-leu", "epoch": 7318, "seqs": [41, 42, 43]}

``epoch`` is the envelopes' own (:mod:`readings.envelope`; absent or 0 for a gateway that sends
none): a gateway frees an envelope only for an acknowledgement of its epoch, so that an
acknowledgement from before a power cut never frees a new envelope with a reused ``seq``.

With several ingest workers, each acknowledges the envelopes it wrote. An envelope whose readings
were all rejected (dead-lettered) is acknowledged too: it was handled and must not be re-sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ville_autonome.readings.wire_limits import MAX_ITEMS, WireLimitError, is_int, is_text, load_json

ACK_SCHEMA = 1


class AckError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Ack:
    gateway: str
    seqs: tuple[int, ...]
    epoch: int = 0


def encode_ack(ack: Ack) -> bytes:
    doc: dict[str, object] = {"schema": ACK_SCHEMA, "gateway": ack.gateway}
    if ack.epoch:
        doc["epoch"] = ack.epoch
    doc["seqs"] = list(ack.seqs)
    return json.dumps(doc).encode()


def decode_ack(payload: bytes) -> Ack:
    try:
        doc = load_json(payload)
    except WireLimitError as exc:
        raise AckError(str(exc)) from None
    if not isinstance(doc, dict) or doc.get("schema") != ACK_SCHEMA:
        raise AckError("not an acknowledgement of schema 1")
    gateway, seqs, epoch = doc.get("gateway"), doc.get("seqs"), doc.get("epoch", 0)
    if not is_text(gateway) or not isinstance(seqs, list) or len(seqs) > MAX_ITEMS:
        raise AckError("'gateway' must be a string and 'seqs' a list")
    if not all(is_int(s) for s in seqs):
        raise AckError("'seqs' must hold non-negative integers")
    if not is_int(epoch):
        raise AckError("'epoch' must be a non-negative integer")
    return Ack(gateway=gateway, seqs=tuple(seqs), epoch=epoch)
