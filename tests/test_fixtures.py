"""The test services themselves: real processes that answer, and the leak check works."""

from __future__ import annotations

import asyncio
import socket

import paho.mqtt.client as mqtt

from tests.support.services import Influxd, Mosquitto
from tests.support.waiting import wait_for


def test_mosquitto_accepts_a_publish_and_delivers_it(mosquitto: Mosquitto, unique_name: str) -> None:
    got: list[bytes] = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{unique_name}-s", protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: got.append(m.payload)
    sub.connect(mosquitto.host, mosquitto.port)
    sub.loop_start()
    try:
        wait_for(lambda: sub.is_connected(), what="subscriber connected")
        sub.subscribe(f"{unique_name}/x", qos=1)
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{unique_name}-p", protocol=mqtt.MQTTv5)
        pub.connect(mosquitto.host, mosquitto.port)
        pub.loop_start()
        try:
            # publish until the subscription is in place, then the message arrives
            def delivered() -> bool:
                pub.publish(f"{unique_name}/x", b"hello", qos=1).wait_for_publish(2)
                return bool(got)

            wait_for(delivered, what="message delivered")
        finally:
            pub.disconnect()
            pub.loop_stop()
    finally:
        sub.disconnect()
        sub.loop_stop()
    assert got[0] == b"hello"


def test_influxd_answers_ping_and_creates_a_database(influxd: Influxd, unique_name: str) -> None:
    influxd.query(f'CREATE DATABASE "{unique_name}"')
    names = [row[0] for row in influxd.query("SHOW DATABASES")["results"][0]["series"][0]["values"]]
    assert unique_name in names


def test_a_killed_broker_restarts_on_the_same_port(mosquitto_factory) -> None:  # type: ignore[no-untyped-def]
    broker = mosquitto_factory()
    port = broker.port
    broker.kill()
    assert not broker.running
    broker.start()
    with socket.create_connection((broker.host, port), timeout=2):
        pass


async def test_async_tests_run_with_their_own_loop() -> None:
    done = asyncio.Event()
    asyncio.get_running_loop().call_soon(done.set)
    await asyncio.wait_for(done.wait(), 5)
    assert done.is_set()
