"""After a batch's durable write: its dead letters, its end-to-end acknowledgements, its counts (pure).

One dead letter per refused message (:mod:`ingest.deadletter`), one log line per dead letter at a
bounded rate (:mod:`ingest.lograte`); one acknowledgement per (gateway, epoch) listing the
sequence numbers stored. An envelope whose readings were all refused is acknowledged too (it was
handled); one refused whole for its header is not (its gateway and seq cannot be trusted). A
message whose topic gateway is not a slug is counted and logged but not republished.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from ville_autonome.ingest.batch import Work
from ville_autonome.ingest.classify import Refusal
from ville_autonome.ingest.deadletter import encode_dead_letter
from ville_autonome.ingest.lograte import RateLimitedLog
from ville_autonome.ingest.sequence_tracker import SeenSequences
from ville_autonome.ingest.validation import Rejection
from ville_autonome.readings.ack import Ack, encode_ack
from ville_autonome.readings.topics import Topics, is_valid_id

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Settlement:
    letters: list[tuple[str, bytes]] = field(default_factory=list)  # (topic, payload)
    acks: list[tuple[str, bytes]] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)  # reason → refused readings/records/messages
    dead_letters: int = 0
    acked: int = 0
    duplicates: int = 0


def settle(work: Work, topics: Topics, seen: SeenSequences, dead_log: RateLimitedLog) -> Settlement:
    out = Settlement()
    acks: dict[tuple[str, int], list[int]] = {}
    store_refused: dict[int, list[Rejection]] = {}
    for m, index, point, reason, detail in work.refused:
        reading = {"device": point.device, "quantity": point.quantity, "ts": point.ts_ms, "value": point.value}
        store_refused.setdefault(m, []).append(Rejection(reason, detail, index, reading))
    for m, (item, c) in enumerate(work.messages):
        v = c.verdict
        if v is not None:
            rejections = v.rejections + store_refused.get(m, [])
            if rejections:
                _letter(
                    out,
                    Refusal("uplink", c.gateway, v.seq, v.epoch, rejections),
                    item.payload,
                    item.received_ms,
                    topics,
                    dead_log,
                )
            if v.gateway is not None and v.seq is not None:
                acks.setdefault((v.gateway, v.epoch), []).append(v.seq)
                # by gateway only: epochs come from the wire, and the statistic must stay bounded
                if not seen.add(v.gateway, v.seq) or item.dup:
                    out.duplicates += 1
        if c.refusal is not None:
            _letter(out, c.refusal, item.payload, item.received_ms, topics, dead_log)
    for (gw, epoch), seqs in acks.items():
        out.acks.append((topics.ack(gw), encode_ack(Ack(gw, tuple(sorted(seqs)), epoch))))
        out.acked += len(seqs)
    return out


def _letter(
    out: Settlement, refusal: Refusal, payload: bytes, received_ms: int, topics: Topics, dead_log: RateLimitedLog
) -> None:
    reasons = Counter(r.reason for r in refusal.rejections)
    out.rejected.update(reasons)
    out.dead_letters += 1
    first = refusal.rejections[0]
    summary = ", ".join(f"{k}: {n}" for k, n in reasons.most_common())
    dead_log.warning(
        first.reason,
        "dead letter: %s gateway=%s seq=%s: %d refused (%s); first: %s",
        refusal.kind,
        refusal.gateway[:80] or "?",
        refusal.seq,
        len(refusal.rejections),
        summary,
        first.detail[:300],
    )
    if is_valid_id(refusal.gateway):
        letter = encode_dead_letter(
            refusal.kind, refusal.gateway, refusal.seq, refusal.rejections, payload, received_ms, epoch=refusal.epoch
        )
        out.letters.append((topics.deadletter(refusal.gateway), letter))
