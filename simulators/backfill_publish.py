"""Publish a backfill into the uplink, at least once end to end, like a gateway.

:func:`publish_backfill` wraps :func:`simulators.backfill.generate`'s readings in uplink envelopes
(:mod:`readings.envelope`, one random ``epoch`` per run) on ``Topics(root).uplink(gateway_id)`` and
keeps each envelope until the ingest's **end-to-end acknowledgement** on
``Topics(root).ack(gateway_id)`` (a broker PUBACK is not enough: an ingest worker of a shared group
that dies takes what it held with it, and nobody else re-sends it). At most ``max_inflight``
envelopes wait for their acknowledgement; one not acknowledged within ``ack_timeout_s`` is
published again, up to ``max_sends`` times. The run ends when every envelope is acknowledged, or
raises naming what is missing; ``stop`` (Ctrl-C) ends it within a fraction of a second, saying how
far it got. The ingest writes re-sent readings idempotently.

Errors::

    configuration.errors.StartupError
    └── ServiceUnreachableError / mqttlink BrokerUnreachableError   the broker does not answer
    ValueError                                                      a bad period, step or batch
    simulators.errors.SimulatorError
    └── BackfillError (RuntimeError)
        ├── BackfillIncompleteError                                 envelopes never acknowledged (named)
        └── BackfillInterruptedError                                stopped; how far it got
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.mqttlink.client import connect_blocking, make_client
from ville_autonome.readings.ack import AckError, decode_ack
from ville_autonome.readings.envelope import Envelope, encode
from ville_autonome.readings.model import Reading
from ville_autonome.readings.topics import Topics
from ville_autonome.simulators.backfill import count_readings, generate
from ville_autonome.simulators.errors import SimulatorError

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (readings acknowledged, readings in the period)
WAIT_S = 0.1  # how often the publisher looks at acknowledgements, time-outs and ``stop``


class BackfillError(SimulatorError, RuntimeError):
    """The backfill did not complete."""


class BackfillIncompleteError(BackfillError):
    """Some envelopes were never acknowledged by the ingest; the message names them."""

    def __init__(self, message: str, missing: list[int]) -> None:
        super().__init__(message)
        self.missing = missing


class BackfillInterruptedError(BackfillError):
    """Stopped on request; the message says how far it got."""


@dataclass(slots=True)
class _Pending:
    body: bytes
    readings: int
    first_ts_ms: int
    last_ts_ms: int
    sent_at: float
    sends: int = 1


class _Acks:
    """Sequence numbers acknowledged for this run's (gateway, epoch), filled on paho's thread."""

    def __init__(self, gateway: str, epoch: int) -> None:
        self.gateway, self.epoch = gateway, epoch
        self.cond = threading.Condition()
        self.seqs: set[int] = set()
        self.subscribed = threading.Event()

    def on_message(self, payload: bytes) -> None:
        try:
            ack = decode_ack(payload)
        except AckError as exc:
            log.warning("backfill: unusable acknowledgement ignored: %s", exc)
            return
        if ack.gateway == self.gateway and ack.epoch == self.epoch:
            with self.cond:
                self.seqs.update(ack.seqs)
                self.cond.notify_all()

    def take(self) -> set[int]:
        with self.cond:
            out, self.seqs = self.seqs, set()
            return out

    def wait(self, timeout_s: float) -> None:
        with self.cond:
            if not self.seqs:
                self.cond.wait(timeout_s)


class _Publisher:
    def __init__(self, client: mqtt.Client, topic: str, acks: _Acks, total: int, progress: ProgressFn | None) -> None:
        self.client, self.topic, self.acks = client, topic, acks
        self.total, self.progress = total, progress
        self.pending: dict[int, _Pending] = {}
        self.acked_readings = 0
        self.acked_envelopes = 0
        self.sent_readings = 0
        self.resends = 0
        self.given_up: dict[int, _Pending] = {}

    def send(self, seq: int, p: _Pending) -> None:
        self.client.publish(self.topic, p.body, qos=1)
        p.sent_at = time.monotonic()
        self.pending[seq] = p

    def collect(self, ack_timeout_s: float, max_sends: int) -> None:
        """Take in acknowledgements; re-send (or give up on) what timed out."""
        for seq in self.acks.take():
            p = self.pending.pop(seq, None) or self.given_up.pop(seq, None)
            if p is not None:
                self.acked_readings += p.readings
                self.acked_envelopes += 1
                if self.progress is not None:
                    self.progress(self.acked_readings, self.total)
        now = time.monotonic()
        for seq, p in list(self.pending.items()):
            if now - p.sent_at < ack_timeout_s:
                continue
            if p.sends >= max_sends:
                self.given_up[seq] = self.pending.pop(seq)
                log.warning("backfill: envelope %d not acknowledged after %d sends", seq, p.sends)
                continue
            p.sends += 1
            self.resends += 1
            self.send(seq, p)

    def where(self) -> str:
        """How far the run got, in one line."""
        open_ = sorted({**self.pending, **self.given_up}.items())
        text = f"{self.acked_readings} of {self.total} readings acknowledged ({self.acked_envelopes} envelopes)"
        if open_:
            first = min(p.first_ts_ms for _, p in open_)
            text += f"; {len(open_)} envelopes sent and not acknowledged, from {_iso(first)}"
        return text


def publish_backfill(
    config: PlatformConfig,
    start_ms: int,
    end_ms: int,
    *,
    step_s: int = 900,
    gateway_id: str = "backfill",
    batch: int = 5000,
    progress: ProgressFn | None = None,
    seed: int | None = None,
    max_inflight: int = 20,
    seq_start: int | None = None,
    ack_timeout_s: float = 30.0,
    max_sends: int = 5,
    stop: threading.Event | None = None,
) -> int:
    """Publish the period's readings; return how many envelopes were acknowledged (all of them).

    ``seq_start`` defaults to the current epoch milliseconds, so a second run's sequence numbers
    continue above the first run's (the ingest sees a gap, not a replay).
    """
    if batch < 1 or max_inflight < 1 or max_sends < 1:
        raise ValueError("batch, max_inflight and max_sends must be ≥ 1")
    stop = stop or threading.Event()
    generated = generate(config, start_ms, end_ms, step_s, seed)
    first = next(generated, None)  # generate() checks the period before its first reading
    readings = itertools.chain([first] if first is not None else [], generated)
    settings = config.services.mqtt
    topics = Topics(settings.topic_root)
    epoch = secrets.randbits(62) + 1
    acks = _Acks(gateway_id, epoch)
    client = make_client(settings, f"va-backfill-{gateway_id}-{secrets.token_hex(3)}")
    ack_topic = topics.ack(gateway_id)

    def on_connect(c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not getattr(reason, "is_failure", False):
            c.subscribe(ack_topic, qos=1)  # again after a reconnection

    client.on_connect = on_connect
    client.on_subscribe = lambda *_a: acks.subscribed.set()
    client.on_message = lambda _c, _u, msg: acks.on_message(bytes(msg.payload))
    connect_blocking(client, settings)
    pub = _Publisher(
        client, topics.uplink(gateway_id), acks, count_readings(config, start_ms, end_ms, step_s), progress
    )
    seq = seq_start if seq_start is not None else int(time.time() * 1000)
    first_seq = seq
    try:
        _wait(lambda: acks.subscribed.is_set(), stop, pub, "subscribing to the acknowledgements")
        chunk: list[Reading] = []

        def flush() -> None:
            nonlocal seq
            _wait(lambda: len(pub.pending) < max_inflight, stop, pub, "", ack_timeout_s, max_sends)
            env = Envelope(gateway_id, seq, int(time.time() * 1000), tuple(chunk), epoch=epoch)
            ts = [r.ts_ms for r in chunk]
            pub.send(seq, _Pending(encode(env), len(chunk), min(ts), max(ts), 0.0))
            pub.sent_readings += len(chunk)
            seq += 1
            chunk.clear()

        for i, reading in enumerate(readings):
            chunk.append(reading)
            if len(chunk) >= batch:
                flush()
            elif i % 1000 == 0 and stop.is_set():
                raise BackfillInterruptedError(f"backfill interrupted: {pub.where()}")
        if chunk:
            flush()
        _wait(lambda: not pub.pending, stop, pub, "", ack_timeout_s, max_sends)
        if pub.given_up:
            missing = sorted(pub.given_up)
            spans = ", ".join(
                f"seq {s} ({_iso(pub.given_up[s].first_ts_ms)}..{_iso(pub.given_up[s].last_ts_ms)})"
                for s in missing[:10]
            )
            raise BackfillIncompleteError(
                f"backfill incomplete: {len(missing)} envelopes ({sum(pub.given_up[s].readings for s in missing)} "
                f"readings) never acknowledged by the ingest after {max_sends} sends: {spans}"
                + (" …" if len(missing) > 10 else ""),
                missing,
            )
    finally:
        client.disconnect()
        client.loop_stop()
    log.info(
        "backfill: %d readings in %d envelopes (seq %d…%d, epoch %d) acknowledged on %s; %d re-sent",
        pub.acked_readings,
        pub.acked_envelopes,
        first_seq,
        seq - 1,
        epoch,
        pub.topic,
        pub.resends,
    )
    return pub.acked_envelopes


def _wait(
    done: Callable[[], bool],
    stop: threading.Event,
    pub: _Publisher,
    what: str,
    ack_timeout_s: float = 30.0,
    max_sends: int = 5,
) -> None:
    """Wait until ``done()`` while collecting acknowledgements; ``stop`` interrupts at once."""
    deadline = time.monotonic() + ack_timeout_s
    while True:
        if what == "":
            pub.collect(ack_timeout_s, max_sends)
        if done():
            return
        if stop.is_set():
            raise BackfillInterruptedError(f"backfill interrupted: {pub.where()}")
        if what and time.monotonic() >= deadline:
            raise BackfillError(f"backfill: no answer from the broker while {what} within {ack_timeout_s:g} s")
        pub.acks.wait(WAIT_S)


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))
