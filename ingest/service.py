"""The central ingest: MQTT uplink → validation → batched store writes → acknowledgements.

At-least-once end to end (docs/ingest.md):

- subscribes QoS 1 with a persistent session (stable client id, clean start off), or as a member
  of the shared subscription ``$share/<group>/{root}/v1/uplink/+`` with a session that ends with
  the connection (a departed member must not hold a share of the messages; the gateways re-send
  what was not acknowledged end to end);
- paho runs with ``manual_ack=True``: a message is acknowledged to the broker only after its
  readings are durably written, so a crash in between means re-delivery, not loss; re-delivered
  readings overwrite themselves in the store;
- ``on_message`` only enqueues; one worker thread batches by size and time, validates, writes,
  records sequence numbers, publishes dead letters and end-to-end acks, then acks the broker;
- store down: the worker keeps the batch, backs off and retries; it acks nothing meanwhile, so
  the broker stops sending once ``max_pending_messages`` are unacknowledged (MQTT 5 Receive
  Maximum) and holds the rest: bounded memory, nothing dropped, resumes by itself.

Exceptions::

    configuration.errors.ServiceUnreachableError
    └── mqttlink.client.BrokerUnreachableError   broker unreachable at start() (one line)
    storage.base.StoreError                      handled inside: unavailable → retry, rejected → dead letter
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.ingest.deadletter import encode_dead_letter
from ville_autonome.ingest.sequence_tracker import SeenSequences
from ville_autonome.ingest.validation import STORE_REFUSED, Rejection, Validator, Verdict, device_index
from ville_autonome.mqttlink.client import connect_blocking, make_client
from ville_autonome.readings.ack import Ack, encode_ack
from ville_autonome.readings.health import DeviceHealth, HealthError, decode_health
from ville_autonome.readings.model import StoredReading
from ville_autonome.readings.topics import Topics, is_valid_id
from ville_autonome.storage.base import Store, StoreError, StoreTransientError

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 5.0
COUNTERS_EVERY_S = 10.0
GAPS_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class Incoming:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_ms: int
    dup: bool


@dataclass(slots=True)
class IngestStats:
    """Counters of one ingest worker since it started (a snapshot: see :attr:`IngestService.stats`)."""

    received: int = 0  # uplink messages received
    readings_received: int = 0
    written: int = 0  # readings durably written
    rejected: dict[str, int] = field(default_factory=dict)  # reason → readings (or envelopes) dead-lettered
    acked: int = 0  # envelopes acknowledged end to end
    duplicates: int = 0  # envelopes received again (re-delivery): written again, idempotently
    gaps: dict[str, int] = field(default_factory=dict)  # gateway → envelopes missing (from the store)
    health_records: int = 0
    store_failures: int = 0  # write attempts that found the store unavailable
    pending: int = 0  # messages received and not yet acknowledged to the broker

    def as_counters(self) -> dict[str, float]:
        out = {
            "received": float(self.received),
            "readings_received": float(self.readings_received),
            "written": float(self.written),
            "acked": float(self.acked),
            "duplicates": float(self.duplicates),
            "health_records": float(self.health_records),
            "store_failures": float(self.store_failures),
            "pending": float(self.pending),
            "dead_lettered": float(sum(self.rejected.values())),
        }
        out.update({f"rejected_{k}": float(v) for k, v in self.rejected.items()})
        out.update({f"gap_{k}": float(v) for k, v in self.gaps.items()})
        return out


def _now_ms() -> int:
    return int(time.time() * 1000)


class IngestService:
    """One ingest worker. ``start()`` connects and subscribes; ``stop()`` flushes and disconnects."""

    def __init__(
        self,
        config: PlatformConfig,
        store: Store,
        *,
        client_id: str | None = None,
        shared_group: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.settings = config.services.ingest
        self.mqtt_settings = config.services.mqtt
        self.client_id = client_id or self.settings.client_id
        self.shared_group = shared_group if shared_group is not None else self.settings.shared_group
        self.topics = Topics(self.mqtt_settings.topic_root)
        self.validator = Validator(device_index(config), self.settings)
        self._queue: queue.Queue[Incoming] = queue.Queue()
        self._stop = threading.Event()
        self._stats = IngestStats()
        self._rejected: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._room = threading.Condition(self._stats_lock)  # signalled when pending messages are acknowledged
        self._seen = SeenSequences()
        self._threads: list[threading.Thread] = []
        self._ready: queue.Queue[tuple[list[Incoming], _Work] | None] = queue.Queue(maxsize=1)
        self._writer_done = threading.Event()  # set once every writer thread has ended
        self._writers_alive = 0
        self._seen_lock = threading.Lock()
        self._housekeeping = threading.Lock()  # counters and gaps: one writer at a time
        self._client: mqtt.Client | None = None
        self._last_counters = 0.0
        self._last_gaps = 0.0
        self._store_down_since: float | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def stats(self) -> IngestStats:
        with self._stats_lock:
            s = self._stats
            return IngestStats(
                received=s.received,
                readings_received=s.readings_received,
                written=s.written,
                rejected=dict(self._rejected),
                acked=s.acked,
                duplicates=s.duplicates,
                gaps=dict(s.gaps),
                health_records=s.health_records,
                store_failures=s.store_failures,
                pending=s.pending,
            )

    def start(self) -> None:
        """Connect (raises :class:`mqttlink.client.BrokerUnreachableError` with one clear line) and
        start the worker threads; subscriptions are (re)made on every connection."""
        # persistent session (clean start off), except in a shared group where a dead member's
        # session would hold its share of the group's messages until it returns (docs/ingest.md)
        persistent = not self.shared_group or self.settings.shared_persistent_session
        client = make_client(self.mqtt_settings, self.client_id, clean_start=not persistent)
        client.manual_ack_set(True)
        client.max_inflight_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        self._client = client
        self._stop.clear()
        self._writer_done.clear()
        # what a previous run left unacknowledged comes back from the broker session
        writers = self.settings.writers
        self._queue = queue.Queue()
        self._ready = queue.Queue(maxsize=writers)
        with self._stats_lock:
            self._stats.pending = 0
            self._writers_alive = writers
        self._threads = [
            threading.Thread(target=self._run_validate, name=f"ingest-validate-{self.client_id}", daemon=True),
            *(
                threading.Thread(target=self._run_write, name=f"ingest-write-{self.client_id}-{i}", daemon=True)
                for i in range(writers)
            ),
        ]
        for t in self._threads:
            t.start()
        try:
            connect_blocking(
                client,
                self.mqtt_settings,
                clean_start=not persistent,
                receive_maximum=self.settings.max_pending_messages,
            )
        except Exception:
            self._stop.set()
            for t in self._threads:
                t.join()
            self._threads = []
            raise
        log.info("ingest %s connected to %s:%s", self.client_id, self.mqtt_settings.host, self.mqtt_settings.port)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Flush what can be written, acknowledge it, disconnect; leaves no thread behind. Messages
        not written (store down) stay unacknowledged in the broker session and come back."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout_s)
        self._threads = []
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        self._publish_counters(force=True)

    # ------------------------------------------------------------------ MQTT callbacks (network thread)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            return
        uplink = (
            self.topics.shared_uplink_filter(self.shared_group) if self.shared_group else self.topics.uplink_filter()
        )
        client.subscribe(
            [(uplink, 1), (self.topics.health("+"), 1), (self.topics.status("+"), 1)],
        )

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # The broker should send no more than Receive Maximum unacknowledged messages, but Mosquitto
        # 2.0.11 releases its whole queue after the first acknowledgements that follow a backlog
        # (measured). So the bound is also enforced here: at max_pending_messages this (network)
        # thread waits for the writers, paho stops reading, and TCP leaves the rest with the broker.
        with self._room:
            while self._stats.pending >= self.settings.max_pending_messages:
                if self._stop.is_set():
                    return  # not acknowledged: the broker re-delivers it to the next session
                self._room.wait(0.5)
            self._stats.pending += 1
        self._queue.put(Incoming(msg.mid, msg.qos, msg.topic, bytes(msg.payload), _now_ms(), bool(msg.dup)))

    # ------------------------------------------------------------------ worker threads
    #
    # validate: queue of messages → decode, validate, gather a batch (by readings and time)
    # write:    one ready batch at a time → durable write (retried while the store is down) → acks
    # The two overlap: the next batch is validated while the store takes the current one.

    def _run_validate(self) -> None:
        batch: list[Incoming] = []
        work = _Work()
        deadline = 0.0
        while True:
            stopping = self._stop.is_set()
            timeout = max(0.0, deadline - time.monotonic()) if batch else 0.2
            try:
                item = self._queue.get(timeout=0 if stopping else timeout)
            except queue.Empty:
                if batch and (stopping or time.monotonic() >= deadline):
                    if not self._hand_over((batch, work)):
                        return
                    batch, work = [], _Work()
                elif stopping:
                    for _ in range(self.settings.writers):  # one end marker per writer
                        if not self._hand_over(None):
                            break
                    return
                continue
            if not batch:
                deadline = time.monotonic() + self.settings.batch_interval_s
            batch.append(item)
            self._classify(item, work)
            if work.size >= self.settings.batch_size or len(batch) >= self.settings.max_pending_messages:
                if not self._hand_over((batch, work)):
                    return
                batch, work = [], _Work()

    def _hand_over(self, item: tuple[list[Incoming], _Work] | None) -> bool:
        """Give a batch (or an end marker) to the writers; ``False`` once every writer has ended."""
        while True:
            try:
                self._ready.put(item, timeout=0.2)
                return True
            except queue.Full:
                if self._writer_done.is_set():
                    return False

    def _run_write(self) -> None:
        try:
            while True:
                try:
                    item = self._ready.get(timeout=0.5)
                except queue.Empty:
                    self._publish_counters()
                    continue
                if item is None:
                    return
                if not self._process(*item):
                    return  # store down while stopping: the rest stays unacknowledged, for re-delivery
                self._publish_counters()
        finally:
            with self._stats_lock:
                self._writers_alive -= 1
                if self._writers_alive <= 0:
                    self._writer_done.set()

    def _process(self, batch: list[Incoming], work: _Work) -> bool:
        """Write one validated batch durably (retrying while the store is down) unless the service
        stops first, then acknowledge it. Returns whether it was written and acknowledged."""
        backoff = BACKOFF_MIN_S
        while True:
            try:
                self._write(work)
                break
            except Exception as exc:
                if not isinstance(exc, StoreError):
                    log.exception("unexpected failure writing a batch; it is retried")
                with self._stats_lock:
                    self._stats.store_failures += 1
                if self._store_down_since is None:
                    self._store_down_since = time.monotonic()
                    log.error("store unavailable, holding %d messages unacknowledged: %s", len(batch), exc)
                else:
                    log.debug("store still unavailable: %s", exc)
                if self._stop.wait(backoff):
                    return False
                backoff = min(backoff * 2, BACKOFF_MAX_S)
        if self._store_down_since is not None:
            log.warning("store available again after %.1f s", time.monotonic() - self._store_down_since)
            self._store_down_since = None
        self._finish(batch, work)
        return True

    def _classify(self, item: Incoming, work: _Work) -> None:
        parts = item.topic.split("/")
        kind = parts[2] if len(parts) == 4 else ""
        gateway = self.topics.gateway_of(item.topic) or ""
        if kind == "uplink":
            verdict = self.validator.check(gateway, item.payload, item.received_ms)
            work.uplinks.append((item, gateway, verdict))
            work.size += len(verdict.points)
            with self._stats_lock:
                self._stats.received += 1
                self._stats.readings_received += len(verdict.points) + sum(
                    1 for r in verdict.rejections if r.index is not None
                )
            return
        if kind == "health":
            try:
                records = decode_health(item.payload)
            except HealthError as exc:
                log.warning("health from %r ignored: %s", gateway, exc)
                return
            kept = [h for h in records if h.gateway == gateway and is_valid_id(h.device)]
            work.health.extend(kept)
            work.size += len(kept)
        elif kind == "status" and is_valid_id(gateway) and item.payload.strip().lower() == b"offline":
            work.offline.append((gateway, item.received_ms))

    def _write(self, work: _Work) -> None:
        """Everything the batch must make durable; idempotent, so a retry after a failure is safe."""
        points: list[StoredReading] = []
        owners: list[tuple[int, int]] = []  # per point: (uplink index, reading index in the envelope)
        for u, (_, _, verdict) in enumerate(work.uplinks):
            for p, index in zip(verdict.points, verdict.indexes, strict=True):
                points.append(p)
                owners.append((u, index))
        if not work.written_readings and points:
            refused: dict[int, str] = {}
            size = self.settings.batch_size
            for start in range(0, len(points), size):
                result = self.store.write(points[start : start + size])
                refused.update({start + i: reason for i, reason in result.rejected.items()})
            work.refused = [(*owners[i], points[i], reason) for i, reason in refused.items()]
            work.written_count = len(points) - len(refused)
            work.written_readings = True
        if work.health and not work.written_health:
            self.store.write_health(work.health)
            work.written_health = True
        if work.offline and not work.written_offline:
            self._mark_offline(work.offline)
            work.written_offline = True
        per_gateway: dict[str, list[int]] = {}
        for _, _, verdict in work.uplinks:
            if verdict.gateway is not None and verdict.seq is not None:
                per_gateway.setdefault(verdict.gateway, []).append(verdict.seq)
        for gw, seqs in per_gateway.items():
            if gw not in work.recorded:
                self.store.record_sequences(gw, seqs, worker=self.client_id, received_ms=_now_ms())
                work.recorded.add(gw)

    def _mark_offline(self, offline: list[tuple[str, int]]) -> None:
        known = {h.device: h for h in self.store.health()}
        records = []
        for gateway, at_ms in offline:
            for _, _, dev in self.config.devices_of_gateway(gateway):
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
            log.warning("gateway %s is offline: %d devices marked offline", gateway, len(records))
        if records:
            self.store.write_health(records)

    def _finish(self, batch: list[Incoming], work: _Work) -> None:
        """After the durable write: dead letters, end-to-end acks, then broker acks."""
        client = self._client
        acks: dict[str, list[int]] = {}
        rejected: Counter[str] = Counter()
        duplicates = 0
        letters: list[tuple[str, bytes]] = []
        refused_by_uplink: dict[int, list[tuple[int, StoredReading, str]]] = {}
        for u, index, point, reason in work.refused:
            refused_by_uplink.setdefault(u, []).append((index, point, reason))
        for u, (item, topic_gw, verdict) in enumerate(work.uplinks):
            rejections = list(verdict.rejections)
            for index, point, reason in refused_by_uplink.get(u, []):
                reading = {"device": point.device, "quantity": point.quantity, "ts": point.ts_ms, "value": point.value}
                rejections.append(Rejection(STORE_REFUSED, reason, index, reading))
            for rej in rejections:
                rejected[rej.reason] += 1
                log.warning(
                    "dead letter: gateway=%s seq=%s reason=%s index=%s: %s",
                    topic_gw or "?",
                    verdict.seq,
                    rej.reason,
                    rej.index,
                    rej.detail,
                )
                if is_valid_id(topic_gw):
                    payload = encode_dead_letter(topic_gw, verdict.seq, rej, item.payload, item.received_ms)
                    letters.append((self.topics.deadletter(topic_gw), payload))
            if verdict.gateway is not None and verdict.seq is not None:
                acks.setdefault(verdict.gateway, []).append(verdict.seq)
                with self._seen_lock:
                    new = self._seen.add(verdict.gateway, verdict.seq)
                if not new or item.dup:
                    duplicates += 1
        # counted before anything is published, so that whoever sees an ack also sees the counts
        with self._stats_lock:
            self._stats.written += work.written_count
            self._stats.acked += sum(len(s) for s in acks.values())
            self._stats.duplicates += duplicates
            self._stats.health_records += len(work.health)
            self._stats.pending -= len(batch)
            self._rejected.update(rejected)
            self._room.notify_all()
        if client is not None:
            for topic, payload in letters:
                client.publish(topic, payload, qos=1)
            for gw, seqs in acks.items():
                client.publish(self.topics.ack(gw), encode_ack(Ack(gw, tuple(sorted(seqs)))), qos=1)
            for item in batch:
                if item.qos > 0:
                    client.ack(item.mid, item.qos)

    def _publish_counters(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and self._store_down_since is not None:
            return
        if not self._housekeeping.acquire(blocking=False):
            return  # another writer is at it
        try:
            if force or now - self._last_gaps >= GAPS_EVERY_S:
                self._last_gaps = now
                gaps: Counter[str] = Counter()
                for g in self.store.gaps():
                    gaps[g.gateway] += g.missing
                with self._stats_lock:
                    self._stats.gaps = dict(gaps)
            if force or now - self._last_counters >= COUNTERS_EVERY_S:
                self._last_counters = now
                self.store.write_counters(f"ingest/{self.client_id}", self.stats.as_counters())
        except StoreTransientError as exc:
            log.debug("counters not published: %s", exc)
        except StoreError as exc:
            log.warning("counters not published: %s", exc)
        finally:
            self._housekeeping.release()


@dataclass(slots=True)
class _Work:
    uplinks: list[tuple[Incoming, str, Verdict]] = field(default_factory=list)
    size: int = 0  # readings and health records gathered
    health: list[DeviceHealth] = field(default_factory=list)
    offline: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[int, int, StoredReading, str]] = field(default_factory=list)
    written_count: int = 0
    written_readings: bool = False
    written_health: bool = False
    written_offline: bool = False
    recorded: set[str] = field(default_factory=set)
