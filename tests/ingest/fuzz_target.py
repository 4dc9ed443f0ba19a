"""The fuzz target over the centre's whole decode/validate path (``ingest.classify`` and what
follows from its verdict: dead letters and acknowledgements), shared by the hypothesis tests and
the atheris run (tests/ingest/test_fuzz.py).

Input: one byte choosing the topic (uplink, health, status, another topic; retained or not),
then the payload. The property: nothing raises; every uplink item ends as a stored point or a
rejection with a named reason (each index exactly once), or the message is refused whole with a
named reason; the guard's ``undecodable`` (a decoder bug) never shows; every dead letter encodes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ville_autonome.configuration.services import IngestSettings
from ville_autonome.ingest import validation as v
from ville_autonome.ingest.batch import Work
from ville_autonome.ingest.catalog import QUANTITY_LIMITS, DeviceCatalog
from ville_autonome.ingest.classify import BAD_HEALTH, BAD_HEALTH_RECORD, Classifier, Incoming
from ville_autonome.ingest.lograte import RateLimitedLog
from ville_autonome.ingest.sequence_tracker import SeenSequences
from ville_autonome.ingest.settle import settle
from ville_autonome.readings.model import DeviceContext
from ville_autonome.readings.topics import Topics

ROOT = "fz"
GATEWAY = "gw-a"
NOW = 1_763_762_400_000
CORPUS = Path(__file__).with_name("fuzz_corpus")
TOPICS = Topics(ROOT)
KINDS = ("uplink", "health", "status", "other")
NAMED = {
    v.NOT_AN_ENVELOPE,
    v.OVERSIZE,
    v.BAD_GATEWAY_ID,
    v.GATEWAY_MISMATCH,
    v.BAD_READING,
    v.UNKNOWN_DEVICE,
    v.FOREIGN_DEVICE,
    v.UNKNOWN_QUANTITY,
    v.UNIT_MISMATCH,
    v.FUTURE_TIMESTAMP,
    v.PAST_TIMESTAMP,
    v.OUT_OF_RANGE,
    v.SEQ_CONFLICT,
    BAD_HEALTH,
    BAD_HEALTH_RECORD,
}

_DEVICES = {
    "m1": DeviceContext("d", "s1", "m1", "grid", ""),
    "pv1": DeviceContext("d", "s1", "pv1", "production", "pv"),
    "b2": DeviceContext("d", "s2", "b2", "storage", ""),
}
_CATALOG = DeviceCatalog(
    _DEVICES, {"m1": GATEWAY, "pv1": GATEWAY, "b2": "gw-b"}, dict.fromkeys(_DEVICES, QUANTITY_LIMITS)
)
CLASSIFIER = Classifier(_CATALOG, IngestSettings(max_future_s=300, max_past_days=3650), TOPICS)
_LOG = RateLimitedLog(logging.getLogger("fuzz"), burst=0)


def message(kind: str, payload: bytes, *, retain: bool = False, gateway: str = GATEWAY) -> Incoming:
    topic = {
        "uplink": TOPICS.uplink(gateway),
        "health": TOPICS.health(gateway),
        "status": TOPICS.status(gateway),
    }.get(kind, f"{ROOT}/v1/elsewhere/{gateway}")
    return Incoming(1, 1, topic, payload, NOW, retain=retain)


def split(data: bytes) -> tuple[str, bool, bytes]:
    """The atheris/corpus input format: a selector byte, then the payload."""
    if not data:
        return "uplink", False, b""
    return KINDS[data[0] % 4], bool(data[0] & 4), data[1:]


def check_message(item: Incoming) -> None:
    """Classify ``item`` and check the property (raises AssertionError when it does not hold)."""
    c = CLASSIFIER.classify(item)
    if c.verdict is not None:
        verdict = c.verdict
        reasons = {r.reason for r in verdict.rejections}
        assert reasons <= NAMED, reasons
        whole = [r for r in verdict.rejections if r.index is None]
        if whole:
            assert len(verdict.rejections) == 1, verdict
            assert not verdict.points, verdict
        else:
            indexes = verdict.indexes + [r.index for r in verdict.rejections if r.index is not None]
            assert sorted(indexes) == list(range(len(indexes))), "each reading exactly once"
            assert len(verdict.points) == len(verdict.indexes)
    if c.refusal is not None:
        reasons = {r.reason for r in c.refusal.rejections}
        assert reasons <= NAMED, reasons
    work = Work()
    work.add(item, c)
    out = settle(work, TOPICS, SeenSequences(), _LOG)
    for _topic, letter in out.letters:
        doc = json.loads(letter)
        assert doc["schema"] == 2
        assert sum(doc["reasons"].values()) >= 1
        assert len(letter) < 200_000, "a dead letter stays bounded"


def one_input(data: bytes) -> None:
    kind, retain, payload = split(data)
    check_message(message(kind, payload, retain=retain))
