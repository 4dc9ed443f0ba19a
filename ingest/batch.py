"""One batch of messages and its durable write (the store side of the ingest).

:meth:`BatchWriter.write` makes everything a batch holds durable — readings with the sequence
numbers of their envelopes (one request or transaction), health, devices of gateways gone
offline — and is idempotent, so the ingest can call it
again after a failure. Store errors by kind (:mod:`storage.base`):

- :class:`StoreTransientError` (and anything unforeseen) propagates: the caller backs off and
  retries, acknowledging nothing meanwhile;
- :class:`StoreAuthError` propagates: the caller says so loudly and retries slowly;
- :class:`StoreRejectedError` is final for what it names: those readings become dead letters
  (``store_rejected``, or ``store_refused`` for single points a successful write refused), the rest
  of the batch goes on and is acknowledged. A health or sequence record refused this way is logged
  and counted, never retried.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.ingest.classify import Classified, Incoming
from ville_autonome.ingest.validation import STORE_REFUSED, STORE_REJECTED, Verdict
from ville_autonome.readings.columns import as_columns
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.readings.model import StoredReading
from ville_autonome.series.values import SequenceNote
from ville_autonome.storage.base import Encoded, Store, StoreRejectedError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Work:
    """A batch: the classified messages, and how far its durable write got."""

    messages: list[tuple[Incoming, Classified]] = field(default_factory=list)
    size: int = 0  # readings and health records gathered
    health: list[DeviceHealth] = field(default_factory=list)
    offline: list[tuple[str, int]] = field(default_factory=list)
    stats: dict[str, dict[str, float]] = field(default_factory=dict)  # gateway/<id> → its backlog
    # points the store refused: (message index, reading index, point, reason, detail)
    refused: list[tuple[int, int, StoredReading, str, str]] = field(default_factory=list)
    # the readings gathered from the messages (prepare): where each message's points start, its
    # index in the batch and verdict, and each chunk as the store encoded it
    points: Sequence[StoredReading] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    owners: list[tuple[int, Verdict]] = field(default_factory=list)
    encoded: list[Encoded] | None = None
    written_count: int = 0
    written_readings: bool = False
    written_health: bool = False
    written_offline: bool = False
    written_stats: bool = False
    health_refused: int = 0

    def add(self, item: Incoming, classified: Classified) -> None:
        self.messages.append((item, classified))
        self.size += classified.size
        self.health.extend(classified.health)
        if classified.offline:
            self.offline.append((classified.gateway, item.received_ms))
        b = classified.buffer
        if b is not None:  # the newest report of a gateway wins (docs/alerts.md: gateway backlog)
            oldest = float(b.oldest_ms if b.oldest_ms is not None else -1)
            self.stats[f"gateway/{classified.gateway}"] = {
                "buffered_envelopes": float(b.envelopes),
                "buffered_readings": float(b.readings),
                "oldest_envelope_ms": oldest,
                "reported_ms": float(classified.reported_ms),
            }


class BatchWriter:
    def __init__(self, config: PlatformConfig, store: Store, *, chunk: int, worker: str) -> None:
        self.config = config
        self.store = store
        self.chunk = chunk
        self.worker = worker

    def write(self, work: Work, now_ms: int) -> None:
        """Everything the batch must make durable; idempotent, so a retry after a failure is safe."""
        self._write_readings(work, now_ms)
        if work.health and not work.written_health:
            self._write_health(work)
        if work.offline and not work.written_offline:
            self._mark_offline(work.offline)
            work.written_offline = True
        if work.stats and not work.written_stats:
            for service, values in work.stats.items():
                self.store.write_service_stats(service, values)
            work.written_stats = True

    def prepare(self, work: Work) -> None:
        """Gather the batch's readings and have the store encode them, chunk by chunk: done by the
        thread that gathers batches, so that a writer only sends (:meth:`write` prepares a batch
        that was not)."""
        if work.encoded is not None:
            return
        parts, starts, owners, n = [], work.starts, work.owners, 0
        for m, (_, c) in enumerate(work.messages):
            if c.verdict is not None and c.verdict.points:
                starts.append(n)
                owners.append((m, c.verdict))
                parts.append(c.verdict.points)
                n += len(c.verdict.points)
        work.points = points = as_columns(parts)  # columns when every message took the fast path
        work.encoded = [self.store.encode(points[i : i + self.chunk]) for i in range(0, len(points), self.chunk)]

    def _write_readings(self, work: Work, now_ms: int) -> None:
        """The batch's readings, in chunks, the last one with the sequence numbers of its envelopes
        (one request or transaction); what the store refuses is kept in ``work.refused``."""
        if work.written_readings:
            return
        if work.encoded is None:
            self.prepare(work)
        assert work.encoded is not None
        notes = self._sequence_notes(work, now_ms)
        points, starts, owners = work.points, work.starts, work.owners
        work.refused = []
        for k, start in enumerate(range(0, max(len(points), 1), self.chunk)):
            encoded = work.encoded[k] if k < len(work.encoded) else None  # none: sequence numbers alone
            part = encoded.points if encoded is not None else []
            last = start + self.chunk >= len(points)
            for i, (reason, why) in self._write_chunk(part, notes if last else (), encoded).items():
                owner = bisect.bisect_right(starts, start + i) - 1  # the message of point start + i
                m, verdict = owners[owner]
                work.refused.append((m, verdict.indexes[start + i - starts[owner]], part[i], reason, why))
        work.written_count = len(points) - len(work.refused)
        work.written_readings = True

    def _write_chunk(
        self, part: Sequence[StoredReading], notes: Sequence[SequenceNote], encoded: Encoded | None
    ) -> dict[int, tuple[str, str]]:
        """Writes one chunk (with ``notes``); the points refused, by index in it: (dead-letter
        reason, detail)."""
        if not part and not notes:
            return {}
        try:
            result = self.store.write(part, sequences=notes, encoded=encoded)
            return {i: (STORE_REFUSED, why) for i, why in result.rejected.items()}
        except StoreRejectedError as exc:
            log.error("the store rejected %d readings for good: %s (dead-lettered)", len(part), exc)
            for n in notes:  # recorded on their own: the envelopes are settled, dead letters included
                try:
                    self.store.record_sequences(n.gateway, n.seqs, worker=n.worker, received_ms=n.received_ms)
                except StoreRejectedError as again:
                    log.error("the store rejected the sequence numbers of %s: %s", n.gateway, again)
            named = exc.rejected or dict.fromkeys(range(len(part)), str(exc))
            return {i: (STORE_REJECTED, why) for i, why in named.items()}

    def _write_health(self, work: Work) -> None:
        try:
            self.store.write_health(work.health)
        except StoreRejectedError as exc:
            work.health_refused = len(work.health)
            log.error("the store rejected %d health records for good: %s", len(work.health), exc)
        work.written_health = True

    def _sequence_notes(self, work: Work, now_ms: int) -> list[SequenceNote]:
        """The sequence numbers of the batch's envelopes, per gateway."""
        per_gateway: dict[str, list[int]] = {}
        for _, c in work.messages:
            v = c.verdict
            if v is not None and v.gateway is not None and v.seq is not None:
                per_gateway.setdefault(v.gateway, []).append(v.seq)
        return [SequenceNote(gw, tuple(seqs), self.worker, now_ms) for gw, seqs in per_gateway.items()]

    def _mark_offline(self, offline: list[tuple[str, int]]) -> None:
        known = {h.device: h for h in self.store.health()}
        records = []
        for gateway, at_ms in offline:
            devices = self.config.devices_of_gateway(gateway)
            for _, _, dev in devices:
                old = known.get(dev.id)
                records.append(
                    DeviceHealth(
                        device=dev.id,
                        gateway=gateway,
                        online=False,
                        last_seen_ms=old.last_seen_ms if old else None,
                        updated_ms=at_ms,
                        last_quality=old.last_quality if old else "timeout",
                        errors=dict(old.errors) if old else {},
                    )
                )
            if devices:
                log.warning("gateway %s is offline: %d devices marked offline", gateway, len(devices))
        if records:
            try:
                self.store.write_health(records)
            except StoreRejectedError as exc:
                log.error("the store rejected the offline records: %s", exc)
