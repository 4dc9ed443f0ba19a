"""One MQTT message → what the ingest must store, refuse and acknowledge (pure, and guarded).

:meth:`Classifier.classify` is the whole decode/validate path of the centre: whatever the topic,
payload or retain flag, it returns a :class:`Classified` and never raises. An unforeseen failure
inside it (a decoder bug) becomes a refusal ``undecodable`` naming the exception, so that one
message can never stop a worker; ``tests/ingest/test_fuzz.py`` fuzzes it.

- ``{root}/v1/uplink/{gw}``: the envelope's verdict (:mod:`ingest.validation`); an envelope with
  the same (gateway, epoch, seq) as an earlier one but another body is refused whole as
  ``seq_conflict`` (:mod:`ingest.conflicts`) and still acknowledged: the first one stays.
- ``{root}/v1/health/{gw}``: the device records the configuration places behind ``gw``; the
  others are refused (``unknown_device``, ``foreign_device``, ``bad_health_record``), a document
  that cannot be read or names another gateway is refused whole (``bad_health``,
  ``gateway_mismatch``).
- ``{root}/v1/status/{gw}`` = ``offline``: the gateway's devices go offline.

A retained message is handled exactly like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ville_autonome.configuration.services import IngestSettings
from ville_autonome.ingest.catalog import DeviceCatalog
from ville_autonome.ingest.conflicts import ContentLedger, digest
from ville_autonome.ingest.validation import (
    FOREIGN_DEVICE,
    GATEWAY_MISMATCH,
    SEQ_CONFLICT,
    UNDECODABLE,
    UNKNOWN_DEVICE,
    Rejection,
    Validator,
    Verdict,
)
from ville_autonome.readings.health import BufferReport, DeviceHealth, HealthError, parse_health
from ville_autonome.readings.topics import VERSION, Topics, is_valid_id

BAD_HEALTH = "bad_health"
BAD_HEALTH_RECORD = "bad_health_record"


@dataclass(frozen=True, slots=True)
class Incoming:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_ms: int
    dup: bool = False
    retain: bool = False


@dataclass(slots=True)
class Refusal:
    """The refused part of one message: it becomes one dead letter."""

    kind: str  # "uplink" or "health"
    gateway: str  # the topic's gateway ("" when the topic has none)
    seq: int | None
    epoch: int
    rejections: list[Rejection]


@dataclass(slots=True)
class Classified:
    """What one message asks of the ingest."""

    kind: str  # "uplink", "health", "status" or "" (a topic this worker does not use)
    gateway: str
    verdict: Verdict | None = None  # uplink only
    health: list[DeviceHealth] = field(default_factory=list)
    offline: bool = False
    refusal: Refusal | None = None  # health (and anything refused whole by the guard)
    buffer: BufferReport | None = None  # health: the gateway's backlog, stored as its stats
    reported_ms: int = 0  # health: the document's time

    @property
    def size(self) -> int:
        return (len(self.verdict.points) if self.verdict is not None else 0) + len(self.health)


class Classifier:
    def __init__(self, catalog: DeviceCatalog, settings: IngestSettings, topics: Topics) -> None:
        self.catalog = catalog
        self.topics = topics
        self.validator = Validator(catalog, settings)
        self.ledger = ContentLedger()

    def classify(self, item: Incoming) -> Classified:
        """Never raises: an unforeseen failure is a refusal of the whole message."""
        kind, gateway = self._route(item.topic)
        try:
            if kind == "uplink":
                return self._uplink(gateway, item)
            if kind == "health":
                return self._health(gateway, item.payload)
            if kind == "status":
                offline = is_valid_id(gateway) and item.payload.strip().lower() == b"offline"
                return Classified(kind, gateway, offline=offline)
            return Classified("", gateway)
        except Exception as exc:  # the guard: a decoder bug must cost one message, not the worker
            detail = f"{type(exc).__name__} while decoding: {str(exc)[:200]}"
            rejection = Rejection(UNDECODABLE, detail)
            if kind == "uplink":
                return Classified(kind, gateway, verdict=Verdict(None, None, rejections=[rejection]))
            return Classified(kind, gateway, refusal=Refusal(kind or "health", gateway, None, 0, [rejection]))

    def _route(self, topic: str) -> tuple[str, str]:
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != self.topics.root or parts[1] != VERSION:
            return "", ""
        return parts[2], parts[3]

    def _uplink(self, gateway: str, item: Incoming) -> Classified:
        verdict = self.validator.check(gateway, item.payload, item.received_ms)
        gw, seq = verdict.gateway, verdict.seq
        if gw is not None and seq is not None and self.ledger.conflicts(gw, verdict.epoch, seq, digest(item.payload)):
            detail = (
                f"envelope {gw} seq {seq} (epoch {verdict.epoch}) was received before with other content;"
                " the first one is kept"
            )
            verdict = Verdict(gw, seq, verdict.epoch, rejections=[Rejection(SEQ_CONFLICT, detail)])
        return Classified("uplink", gateway, verdict=verdict)

    def _health(self, gateway: str, payload: bytes) -> Classified:
        try:
            doc = parse_health(payload)
        except HealthError as exc:
            return Classified(
                "health", gateway, refusal=Refusal("health", gateway, None, 0, [Rejection(BAD_HEALTH, str(exc))])
            )
        if doc.gateway != gateway:
            detail = f"health of gateway {doc.gateway!r} published on the topic of {gateway!r}"
            refusal = Refusal("health", gateway, None, 0, [Rejection(GATEWAY_MISMATCH, detail)])
            return Classified("health", gateway, refusal=refusal)
        rejections = [Rejection(BAD_HEALTH_RECORD, p.detail, p.index, p.record) for p in doc.problems]
        allowed = self.catalog.allowed(gateway)
        kept: list[DeviceHealth] = []
        for i, h in zip(doc.indexes, doc.devices, strict=True):
            if h.device in allowed:
                kept.append(h)
                continue
            if h.device in self.catalog.devices:
                reason, detail = FOREIGN_DEVICE, f"device {h.device!r} is not behind this gateway in the configuration"
            else:
                reason, detail = UNKNOWN_DEVICE, f"device {h.device!r} is not in the configuration"
            rejections.append(Rejection(reason, detail, i, {"device": h.device}))
        if doc.buffer_problem is not None:
            rejections.append(Rejection(BAD_HEALTH_RECORD, doc.buffer_problem, None, {"buffer": "as received"}))
        refused = Refusal("health", gateway, None, 0, rejections) if rejections else None
        buffer = doc.buffer if allowed else None  # a gateway of the configuration only
        return Classified("health", gateway, health=kept, refusal=refused, buffer=buffer, reported_ms=doc.ts_ms)
