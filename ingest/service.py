"""The central ingest: MQTT uplink → validation → batched store writes → acknowledgements.

At-least-once end to end (docs/ingest.md):

- subscribes QoS 1 with a persistent session (stable client id, clean start off), or as a member
  of the shared subscription ``$share/<group>/{root}/v1/uplink/+`` with a session that ends with
  the connection (a departed member must not hold a share of the messages; the gateways re-send
  what was not acknowledged end to end);
- paho runs with ``manual_ack=True``: a message is acknowledged to the broker only after its
  readings are durably written, so a crash in between means re-delivery, not loss; re-delivered
  readings overwrite themselves in the store;
- ``on_message`` only enqueues; a validate thread classifies each message under a guard
  (:mod:`ingest.classify`), gathers batches and has the store encode them; writer threads send
  each batch durably (:mod:`ingest.batch`), publish its dead letters and end-to-end acks
  (:mod:`ingest.settle`), then ack the broker;
- store failing: the writer keeps the batch and retries (:mod:`ingest.store_watch`); it acks
  nothing meanwhile, so the broker stops sending at ``max_pending_messages`` unacknowledged
  (MQTT 5 Receive Maximum) and the ingest stops reading at that many or ``max_pending_bytes``:
  bounded memory, nothing dropped, resumes by itself;
- ``stop()`` (SIGTERM) ends every thread promptly, even mid-retry: what is not written stays
  unacknowledged in the broker session and comes back.

Exceptions::

    configuration.errors.ServiceUnreachableError
    └── mqttlink.client.BrokerUnreachableError   broker unreachable at start() (one line)
    storage.base.StoreError                      handled inside (ingest.store_watch, ingest.batch)
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections import Counter
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.ingest.batch import BatchWriter, Work
from ville_autonome.ingest.catalog import DeviceCatalog
from ville_autonome.ingest.classify import Classifier, Incoming
from ville_autonome.ingest.lograte import RateLimitedLog
from ville_autonome.ingest.sequence_tracker import SeenSequences
from ville_autonome.ingest.settle import settle
from ville_autonome.ingest.stats import IngestStats, health_problems, write_status_file
from ville_autonome.ingest.store_watch import StoreWatch
from ville_autonome.mqttlink.client import client_id_collision, connect_blocking, make_client
from ville_autonome.readings.topics import Topics
from ville_autonome.storage.base import Store, StoreError, StoreTransientError

log = logging.getLogger(__name__)

STATS_EVERY_S = 10.0
GAPS_EVERY_S = STATUS_EVERY_S = 5.0


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


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
        catalog = DeviceCatalog.from_config(config, trusted=self.settings.backfill_gateways)
        self.classifier = Classifier(catalog, self.settings, self.topics)
        self.writer = BatchWriter(config, store, chunk=self.settings.batch_size, worker=self.client_id)
        self.watch = StoreWatch()
        self._dead_log = RateLimitedLog(log)
        self._queue: queue.Queue[Incoming] = queue.Queue()
        self._stop = threading.Event()
        self._stats = IngestStats()
        self._rejected: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._room = threading.Condition(self._stats_lock)  # signalled when pending messages are acknowledged
        self._seen = SeenSequences()
        self._threads: list[threading.Thread] = []
        self._ready: queue.Queue[tuple[list[Incoming], Work] | None] = queue.Queue(maxsize=1)
        self._writer_done = threading.Event()  # set once every writer thread has ended
        self._validator_done = threading.Event()
        self._writers_alive = 0
        self._seen_lock = threading.Lock()
        self._housekeeping = threading.Lock()  # stats and health: one writer at a time
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._last_stats = self._last_gaps = self._last_status = 0.0
        self._status_problems: list[str] | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def stats(self) -> IngestStats:
        with self._stats_lock:
            s = self._stats
            return dataclasses.replace(
                s,
                rejected=dict(self._rejected),
                gaps=dict(s.gaps),
                store_failures=self.watch.failures,
                store_auth_failures=self.watch.auth_failures,
                store_state=self.watch.state,
                mqtt_collision=client_id_collision(self._client),
            )

    def health_problems(self) -> list[str]:
        """Why this worker is unhealthy now (empty when healthy); see ``ingest.stats``."""
        return health_problems(self.stats, connected=self._connected.is_set())

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
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        self._stop.clear()
        self._writer_done.clear()
        self._validator_done.clear()
        # what a previous run left unacknowledged comes back from the broker session
        writers = self.settings.writers
        self._queue = queue.Queue()
        self._ready = queue.Queue(maxsize=writers)
        with self._stats_lock:
            self._stats.pending = self._stats.pending_bytes = 0
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
        not written (store down) stay unacknowledged in the broker session and come back. Prompt
        even while the store is failing: a writer waiting to retry gives up at once."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in self._threads if t.is_alive()]
        if stuck:
            log.error("threads still busy after %.0f s (left to end with the process): %s", timeout_s, stuck)
        self._threads = []
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        self._connected.clear()
        if not self.watch.down:
            self._publish_stats(force=True)
        self._report_status(force=True)

    # ------------------------------------------------------------------ MQTT callbacks (network thread)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            return
        self._connected.set()
        uplink = (
            self.topics.shared_uplink_filter(self.shared_group) if self.shared_group else self.topics.uplink_filter()
        )
        client.subscribe([(uplink, 1), (self.topics.health("+"), 1), (self.topics.status("+"), 1)])

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # The broker should send no more than Receive Maximum unacknowledged messages, but Mosquitto
        # 2.0.11 releases its whole queue after the first acknowledgements that follow a backlog
        # (measured). So the bounds hold here too: at max_pending_messages, or max_pending_bytes of
        # payloads (one message always passes), this (network) thread waits for the writers, paho
        # stops reading, and TCP leaves the rest with the broker.
        size, s, limits = len(msg.payload), self._stats, self.settings
        with self._room:
            while s.pending >= limits.max_pending_messages or (
                s.pending and s.pending_bytes + size > limits.max_pending_bytes
            ):
                if self._stop.is_set():
                    return  # not acknowledged: the broker re-delivers it to the next session
                self._room.wait(0.5)
            s.pending += 1
            s.pending_bytes += size
        item = Incoming(msg.mid, msg.qos, msg.topic, bytes(msg.payload), _now_ms(), bool(msg.dup), bool(msg.retain))
        self._queue.put(item)

    # ------------------------------------------------------------------ worker threads
    # validate: messages → classify (guarded), gather a batch (by readings and time), encode it
    # write:    one ready batch at a time → durable write (retried while the store fails) → acks;
    #           the next batch is validated while the store takes the current one

    def _run_validate(self) -> None:
        try:
            self._validate_loop()
        except BaseException:
            log.critical("the validate thread failed; the worker stops taking messages", exc_info=True)
            raise
        finally:
            self._validator_done.set()

    def _validate_loop(self) -> None:
        batch: list[Incoming] = []
        work = Work()
        deadline = 0.0
        held = 0  # the batch's payload bytes
        while True:
            stopping = self._stop.is_set()
            timeout = max(0.0, deadline - time.monotonic()) if batch else 0.2
            try:
                item = self._queue.get(timeout=0 if stopping else timeout)
            except queue.Empty:
                if batch and (stopping or time.monotonic() >= deadline):
                    if not self._hand_over((batch, work)):
                        return
                    batch, work, held = [], Work(), 0
                elif stopping:
                    for _ in range(self.settings.writers):  # one end marker per writer
                        if not self._hand_over(None):
                            break
                    return
                continue
            if not batch:
                deadline = time.monotonic() + self.settings.batch_interval_s
            batch.append(item)
            held += len(item.payload)
            self._classify(item, work)
            cap = self.settings  # a batch holding all that the network thread may take is cut at once
            if work.size >= cap.batch_size or len(batch) >= cap.max_pending_messages or held >= cap.max_pending_bytes:
                if not self._hand_over((batch, work)):
                    return
                batch, work, held = [], Work(), 0

    def _hand_over(self, item: tuple[list[Incoming], Work] | None) -> bool:
        """Give a batch (encoded here) or an end marker to the writers; ``False`` once all have ended."""
        if item is not None:
            self.writer.prepare(item[1])
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
                    if self._stop.is_set() and self._validator_done.is_set():
                        return  # no end marker will come
                    self._publish_stats()
                    continue
                if item is None:
                    return
                if not self._process(*item):
                    return  # the store failing while stopping: the rest stays unacknowledged, for re-delivery
                self._publish_stats()
        finally:
            with self._stats_lock:
                self._writers_alive -= 1
                if self._writers_alive <= 0:
                    self._writer_done.set()

    def _process(self, batch: list[Incoming], work: Work) -> bool:
        """Write one validated batch durably (retrying while the store fails) unless the service
        stops first, then acknowledge it. Returns whether it was written and acknowledged."""
        delay: float | None = None
        while True:
            try:
                self.writer.write(work, _now_ms())
                break
            except Exception as exc:  # by kind in StoreWatch; a bug in a write is retried, not fatal
                delay = self.watch.failed(exc, len(batch), delay)
                self._report_status()
                if self._stop.wait(delay):
                    return False
        if self.watch.down:
            self.watch.succeeded()
            self._report_status(force=True)
        self._finish(batch, work)
        return True

    def _classify(self, item: Incoming, work: Work) -> None:
        c = self.classifier.classify(item)
        work.add(item, c)
        if c.kind == "uplink" and c.verdict is not None:
            v = c.verdict
            with self._stats_lock:
                self._stats.received += 1
                self._stats.readings_received += len(v.points) + sum(1 for r in v.rejections if r.index is not None)

    def _finish(self, batch: list[Incoming], work: Work) -> None:
        """After the durable write: dead letters, end-to-end acks, then broker acks."""
        client = self._client
        with self._seen_lock:
            out = settle(work, self.topics, self._seen, self._dead_log)
        # counted before anything is published, so that whoever sees an ack also sees the counts
        with self._stats_lock:
            self._stats.written += work.written_count
            self._stats.acked += out.acked
            self._stats.duplicates += out.duplicates
            self._stats.dead_letters += out.dead_letters
            self._stats.health_records += len(work.health) - work.health_refused
            self._stats.pending -= len(batch)
            self._stats.pending_bytes -= sum(len(item.payload) for item in batch)
            self._rejected.update(out.rejected)
            self._room.notify_all()
        if client is not None:
            for topic, payload in out.letters:
                client.publish(topic, payload, qos=1)
            for topic, payload in out.acks:
                client.publish(topic, payload, qos=1)
            for item in batch:
                if item.qos > 0:
                    client.ack(item.mid, item.qos)

    # ------------------------------------------------------------------ housekeeping (writer threads)

    def _report_status(self, *, force: bool = False) -> None:
        """Keep ``services.ingest.status_file`` (the container's health check) up to date."""
        path = self.settings.status_file
        if path is None:
            return
        now = time.monotonic()
        problems = self.health_problems()
        if not force and problems == self._status_problems and now - self._last_status < STATUS_EVERY_S:
            return
        self._status_problems, self._last_status = problems, now
        try:
            write_status_file(path, problems, self.stats)
        except OSError as exc:
            log.warning("status file %s not written: %s", path, exc)

    def _publish_stats(self, *, force: bool = False) -> None:
        now = time.monotonic()
        self._report_status()
        if not force and self.watch.down:
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
            if force or now - self._last_stats >= STATS_EVERY_S:
                self._last_stats = now
                self.store.write_service_stats(f"ingest/{self.client_id}", self.stats.as_stats())
        except StoreTransientError as exc:
            log.debug("stats not published: %s", exc)
        except StoreError as exc:
            log.warning("stats not published: %s", exc)
        finally:
            self._housekeeping.release()
