"""The shipped broker configuration (deploy/mosquitto/mosquitto.conf) with the real Mosquitto: a QoS 1
burst for an offline ingest session is kept in full, and the broker's defaults would have lost it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ingest.conftest import GATEWAY, Client, config_doc, envelope, make_config
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.ingest.service import IngestService
from ville_autonome.readings.envelope import encode
from ville_autonome.storage.factory import open_store

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"
# lines of the shipped file that depend on the machine, replaced by the test's own
LOCAL_KEYS = ("listener", "persistence_location", "log_dest", "pid_file", "user")
BURST = 5000


class ShippedMosquitto(Mosquitto):
    """A real broker that runs the shipped settings (only port, paths and logging are the test's)."""

    def __init__(self, workdir: Path, *, shipped: bool) -> None:
        super().__init__(workdir)
        self.shipped = shipped

    def _write_conf(self) -> None:
        lines = [f"listener {self.port} {self.host}", "allow_anonymous true", f"persistence_location {self.workdir}/"]
        if self.shipped:
            for raw in SHIPPED.read_text().splitlines():
                text = raw.strip()
                if text and not text.startswith("#") and text.split()[0] not in (*LOCAL_KEYS, "allow_anonymous"):
                    lines.append(text)
        lines += [f"pid_file {self.workdir}/mosquitto.pid", "log_dest stdout"]
        if os.geteuid() == 0:
            lines.append("user root")
        self.conf_path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[Callable[[bool], ShippedMosquitto]]:
    made: list[ShippedMosquitto] = []

    def make(shipped: bool) -> ShippedMosquitto:
        b = ShippedMosquitto(tmp_path / f"broker-{len(made)}", shipped=shipped)
        made.append(b)
        b.start()
        return b

    yield make
    for b in made:
        b.kill()


def _burst(broker: Mosquitto, root: str, store_doc: dict[str, Any], client: Client) -> tuple[int, int]:
    """Register the ingest session, take it offline, burst, bring it back: (stored, acked)."""
    config = make_config(config_doc(broker.url, root, store_doc, {"batch_size": 5000}))
    store = open_store(config.services.store)
    try:
        service = IngestService(config, store, client_id=f"{root}-burst")
        service.start()
        service.stop()  # its persistent session stays subscribed on the broker
        client.publish_all(
            [(client.topics.uplink(GATEWAY), encode(envelope(GATEWAY, s, T0, n=1))) for s in range(1, BURST + 1)],
            timeout=60,
        )
        service = IngestService(config, store, client_id=f"{root}-burst")
        service.start()
        try:
            # everything the broker kept arrives; then nothing more is pending
            wait_for(lambda: service.stats.received > 0, timeout=20, what="queued messages delivered")
            wait_for(lambda: service.stats.pending == 0 and _settled(service), timeout=60, what="burst handled")
        finally:
            service.stop()
        stored = sum(
            len(store.series(d, "active_power_w", 0, 2**53, limit=BURST + 1))
            for d in ("dev-grid", "dev-pv", "dev-load")
        )
        return stored, len(client.acked(GATEWAY))
    finally:
        store.close()


_last: dict[int, tuple[int, float]] = {}


def _settled(service: IngestService) -> bool:
    """True once ``received`` has not moved for a second (the broker has nothing more to send)."""
    seen = service.stats.received
    key = id(service)
    prev = _last.get(key)
    now = time.monotonic()
    if prev is None or prev[0] != seen:
        _last[key] = (seen, now)
        return False
    return now - prev[1] >= 1.0


T0 = int(time.time() * 1000) - 3_600_000


def test_a_qos1_burst_is_kept_in_full_with_the_shipped_config(
    broker_factory: Callable[[bool], ShippedMosquitto],
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
) -> None:
    broker = broker_factory(True)
    client = client_factory(broker, unique_name)
    store_doc = {"backend": "sqlite", "path": str(tmp_path / "shipped.sqlite"), "rollup_refresh_s": 60}
    assert _burst(broker, unique_name, store_doc, client) == (BURST, BURST)


def test_the_broker_defaults_would_drop_the_same_burst(
    broker_factory: Callable[[bool], ShippedMosquitto],
    unique_name: str,
    tmp_path: Path,
    client_factory: Callable[..., Client],
) -> None:
    broker = broker_factory(False)
    client = client_factory(broker, unique_name)
    store_doc = {"backend": "sqlite", "path": str(tmp_path / "defaults.sqlite"), "rollup_refresh_s": 60}
    stored, acked = _burst(broker, unique_name, store_doc, client)
    assert stored < BURST  # what docs/broker.md warns about: Mosquitto's default queue limit drops
    assert stored == acked
