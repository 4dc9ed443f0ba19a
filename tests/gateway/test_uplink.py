"""GatewayService end to end with real pymodbus devices and a real Mosquitto: envelopes, acks,
health and status, broker outage and replay, buffer-full policy, broker down at start."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.gateway.acker import Acker
from tests.gateway.modbus_devices import ModbusTestDevice, meter_image
from tests.gateway.rig import GATEWAY, RunningGateway, gateway_config, meter_device
from tests.support.ports import free_port
from tests.support.services import Mosquitto
from tests.support.waiting import async_wait_for
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.gateway.buffer import EnvelopeBuffer
from ville_autonome.mqttlink.client import connect_blocking, make_client
from ville_autonome.readings.health import decode_health
from ville_autonome.readings.model import Quality


@pytest.fixture
async def meters() -> AsyncIterator[list[ModbusTestDevice]]:
    devices = [ModbusTestDevice(meter_image()) for _ in range(2)]
    for d in devices:
        await d.start()
    try:
        yield devices
    finally:
        for d in devices:
            await d.stop()


@pytest.fixture
def ackers() -> Iterator[Callable[..., Acker]]:
    made: list[Acker] = []

    def make(url: str, root: str, **kw: bool) -> Acker:
        acker = Acker(MqttSettings(url=url, topic_root=root), GATEWAY, **kw).start()
        made.append(acker)
        return acker

    yield make
    for a in made:
        a.stop()


def devices_of(meters: list[ModbusTestDevice]) -> list[dict[str, object]]:
    return [meter_device(f"m{i}", m.address, sunspec_discovery=False) for i, m in enumerate(meters)]


async def test_envelopes_acked_health_and_status(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    meters: list[ModbusTestDevice],
    ackers: Callable[..., Acker],
) -> None:
    acker = ackers(mosquitto.url, unique_name)
    config = gateway_config(mosquitto.url, unique_name, devices_of(meters), tmp_path / "b.sqlite")
    async with RunningGateway(config) as gw:
        await async_wait_for(lambda: gw.stats.acked >= 5, timeout=20, what="5 acknowledged envelopes")
        await async_wait_for(lambda: acker.health() is not None, timeout=20, what="a health snapshot")
        assert acker.status() == b"online"
    seqs = sorted(acker.seqs())
    assert seqs == list(range(1, len(seqs) + 1))
    readings = [r for s in seqs for r in acker.envelopes[s].readings]
    assert {r.device for r in readings} == {"m0", "m1"}
    assert all(r.quality is Quality.GOOD for r in readings)
    assert all(acker.envelopes[s].gateway == GATEWAY for s in seqs)
    health = {h.device: h for h in decode_health(acker.health() or b"")}
    assert health["m0"].online
    assert health["m0"].last_seen_ms is not None
    await async_wait_for(lambda: acker.status() == b"offline", timeout=10, what="offline status on a clean stop")
    assert gw.stats.polls >= 10
    assert gw.stats.published >= gw.stats.acked


async def test_broker_outage_every_reading_arrives_in_order(
    mosquitto_factory: Callable[..., Mosquitto],
    unique_name: str,
    tmp_path: Path,
    meters: list[ModbusTestDevice],
    ackers: Callable[..., Acker],
) -> None:
    broker = mosquitto_factory()
    acker = ackers(broker.url, unique_name)
    buffer_path = tmp_path / "b.sqlite"
    config = gateway_config(
        broker.url, unique_name, devices_of(meters), buffer_path, ack_timeout_s=5.0, replay_rate_per_s=40.0
    )
    runner = RunningGateway(config)
    async with runner as gw:
        await async_wait_for(lambda: gw.stats.acked >= 3, timeout=20, what="first acknowledgements")
        broker.stop()
        sealed_at_stop = gw.stats.sealed
        await async_wait_for(lambda: gw.stats.sealed >= sealed_at_stop + 10, timeout=30, what="buffering")
        assert runner.running, "the gateway keeps running without its broker"
        assert gw.stats.buffered >= 10
        arrivals_before = len(acker.arrivals)
        broker.start()
        sealed_at_restart = gw.stats.sealed
        await async_wait_for(
            lambda: set(range(1, sealed_at_restart + 1)) <= acker.seqs(), timeout=60, what="the replayed backlog"
        )
    # nothing lost: every sealed envelope was received or is still in the buffer (sent at shutdown)
    left = EnvelopeBuffer(buffer_path, GATEWAY)
    remaining = {e.seq: e.readings for e in left.after(0, 100_000)}
    left.close()
    received = acker.seqs()
    assert received | set(remaining) == set(range(1, gw.stats.sealed + 1))
    counted = sum(len(acker.envelopes[s].readings) for s in received) + sum(
        n for s, n in remaining.items() if s not in received
    )
    assert counted == gw.stats.readings
    # the backlog was replayed in sequence order (live envelopes may come first: they are newer)
    replayed = []
    for seq in acker.arrivals[arrivals_before:]:
        if seq <= sealed_at_restart and seq not in replayed:
            replayed.append(seq)
    assert replayed == sorted(replayed)
    assert len(replayed) >= sealed_at_restart - sealed_at_stop


async def test_buffer_full_keeps_newest_and_records_the_gap(
    unique_name: str, tmp_path: Path, meters: list[ModbusTestDevice], caplog: pytest.LogCaptureFixture
) -> None:
    dead_broker = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there: the broker is down at start
    config = gateway_config(
        dead_broker, unique_name, devices_of(meters[:1]), tmp_path / "b.sqlite", buffer_max_bytes=16 * 1024
    )
    caplog.set_level(logging.WARNING)
    runner = RunningGateway(config)
    async with runner as gw:
        await async_wait_for(lambda: len(gw.stats.drops) >= 3, timeout=30, what="the buffer to overflow")
        assert runner.running
        buf = gw.buffer
        assert buf is not None
        assert buf.size_bytes <= 16 * 1024
        kept = [e.seq for e in buf.after(0, 10_000)]
        assert kept[-1] == buf.next_seq - 1, "the newest envelope is kept"
        assert kept == list(range(kept[0], kept[-1] + 1))
        drops = buf.drops()
        assert drops[0].first_seq == 1
        assert all(d.reason == "size" for d in drops)
        assert drops[-1].last_seq < kept[0]
        assert gw.stats.dropped_by_policy == sum(d.readings for d in drops) > 0
    unreachable = [r for r in caplog.records if r.levelno >= logging.ERROR and "MQTT broker" in r.getMessage()]
    assert len(unreachable) == 1, "the unreachable broker is logged loudly once, not on every retry"


async def test_mqtt_device_input(
    mosquitto: Mosquitto, unique_name: str, tmp_path: Path, ackers: Callable[..., Acker]
) -> None:
    acker = ackers(mosquitto.url, unique_name)
    topic = f"{unique_name}/devices/plug-1"
    plug = {
        "id": "plug-1",
        "role": "consumption",
        "protocol": "mqtt",
        "topic": topic,
        "poll_interval_s": 10,
        "topics": [
            {
                "topic": "{prefix}",
                "fields": [
                    {"path": "emeters.0.power", "quantity": "active_power_w"},
                    {"path": "emeters.0.total", "quantity": "energy_consumed_wh", "scale": 1000},
                ],
                "timestamp": "ts",  # the device's clock, used when it agrees with the gateway's
                "timestamp_format": "epoch_ms",
            }
        ],
    }
    device_ms = time.time_ns() // 1_000_000 - 2_000
    payload = b'{"ts": %d, "emeters": [{"power": 850.5, "total": 1.25}]}' % device_ms
    config = gateway_config(mosquitto.url, unique_name, [plug], tmp_path / "b.sqlite")
    settings = MqttSettings(url=mosquitto.url, topic_root=unique_name)
    device = make_client(settings, f"{unique_name}-plug")
    connect_blocking(device, settings)
    try:
        async with RunningGateway(config) as gw:
            await async_wait_for(lambda: gw.uplink is not None and gw.uplink.connected, timeout=20, what="uplink")
            # publish until the gateway's subscription is in place (it subscribes on connect)
            await async_wait_for(
                lambda: device.publish(topic, payload, qos=1) and gw.stats.mqtt_messages > 0,
                timeout=20,
                what="the gateway to take the device's message",
            )
            device.publish(topic, b"not json", qos=1)
            await async_wait_for(lambda: gw.stats.mqtt_rejected == 1, timeout=20, what="the bad payload counted")
            await async_wait_for(lambda: gw.stats.acked >= 1, timeout=20, what="the envelope acknowledged")
            state = gw.stats.devices["plug-1"]
            assert state.errors["decode_error"] == 1
            assert state.last_seen_ms is not None
    finally:
        device.disconnect()
        device.loop_stop()
    readings = [r for env in acker.envelopes.values() for r in env.readings]
    assert ("plug-1", "active_power_w", device_ms, 850.5) in {
        (r.device, r.quantity, r.ts_ms, r.value) for r in readings
    }
    assert ("plug-1", "energy_consumed_wh", 1250.0) in {(r.device, r.quantity, r.value) for r in readings}
