"""An ingest worker whose client id another process also uses says so: its health problems and
its stats name the collision (real Mosquitto, a second client connecting with the worker's id;
the detection itself: tests/mqttlink/test_takeover.py)."""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as mqtt

from tests.ingest.conftest import config_doc, make_config
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.ingest.service import IngestService
from ville_autonome.mqttlink import connect_blocking, make_client
from ville_autonome.storage.factory import open_store

COLLISION_TIMEOUT_S = 60.0  # a few seconds idle: three short connections a side, 1 s reconnect delay


def test_a_worker_whose_client_id_is_taken_names_it_in_its_health(
    mosquitto: Mosquitto, root: str, sqlite_store_doc: dict[str, Any]
) -> None:
    config = make_config(config_doc(mosquitto.url, root, sqlite_store_doc))
    store = open_store(config.services.store)
    client_id = f"{root}-ingest"
    service = IngestService(config, store, client_id=client_id)
    intruders: list[mqtt.Client] = []
    try:
        service.start()
        assert service.health_problems() == []
        assert service.stats.as_stats()["mqtt_client_id_collision"] == 0.0
        intruder = make_client(config.services.mqtt, client_id)
        intruders.append(intruder)
        connect_blocking(intruder, config.services.mqtt)
        problems = wait_for(
            lambda: [p for p in service.health_problems() if "another process" in p],
            timeout=COLLISION_TIMEOUT_S,
            what="the worker's health naming the collision",
        )
        assert f"client id {client_id!r}" in problems[0]
        assert service.stats.as_stats()["mqtt_client_id_collision"] == 1.0
    finally:
        for c in intruders:
            c.disconnect()
            c.loop_stop()
        service.stop()
        store.close()
