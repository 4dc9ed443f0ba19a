"""The gateway service: acquisition → durable buffer → MQTT uplink, for one gateway id.

::

    pollers (one task per device) ──readings──▶ pending (memory, ≤ publish_interval_s)
        ──seal──▶ EnvelopeBuffer (SQLite WAL, seq persisted) ──publish QoS 1──▶ broker
        ◀──ack (readings.ack on Topics.ack(gw))── ingest, after its durable write: frees the buffer

Publishing: a newly sealed ("live") envelope is published at once; everything else stored and
not in flight (the backlog after an outage or a restart) is published in sequence order at
``replay_rate_per_s`` a second, at most ``max_inflight`` unacknowledged; one not acknowledged
within ``ack_timeout_s`` is published again. A (re)connection makes every unacknowledged envelope
backlog again (QoS 1 + end-to-end acks: at least once; the ingest dedupes by gateway and seq).

Errors: see :mod:`gateway.errors` (the tree is drawn there).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from pathlib import Path

from ville_autonome.configuration.topology import GatewayConfig, PlatformConfig
from ville_autonome.gateway.buffer import EnvelopeBuffer
from ville_autonome.gateway.command_relays import RelayStates
from ville_autonome.gateway.commands import CommandRunner
from ville_autonome.gateway.errors import BufferFileError, GatewayConfigError, PayloadError
from ville_autonome.gateway.modbus_source import (
    Connection,
    DeviceState,
    ModbusPoller,
    connection_key,
    make_modbus_client,
)
from ville_autonome.gateway.mqtt_source import MqttInputs
from ville_autonome.gateway.planning import device_profiles
from ville_autonome.gateway.schedule import spread_phases
from ville_autonome.gateway.stats import GatewayStats, write_gateway_status
from ville_autonome.gateway.uplink import Uplink
from ville_autonome.readings.ack import AckError, decode_ack
from ville_autonome.readings.health import BufferReport, DeviceHealth, encode_health
from ville_autonome.readings.model import Reading
from ville_autonome.readings.topics import Topics

log = logging.getLogger(__name__)

TICK_S = 0.05  # publisher cadence (backlog pacing resolution)
MAX_PENDING_READINGS = 1_000_000  # in memory while the buffer file cannot be written


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class GatewayService:
    """Runs one gateway of the configuration until ``stop`` is set."""

    def __init__(self, config: PlatformConfig, gateway_id: str, *, buffer_path: str | Path | None = None) -> None:
        gw = config.gateway(gateway_id)
        if gw is None:
            known = ", ".join(g.id for g in config.gateways) or "none"
            raise GatewayConfigError([f"unknown gateway {gateway_id!r} (known: {known})"])
        self.config = config
        self.gw: GatewayConfig = gw
        self.gateway_id = gateway_id
        self.settings = config.services.mqtt
        self.buffer_path = Path(buffer_path or gw.buffer_path or f"var/{gateway_id}.buffer.sqlite")
        self.stats = GatewayStats()
        self.devices = [(d, d.role) for _, _, d in config.devices_of_gateway(gateway_id)]
        for dev, _ in self.devices:
            self.stats.devices[dev.id] = DeviceState(dev.id)
        self.profiles, problems = device_profiles([d for d, _ in self.devices], config.profiles_dirs)  # None: SunSpec
        if problems:
            raise GatewayConfigError(problems)
        self._pending: list[Reading] = []
        self._inflight: dict[int, float] = {}
        self._live: list[int] = []
        self._cursor = 0
        self._tokens = 0.0
        self._last_pump = 0.0
        self._mqtt = MqttInputs(dev for dev, _ in self.devices if dev.protocol == "mqtt")
        # MQTT devices with an output: commands switch them (gateway.command_relays)
        self._relays = RelayStates({d.id: r for d, _ in self.devices if (r := d.mqtt_relay()) is not None})
        self.buffer: EnvelopeBuffer | None = None
        self.uplink: Uplink | None = None
        self.commands: CommandRunner | None = None  # the downlink (gateway.commands), once running
        self._command_topic = Topics(self.settings.topic_root).command(gateway_id)
        self._closed = False

    # ------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event, *, freeze_gc: bool = False) -> None:
        """Run until ``stop`` is set. ``freeze_gc``: the service owns its process (the gateway
        command, the benchmark): once set up, what lives as long as it leaves the collector's scans."""
        loop = asyncio.get_running_loop()
        self.buffer = EnvelopeBuffer(
            self.buffer_path,
            self.gateway_id,
            max_bytes=self.gw.buffer_max_bytes,
            max_age_ms=int(self.gw.buffer_max_age_days * 86_400_000),
        )
        self._sync_buffer_stats()
        if self.buffer.envelope_count:
            log.info(
                "gateway %s: %d envelopes (%d readings) waiting in the buffer from a previous run",
                self.gateway_id,
                self.buffer.envelope_count,
                self.buffer.reading_count,
            )
        self.uplink = Uplink(
            self.settings,
            self.gateway_id,
            loop,
            on_message=self._on_message,
            on_connected=self._on_connected,
            device_topics=[*self._mqtt.topics, *self._relays.topics, self._command_topic],
        )
        connections: dict[str, Connection] = {}
        pollers: list[ModbusPoller] = []
        modbus = [(d, r) for d, r in self.devices if d.protocol != "mqtt"]
        phases = spread_phases([connection_key(d) for d, _ in modbus])  # one connection's devices apart
        for (dev, role), phase in zip(modbus, phases, strict=True):
            key = connection_key(dev)
            if key not in connections:
                connections[key] = Connection(key, make_modbus_client(dev), request_gap_s=self.gw.request_gap_s)
            pollers.append(
                ModbusPoller(
                    dev,
                    role,
                    self.profiles[dev.id],
                    connections[key],
                    self._emit,
                    self.stats.devices[dev.id],
                    phase_s=dev.poll_interval_s * phase,
                    on_poll_start=self.stats.poll_lateness_s.append,
                    on_request_sent=self.stats.request_lateness_s.append,
                )
            )
        self.commands = CommandRunner(
            self.gateway_id,
            {p.device.id: p for p in pollers},
            self._publish_result,
            relays=self._relays,
            publish_device=lambda topic, payload: self.uplink is not None and self.uplink.publish(topic, payload),
        )
        self.uplink.start()
        tasks = [asyncio.create_task(p.run(), name=f"poll-{p.device.id}") for p in pollers]
        tasks.append(asyncio.create_task(self._publish_loop(), name=f"publish-{self.gateway_id}"))
        tasks.append(asyncio.create_task(self._health_loop(), name=f"health-{self.gateway_id}"))
        log.info("gateway %s running: %d devices, buffer %s", self.gateway_id, len(self.devices), self.buffer_path)
        if freeze_gc:
            # configuration, profiles, pollers, pymodbus: a full collection went through ~210,000
            # objects for nothing, up to 0.15–0.37 s with the loop stopped (bench_gateway.py)
            gc.collect()
            gc.freeze()
        try:
            await stop.wait()
        finally:
            if freeze_gc:
                gc.unfreeze()
            for p in pollers:
                p.stopping = True
            await _cancel_all(tasks)
            await self.commands.stop()
            for conn in connections.values():
                conn.close()
            self._seal()  # readings still in memory become durable
            self._pump()
            self._publish_health()
            # waits for the broker's PUBACK of "offline": off the event loop, which may host the broker (demo)
            await asyncio.to_thread(self.uplink.stop)
            self._closed = True
            self.buffer.close()
            log.info("gateway %s stopped (%d envelopes left in the buffer)", self.gateway_id, self.stats.buffered)

    # ------------------------------------------------------------ acquisition side

    def _emit(self, readings: list[Reading]) -> None:
        self._pending.extend(readings)
        self.stats.readings += len(readings)
        self.stats.polls += 1

    def _on_message(self, topic: str, payload: bytes) -> None:
        if self._closed or self.uplink is None:
            return  # a message handed over by paho while the service was stopping
        if topic == self.uplink.topics.ack(self.gateway_id):
            self._on_ack(payload)
            return
        if topic == self._command_topic and self.commands is not None:
            self.commands.receive(payload)
            return
        if self._relays.receive(topic, payload):
            return  # an MQTT device's relay state: a command's read-back
        received = now_ms()
        try:
            found = self._mqtt.decode(topic, payload, received)
        except PayloadError as exc:
            self.stats.mqtt_messages += 1
            self.stats.mqtt_rejected += 1
            state = self.stats.devices[self._mqtt.by_topic[topic][0].id]
            state.count("decode_error")
            state.last_quality = "decode_error"
            log.warning("%s", exc)
            return
        if found is None:
            return
        dev, decoded = found
        self.stats.mqtt_messages += 1
        state = self.stats.devices[dev.id]
        state.online, state.last_seen_ms = True, received
        if decoded.clock_skewed:
            state.count("clock_skew")
        bad = [str(r.quality) for r in decoded.readings if not r.is_good]
        for q in bad:
            state.count(q)
        state.last_quality = bad[0] if bad else "good"
        self._emit(decoded.readings)

    # ------------------------------------------------------------ uplink side

    def _on_connected(self) -> None:
        # everything unacknowledged is backlog again, replayed in order
        self._inflight.clear()
        self._live.clear()
        self._cursor = 0
        self._publish_health()
        if self.commands is not None:
            self.commands.flush()

    def _publish_result(self, payload: bytes) -> bool:
        return self.uplink is not None and self.uplink.publish(
            self.uplink.topics.command_result(self.gateway_id), payload, qos=1
        )

    def _on_ack(self, payload: bytes) -> None:
        assert self.buffer is not None
        try:
            ack = decode_ack(payload)
        except AckError as exc:
            self.stats.bad_acks += 1
            log.warning("gateway %s: unusable ack ignored: %s", self.gateway_id, exc)
            return
        if ack.gateway != self.gateway_id:
            self.stats.bad_acks += 1
            return
        self.stats.acked += self.buffer.ack(ack.seqs, epoch=ack.epoch)  # only envelopes of that epoch
        for seq in ack.seqs:
            if self.buffer.get(seq) is None:
                self._inflight.pop(seq, None)
        self._sync_buffer_stats()

    async def _publish_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_seal = loop.time() + self.gw.publish_interval_s
        while True:
            await asyncio.sleep(TICK_S)
            if loop.time() >= next_seal:
                next_seal += self.gw.publish_interval_s
                if next_seal < loop.time():
                    next_seal = loop.time() + self.gw.publish_interval_s
                self._seal()
            self._pump()

    def _seal(self) -> None:
        assert self.buffer is not None
        if not self._pending:
            return
        readings, self._pending = self._pending, []
        stamp = now_ms()
        try:
            seqs = self.buffer.seal(readings, stamp, max_batch=self.gw.max_batch)
        except BufferFileError as exc:
            # disk full or unwritable: keep the readings in memory (bounded) and retry next time
            self.stats.buffer_errors += 1
            self.stats.buffer_failing = True
            if self.stats.buffer_errors == 1 or self.stats.buffer_errors % 100 == 0:
                log.error("gateway %s: %s (%d failures so far)", self.gateway_id, exc, self.stats.buffer_errors)
            overflow = len(readings) - MAX_PENDING_READINGS
            if overflow > 0:
                readings = readings[overflow:]  # keep the newest, count the rest
                self.stats.dropped_by_policy += overflow
            self._pending = readings + self._pending
            return
        self.stats.sealed += len(seqs)
        self.stats.buffer_failing = False
        self._live.extend(seqs)
        for drop in self.buffer.enforce_bounds(stamp):
            self.stats.drops.append(drop)
            self.stats.dropped_by_policy += drop.readings
            dropped = set(range(drop.first_seq, drop.last_seq + 1))
            self._live = [s for s in self._live if s not in dropped]
            for s in dropped & self._inflight.keys():
                del self._inflight[s]
        self._sync_buffer_stats()

    def _send(self, seq: int, body: bytes | None = None) -> bool:
        assert self.buffer is not None
        assert self.uplink is not None
        if body is None:
            env = self.buffer.get(seq)
            if env is None:
                self._inflight.pop(seq, None)
                return False
            body = env.body
        if not self.uplink.publish(self.uplink.topics.uplink(self.gateway_id), body, qos=1):
            return False
        self._inflight[seq] = asyncio.get_running_loop().time()
        self.stats.published += 1
        return True

    def _pump(self) -> None:
        assert self.buffer is not None
        assert self.uplink is not None
        if not self.uplink.connected:
            self._live.clear()  # what was not sent live joins the backlog
            return
        now = asyncio.get_running_loop().time()
        for seq in self._live:
            self._send(seq)
        self._live.clear()
        for seq, sent in sorted(self._inflight.items()):
            if now - sent >= self.gw.ack_timeout_s and self._send(seq):
                self.stats.resent += 1
        rate = self.gw.replay_rate_per_s
        self._tokens = min(self._tokens + (now - self._last_pump) * rate, max(rate * TICK_S * 2, 1.0))
        self._last_pump = now
        while self._tokens >= 1 and len(self._inflight) < self.gw.max_inflight:
            batch = self.buffer.after(self._cursor, 64)
            if not batch:
                break
            for env in batch:
                if self._tokens < 1 or len(self._inflight) >= self.gw.max_inflight:
                    break
                self._cursor = env.seq
                if env.seq in self._inflight:
                    continue
                if not self._send(env.seq, env.body):
                    return
                self._tokens -= 1

    def _sync_buffer_stats(self) -> None:
        assert self.buffer is not None
        self.stats.buffered = self.buffer.envelope_count
        self.stats.buffered_readings = self.buffer.reading_count

    # ------------------------------------------------------------ health

    async def _health_loop(self) -> None:
        status = self.config.services.gateway.status_file
        while True:
            if status is not None and self.uplink is not None:  # the first at start: not connected yet
                write_gateway_status(status, self.gateway_id, self.stats, self.uplink)
            await asyncio.sleep(self.gw.health_interval_s)
            self._publish_health()

    def device_health(self) -> list[DeviceHealth]:
        stamp = now_ms()
        out = []
        for dev, _ in self.devices:
            state = self.stats.devices[dev.id]
            if dev.protocol == "mqtt" and state.last_seen_ms is not None:
                state.online = stamp - state.last_seen_ms <= 3_000 * dev.poll_interval_s
            out.append(
                DeviceHealth(
                    device=dev.id,
                    gateway=self.gateway_id,
                    online=state.online,
                    last_seen_ms=state.last_seen_ms,
                    updated_ms=stamp,
                    last_quality=state.last_quality,
                    errors=dict(state.errors),
                )
            )
        return out

    def _publish_health(self) -> None:
        if self.uplink is None or not self.uplink.connected:
            return
        buffer = None
        if self.buffer is not None:  # the backlog, for the central gateway_backlog alarm (docs/alerts.md)
            buffer = BufferReport(
                self.buffer.envelope_count, self.buffer.reading_count, self.buffer.oldest_created_ms()
            )
        payload = encode_health(self.gateway_id, now_ms(), self.device_health(), buffer)
        self.uplink.publish(self.uplink.topics.health(self.gateway_id), payload, qos=1, retain=True)


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait for them; a task that swallows a cancellation (a library may,
    while it awaits I/O) is cancelled again rather than waited for forever."""
    pending = set(tasks)
    while pending:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
        if pending:
            log.warning("%d tasks still stopping: %s", len(pending), ", ".join(t.get_name() for t in list(pending)[:5]))
