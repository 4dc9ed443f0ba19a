"""The ingest against a real Mosquitto and real stores: delivery, acks, validation, gaps, health."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.ingest.conftest import GATEWAY, Client, config_doc, envelope, make_config
from tests.support.ports import free_port
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.configuration.errors import ServiceUnreachableError
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.ingest.service import IngestService
from ville_autonome.readings.envelope import Envelope, encode
from ville_autonome.readings.health import DeviceHealth, encode_health
from ville_autonome.readings.model import Reading
from ville_autonome.series.values import SequenceGap
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

T0 = int(time.time() * 1000) - 3_600_000


@pytest.fixture(params=["sqlite", "influxdb"])
def store_doc(
    request: pytest.FixtureRequest, sqlite_store_doc: dict[str, Any], influx_store_doc: dict[str, Any]
) -> dict[str, Any]:
    return sqlite_store_doc if request.param == "sqlite" else influx_store_doc


@pytest.fixture
def running(
    mosquitto: Mosquitto, root: str, store_doc: dict[str, Any]
) -> Iterator[Callable[..., tuple[IngestService, Store, PlatformConfig]]]:
    started: list[tuple[IngestService, Store]] = []

    def start(**ingest: Any) -> tuple[IngestService, Store, PlatformConfig]:
        config = make_config(config_doc(mosquitto.url, root, store_doc, ingest))
        store = open_store(config.services.store)
        service = IngestService(config, store, client_id=f"{root}-ingest")
        started.append((service, store))
        service.start()
        return service, store, config

    yield start
    for service, store in started:
        service.stop()
        store.close()


def count(store: Store, device: str = "dev-grid") -> int:
    return len(store.series(device, "active_power_w", 0, 2**62 // 1_000_000, limit=1_000_000))


def test_envelopes_are_written_and_acknowledged(
    running: Callable[..., tuple[IngestService, Store, PlatformConfig]],
    mosquitto: Mosquitto,
    root: str,
    client_factory: Callable[..., Client],
) -> None:
    service, store, _ = running()
    client = client_factory(mosquitto, root)
    client.publish_envelopes([envelope(GATEWAY, seq, T0, n=30) for seq in range(1, 21)])
    wait_for(lambda: client.acked(GATEWAY) == set(range(1, 21)), timeout=20, what="acks of 20 envelopes")
    assert sum(count(store, d) for d in ("dev-grid", "dev-pv", "dev-load")) == 600
    latest = {(v.context.device, v.quantity): v for v in store.latest()}
    assert latest[("dev-pv", "active_power_w")].context.source == "pv"
    stats = service.stats
    assert (stats.received, stats.written, stats.acked, stats.rejected) == (20, 600, 20, {})
    wait_for(lambda: service.stats.pending == 0, timeout=5, what="nothing pending")
    assert store.gaps() == []


def test_redelivered_envelopes_overwrite_themselves(
    running: Callable[..., tuple[IngestService, Store, PlatformConfig]],
    mosquitto: Mosquitto,
    root: str,
    client_factory: Callable[..., Client],
) -> None:
    service, store, _ = running()
    client = client_factory(mosquitto, root)
    envs = [envelope(GATEWAY, seq, T0, n=6) for seq in range(1, 6)]
    client.publish_envelopes(envs)
    client.publish_envelopes(envs[:3])  # the gateway re-sends what it was not sure about
    wait_for(lambda: service.stats.acked == 8, timeout=20, what="8 envelopes handled")
    assert count(store) == 10
    assert service.stats.duplicates == 3


def test_sequence_gaps_are_detected_and_stored(
    running: Callable[..., tuple[IngestService, Store, PlatformConfig]],
    mosquitto: Mosquitto,
    root: str,
    client_factory: Callable[..., Client],
) -> None:
    _, store, _ = running()
    client = client_factory(mosquitto, root)
    client.publish_envelopes([envelope(GATEWAY, s, T0) for s in (1, 2, 3, 7, 8, 12)])
    wait_for(lambda: client.acked(GATEWAY) == {1, 2, 3, 7, 8, 12}, timeout=20, what="acks")
    assert store.gaps(GATEWAY) == [SequenceGap(GATEWAY, 4, 6), SequenceGap(GATEWAY, 9, 11)]
    client.publish_envelopes([envelope(GATEWAY, s, T0) for s in (4, 5, 6)])  # replayed from the gateway's buffer
    wait_for(lambda: store.gaps(GATEWAY) == [SequenceGap(GATEWAY, 9, 11)], timeout=20, what="gap filled")


def test_health_and_offline_status(
    running: Callable[..., tuple[IngestService, Store, PlatformConfig]],
    mosquitto: Mosquitto,
    root: str,
    client_factory: Callable[..., Client],
) -> None:
    _, store, _ = running()
    client = client_factory(mosquitto, root)
    now = int(time.time() * 1000)
    records = [
        DeviceHealth("dev-grid", GATEWAY, True, now - 1000, now, "good", {"timeout": 1}),
        DeviceHealth("dev-pv", GATEWAY, True, now - 2000, now, "good", {}),
    ]
    client.publish_all([(client.topics.health(GATEWAY), encode_health(GATEWAY, now, records))])
    wait_for(lambda: {h.device for h in store.health()} == {"dev-grid", "dev-pv"}, timeout=20, what="health stored")
    assert {h.device: h for h in store.health()}["dev-grid"] == records[0]
    client.publish_all([(client.topics.status(GATEWAY), b"offline")])
    wait_for(
        lambda: {h.device: h.online for h in store.health()} == {"dev-grid": False, "dev-pv": False, "dev-load": False},
        timeout=20,
        what="devices of the offline gateway marked offline",
    )
    grid = {h.device: h for h in store.health()}["dev-grid"]
    assert (grid.last_seen_ms, grid.errors) == (now - 1000, {"timeout": 1})  # what was known is kept


def _corpus(root_gw: str) -> tuple[list[tuple[str, bytes]], dict[str, int]]:
    """Malformed payloads (topic gateway, payload) and the reason counts they must produce."""
    good = {"device": "dev-grid", "quantity": "active_power_w", "ts": T0, "value": 1.0, "quality": "good"}

    def env(gateway: str, readings: list[Any], schema: int = 1, seq: int = 1) -> bytes:
        return json.dumps(
            {"schema": schema, "gateway": gateway, "seq": seq, "sent_ms": T0, "readings": readings}
        ).encode()

    items = [
        (root_gw, b"not json at all"),
        (root_gw, b"\xff\xfe\x00"),
        (root_gw, env(root_gw, [good], schema=2)),
        (root_gw, b'{"schema": 1, "gateway": "gw-test", "seq": -1, "readings": []}'),
        (root_gw, b"[1, 2]"),
        (root_gw, b'{"schema": 1, "gateway": "gw-test", "seq": 1, "readings": [' + b"1," * 600_000 + b"1]}"),
        (root_gw, env("gw-other", [good])),  # envelope gateway differs from the topic's
        (root_gw, env("gw-test\n,x=1", [good])),  # injection in the gateway id
    ]
    bad_readings = [
        {**good, "value": float("nan")},
        {**good, "value": float("inf")},
        {**good, "value": "12.5"},
        {**good, "value": True},
        {**good, "ts": "2026-01-01"},
        {**good, "ts": 1.5},
        {**good, "device": "nobody"},
        {**good, "device": "dev-grid',device='x"},
        {**good, "device": 'dev-grid" OR 1=1'},
        {**good, "device": "dev-grid\nreadings,device=evil value=1 1"},
        {**good, "quantity": "active_power_w\nx"},
        {**good, "quantity": "power_in_horsepower"},
        {**good, "quality": "excellent"},
        {**good, "quality": "good", "value": None},
        {**good, "unit": "kW"},
        {**good, "ts": int(time.time() * 1000) + 86_400_000},
        {**good, "ts": 1000},
        "not an object",
    ]
    valid = [{**good, "ts": T0 + i, "value": float(i)} for i in range(5)]
    text = json.dumps({"schema": 1, "gateway": root_gw, "seq": 2, "sent_ms": T0, "readings": bad_readings + valid})
    items.append((root_gw, text.encode()))
    expected = {
        "not_an_envelope": 5,
        "oversize": 1,
        "gateway_mismatch": 1,
        "bad_gateway_id": 1,
        "bad_reading": 9,
        "unknown_device": 4,
        "unknown_quantity": 2,
        "unit_mismatch": 1,
        "future_timestamp": 1,
        "past_timestamp": 1,
    }
    return items, expected


def test_malformed_corpus_is_dead_lettered_with_reasons_and_the_rest_written(
    running: Callable[..., tuple[IngestService, Store, PlatformConfig]],
    mosquitto: Mosquitto,
    root: str,
    client_factory: Callable[..., Client],
) -> None:
    service, store, _ = running()
    client = client_factory(mosquitto, root)
    items, expected = _corpus(GATEWAY)
    client.publish_all([(client.topics.uplink(gw), payload) for gw, payload in items])
    client.publish_all([(client.topics.uplink("gw-evil'--"), b'{"schema":1}')])  # odd topic level
    total = sum(expected.values())
    # one dead letter per refused message, not one per refused reading
    wait_for(lambda: len(client.dead_letters()) >= len(items), timeout=20, what="dead letters")
    wait_for(lambda: service.stats.pending == 0, timeout=10, what="all handled")
    stats = service.stats
    assert stats.rejected == {**expected, "not_an_envelope": expected["not_an_envelope"] + 1}
    assert stats.dead_letters == len(items) + 1
    assert stats.written == 5
    assert [p.value for p in store.series("dev-grid", "active_power_w", T0, T0 + 10, limit=10)] == [
        0.0,
        1.0,
        2.0,
        3.0,
        4.0,
    ]
    assert {v.context.device for v in store.latest()} == {"dev-grid"}  # nothing injected
    letters = client.dead_letters()
    assert len(letters) == len(items)  # the odd topic level names no gateway to publish to
    assert sum(n for d in letters for n in d["reasons"].values()) == total
    assert {r for d in letters for r in d["reasons"]} >= set(expected)
    one = next(d for d in letters if "unknown_device" in d["reasons"])
    assert (one["kind"], one["gateway"], one["seq"]) == ("uplink", GATEWAY, 2)
    assert sum(one["reasons"].values()) == len(one["rejected"]) == 18
    entry = next(e for e in one["rejected"] if e["reason"] == "unknown_device")
    assert entry["reading"]["device"] == "nobody"
    wait_for(lambda: 2 in client.acked(GATEWAY), timeout=10, what="ack of the mixed envelope")


def test_unreachable_broker_is_one_startup_error(root: str, sqlite_store_doc: dict[str, Any]) -> None:
    config = make_config(config_doc(f"mqtt://127.0.0.1:{free_port()}", root, sqlite_store_doc))
    store = open_store(config.services.store)
    try:
        with pytest.raises(ServiceUnreachableError, match=r"127\.0\.0\.1"):
            IngestService(config, store).start()
    finally:
        store.close()


def test_all_rejected_envelope_is_still_acknowledged(
    running: Callable[..., tuple[IngestService, Store, PlatformConfig]],
    mosquitto: Mosquitto,
    root: str,
    client_factory: Callable[..., Client],
) -> None:
    running()
    client = client_factory(mosquitto, root)
    bad = Envelope(GATEWAY, 9, T0, (Reading("nobody", "active_power_w", T0, 1.0),))
    client.publish_all([(client.topics.uplink(GATEWAY), encode(bad))])
    wait_for(lambda: client.acked(GATEWAY) == {9}, timeout=20, what="ack of a fully rejected envelope")
