"""At-least-once under faults, with real processes: the ingest killed -9 mid-stream, InfluxDB
stopped under load, the broker restarted, and two workers sharing one subscription."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ingest.conftest import DEVICES, GATEWAY, Client, config_doc, envelope, make_config
from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.ingest.service import IngestService
from ville_autonome.readings.envelope import encode
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

T0 = int(time.time() * 1000) - 2 * 3_600_000


def influx_count(influxd: Influxd, db: str) -> int:
    doc = influxd.query("SELECT count(value) FROM readings", db)
    series = doc["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def stored(store: Store) -> int:
    return sum(len(store.series(d, "active_power_w", 0, 2**53, limit=10**6)) for d in DEVICES)


@pytest.fixture
def services() -> Iterator[list[tuple[IngestService, Store]]]:
    made: list[tuple[IngestService, Store]] = []
    yield made
    for service, store in made:
        service.stop()
        store.close()


# ----------------------------------------------------------------- kill -9


@pytest.fixture
def ingest_process(tmp_path: Path) -> Iterator[Callable[[Path, dict[str, str]], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(config_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"ingest-{len(procs)}.log").open("wb")
        argv = [sys.executable, "-m", "ville_autonome.commands.main", "ingest", "--config", str(config_path)]
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
        log.close()
        procs.append(proc)
        return proc

    yield spawn
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)


def test_ingest_killed_9_mid_stream_then_restarted_stores_every_reading_once(
    mosquitto: Mosquitto,
    influxd: Influxd,
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
    ingest_process: Callable[[Path, dict[str, str]], subprocess.Popen[bytes]],
) -> None:
    # the file holds the topology; the services come from VA_* variables, as in a deployment
    doc = config_doc("mqtt://127.0.0.1:1", unique_name, {"backend": "sqlite"})
    config_path = tmp_path / "ingest.yaml"
    config_path.write_text(yaml.safe_dump(doc))
    env = {
        "VA_MQTT_URL": mosquitto.url,
        "VA_STORE_BACKEND": "influxdb",
        "VA_STORE_URL": influxd.url,
        "VA_STORE_DATABASE": unique_name,
        "VA_INGEST_CLIENT_ID": f"{unique_name}-ingest",
        "VA_INGEST_BATCH_SIZE": "300",
        "VA_INGEST_MAX_PENDING_MESSAGES": "40",
        "VA_INGEST_BATCH_INTERVAL_S": "0.05",
    }
    client = client_factory(mosquitto, unique_name)
    first = ingest_process(config_path, env)
    last_probe = [0.0]

    def up() -> bool:  # a probe envelope, re-sent until the new session is subscribed and acks it
        if 0 in client.acked(GATEWAY):
            return True
        if time.monotonic() - last_probe[0] > 0.5:
            last_probe[0] = time.monotonic()
            client.publish(client.topics.uplink(GATEWAY), encode(envelope(GATEWAY, 0, T0, n=3)))
        return False

    wait_for(up, timeout=30, what="the ingest subprocess to be up")

    total_envelopes, per = 400, 30
    envs = [envelope(GATEWAY, s, T0, n=per) for s in range(1, total_envelopes + 1)]
    publisher = threading.Thread(target=client.publish_envelopes, args=(envs,), name="burst-publisher")
    publisher.start()
    try:
        wait_for(
            lambda: influx_count(influxd, unique_name) > 3,
            timeout=30,
            what="a first batch written",
            retry_on=(OSError,),
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        publisher.join(timeout=60)
    at_kill = len(client.acked(GATEWAY))
    assert at_kill < total_envelopes + 1, "the ingest finished before the kill: the test proves nothing"

    second = ingest_process(config_path, env)
    wait_for(
        lambda: client.acked(GATEWAY) >= set(range(total_envelopes + 1)),
        timeout=60,
        what="every envelope acknowledged after the restart",
    )
    assert influx_count(influxd, unique_name) == 3 + total_envelopes * per
    by_device = influxd.query("SELECT count(value) FROM readings GROUP BY device", unique_name)
    counts = {s["tags"]["device"]: s["values"][0][1] for s in by_device["results"][0]["series"]}
    assert counts == {"dev-grid": 1 + total_envelopes * 10, "dev-pv": 1 + total_envelopes * 10, "dev-load": 1 + 4000}
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0


# ----------------------------------------------------------------- InfluxDB outage


def _ingest_on(
    db: Influxd,
    mosquitto: Mosquitto,
    name: str,
    services: list[tuple[IngestService, Store]],
    **settings: Any,
) -> IngestService:
    """An ingest worker writing to ``db``, started, with these ingest settings (stopped at the end)."""
    store_doc = {"backend": "influxdb", "url": db.url, "database": name, "timeout_s": 2}
    config = make_config(config_doc(mosquitto.url, name, store_doc, settings))
    store = open_store(config.services.store)
    service = IngestService(config, store, client_id=f"{name}-ingest")
    services.append((service, store))
    service.start()
    return service


def test_influxdb_stopped_under_load_nothing_lost_memory_bounded_recovers(
    mosquitto: Mosquitto,
    influxd_factory: Callable[[], Influxd],
    unique_name: str,
    client_factory: Callable[..., Client],
    services: list[tuple[IngestService, Store]],
) -> None:
    db = influxd_factory()
    max_pending = 25
    service = _ingest_on(db, mosquitto, unique_name, services, max_pending_messages=max_pending, batch_size=200)
    client = client_factory(mosquitto, unique_name)

    client.publish_envelopes([envelope(GATEWAY, s, T0, n=9) for s in range(1, 101)])
    wait_for(lambda: len(client.acked(GATEWAY)) == 100, timeout=30, what="first load written")

    db.stop()
    client.publish_envelopes([envelope(GATEWAY, s, T0, n=9) for s in range(101, 401)])  # the broker keeps them
    # six failed attempts per writer under the capped exponential backoff: an outage of about six seconds
    attempts = 6 * service.settings.writers
    wait_for(lambda: service.stats.store_failures >= attempts, timeout=30, what="six failed attempts per writer")
    peak = 0

    def saturated() -> bool:
        nonlocal peak
        pending = service.stats.pending
        peak = max(peak, pending)
        return pending >= max_pending

    wait_for(saturated, timeout=30, what="the ingest to hold max_pending_messages")
    for _ in range(50):  # sample: it stays at its bound while the store is down
        peak = max(peak, service.stats.pending)
    assert peak <= max_pending
    assert len(client.acked(GATEWAY)) == 100  # nothing acknowledged while nothing could be written

    db.start()

    def recovered() -> bool:  # the bound holds while the backlog drains too (Mosquitto then sends it all at once)
        nonlocal peak
        peak = max(peak, service.stats.pending)
        return len(client.acked(GATEWAY)) == 400

    wait_for(recovered, timeout=60, what="recovery by itself")
    assert peak <= max_pending
    assert influx_count(db, unique_name) == 400 * 9
    assert service.stats.written == 400 * 9


def test_payload_bytes_held_stay_under_max_pending_bytes_through_an_outage(
    mosquitto: Mosquitto,
    influxd_factory: Callable[[], Influxd],
    unique_name: str,
    client_factory: Callable[..., Client],
    services: list[tuple[IngestService, Store]],
) -> None:
    db = influxd_factory()
    envelopes = [envelope(GATEWAY, s, T0, n=9) for s in range(1, 301)]
    largest = max(len(encode(e)) for e in envelopes)
    bound = 6 * largest  # six envelopes' payloads, far under max_pending_messages
    service = _ingest_on(db, mosquitto, unique_name, services, max_pending_bytes=bound, batch_size=200)
    client = client_factory(mosquitto, unique_name)
    client.publish_envelopes(envelopes[:50])
    wait_for(lambda: len(client.acked(GATEWAY)) == 50, timeout=30, what="first load written")

    db.stop()
    client.publish_envelopes(envelopes[50:])  # the broker keeps what the ingest does not take
    peak = 0

    def saturated() -> bool:  # no room for one more envelope
        nonlocal peak
        held = service.stats.pending_bytes
        peak = max(peak, held)
        return held + largest > bound

    wait_for(saturated, timeout=30, what="the ingest to hold max_pending_bytes")
    for _ in range(50):  # sample: it stays at its bound while the store is down
        peak = max(peak, service.stats.pending_bytes)
    assert peak <= bound
    assert service.stats.pending <= 6
    assert len(client.acked(GATEWAY)) == 50  # nothing acknowledged while nothing could be written

    db.start()

    def recovered() -> bool:  # the bound holds while the backlog drains too
        nonlocal peak
        peak = max(peak, service.stats.pending_bytes)
        return len(client.acked(GATEWAY)) == 300

    wait_for(recovered, timeout=60, what="recovery by itself")
    assert peak <= bound
    assert influx_count(db, unique_name) == 300 * 9
    assert service.stats.pending_bytes == 0


# ----------------------------------------------------------------- broker restart


def test_broker_restarted_with_persistence_loses_nothing(
    mosquitto_factory: Callable[..., Mosquitto],
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
    services: list[tuple[IngestService, Store]],
) -> None:
    broker = mosquitto_factory(persistence=True)
    store_doc = {"backend": "sqlite", "path": str(tmp_path / "s.sqlite"), "rollup_refresh_s": 60}
    config = make_config(config_doc(broker.url, unique_name, store_doc))
    store = open_store(config.services.store)
    service = IngestService(config, store, client_id=f"{unique_name}-ingest")
    service.start()
    service.stop()  # the ingest is away: its persistent session holds what comes in
    client = client_factory(broker, unique_name, "before")
    client.publish_envelopes([envelope(GATEWAY, s, T0, n=6) for s in range(1, 51)])
    client.close()

    broker.restart()  # clean restart: the queue is saved and reloaded

    service = IngestService(config, store, client_id=f"{unique_name}-ingest")
    services.append((service, store))
    service.start()
    after = client_factory(broker, unique_name, "after")
    after.publish_envelopes([envelope(GATEWAY, s, T0, n=6) for s in range(51, 61)])
    wait_for(lambda: stored(store) == 60 * 6, timeout=30, what="every reading from before and after the restart")

    broker.restart()  # and while the ingest is connected: it reconnects and resubscribes by itself
    again = client_factory(broker, unique_name, "again")
    again.publish_envelopes([envelope(GATEWAY, s, T0, n=6) for s in range(61, 71)])
    wait_for(lambda: stored(store) == 70 * 6, timeout=30, what="readings after a restart under the ingest")
    assert store.gaps(GATEWAY) == []


# ----------------------------------------------------------------- shared subscription


def test_two_shared_subscription_workers_write_everything_once_and_split_the_load(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
    services: list[tuple[IngestService, Store]],
) -> None:
    store_doc: dict[str, Any] = {"backend": "sqlite", "path": str(tmp_path / "shared.sqlite"), "rollup_refresh_s": 60}
    config = make_config(config_doc(mosquitto.url, unique_name, store_doc))
    workers = []
    for i in (1, 2):
        store = open_store(config.services.store)
        worker = IngestService(config, store, client_id=f"{unique_name}-w{i}", shared_group=f"{unique_name}-g")
        services.append((worker, store))
        worker.start()
        workers.append(worker)
    client = client_factory(mosquitto, unique_name)
    client.publish_envelopes([envelope(GATEWAY, s, T0, n=3) for s in range(1, 201)])
    wait_for(lambda: client.acked(GATEWAY) == set(range(1, 201)), timeout=30, what="all envelopes acknowledged")
    reader = services[0][1]
    assert stored(reader) == 600
    a, b = (w.stats for w in workers)
    assert a.received + b.received == 200  # each envelope handled by exactly one worker
    assert a.written + b.written == 600
    assert a.received > 20
    assert b.received > 20  # the load is split
    assert reader.gaps(GATEWAY) == []  # gaps are computed over both workers' records


def test_stop_while_the_store_is_down_leaves_the_messages_to_the_next_run(
    mosquitto: Mosquitto,
    influxd_factory: Callable[[], Influxd],
    unique_name: str,
    client_factory: Callable[..., Client],
    services: list[tuple[IngestService, Store]],
) -> None:
    db = influxd_factory()
    store_doc = {"backend": "influxdb", "url": db.url, "database": unique_name, "timeout_s": 2}
    config = make_config(config_doc(mosquitto.url, unique_name, store_doc))
    store = open_store(config.services.store)
    service = IngestService(config, store, client_id=f"{unique_name}-ingest")
    service.start()
    client = client_factory(mosquitto, unique_name)
    db.stop()
    client.publish_envelopes([envelope(GATEWAY, s, T0, n=6) for s in range(1, 31)])
    wait_for(lambda: service.stats.store_failures >= 1, timeout=30, what="the write to fail")
    service.stop()  # returns with the batch unwritten and unacknowledged; no thread left (checked by no_leaks)
    store.close()
    assert client.acked(GATEWAY) == set()

    db.start()
    store = open_store(config.services.store)
    service = IngestService(config, store, client_id=f"{unique_name}-ingest")
    services.append((service, store))
    service.start()
    wait_for(lambda: client.acked(GATEWAY) == set(range(1, 31)), timeout=30, what="re-delivery to the next run")
    assert influx_count(db, unique_name) == 30 * 6


def test_a_departed_shared_worker_does_not_hold_a_share_of_the_messages(
    mosquitto: Mosquitto,
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
    services: list[tuple[IngestService, Store]],
) -> None:
    store_doc: dict[str, Any] = {"backend": "sqlite", "path": str(tmp_path / "gone.sqlite"), "rollup_refresh_s": 60}
    config = make_config(config_doc(mosquitto.url, unique_name, store_doc))
    group = f"{unique_name}-g"
    store_a, store_b = open_store(config.services.store), open_store(config.services.store)
    a = IngestService(config, store_a, client_id=f"{unique_name}-a", shared_group=group)
    b = IngestService(config, store_b, client_id=f"{unique_name}-b", shared_group=group)
    services.append((a, store_a))
    a.start()
    b.start()
    b.stop()  # gone (crashed or scaled down): with a persistent session Mosquitto would queue half for it
    store_b.close()
    client = client_factory(mosquitto, unique_name)
    client.publish_envelopes([envelope(GATEWAY, s, T0, n=3) for s in range(1, 101)])
    wait_for(lambda: client.acked(GATEWAY) == set(range(1, 101)), timeout=30, what="the survivor to take everything")
    assert a.stats.received == 100
