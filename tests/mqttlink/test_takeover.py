"""Two processes with one MQTT client id, with a real Mosquitto: the one thrown off names the
collision (an ERROR and ``client_id_collision``), over MQTT 5 and 3.1.1; a broker restart does
not. A broker's DISCONNECT "Session taken over" (MQTT 5 reason code 0x8E, which Mosquitto 2.0.11
does not send, and no broker the tests run sends) is named at once: shown on the watch itself, with
the counting rules, on a hand-driven clock."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest

from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.mqttlink import client_id_collision, connect_blocking, make_client
from ville_autonome.mqttlink.client import Client
from ville_autonome.mqttlink.takeover import (
    CLEAR_AFTER_S,
    SHORT_CONNECTION_S,
    SHORT_CONNECTIONS,
    TakeoverWatch,
)

PROTOCOLS = ["5", "3.1.1"]
# 3.1.1: SHORT_CONNECTIONS short connections per side, a reconnect delay of 1 s each (paho's minimum
# after an accepted connection): a few seconds on an idle machine
COLLISION_TIMEOUT_S = 60.0


@pytest.fixture
def started() -> Iterator[Callable[[Client], Client]]:
    clients: list[Client] = []

    def track(client: Client) -> Client:
        clients.append(client)
        return client

    yield track
    for c in reversed(clients):
        c.disconnect()
        c.loop_stop()


def _persistent(settings: MqttSettings, client_id: str) -> Client:
    """A client as the ingest and the API make theirs: stable id, persistent session, connected."""
    client = make_client(settings, client_id, clean_start=False)
    connect_blocking(client, settings, clean_start=False)
    return client


def _named(client: mqtt.Client, what: str, timeout: float = 10.0) -> str:
    return str(wait_for(lambda: client_id_collision(client), timeout=timeout, what=what))


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_second_process_with_the_same_client_id_is_named(
    protocol: str,
    mosquitto: Mosquitto,
    started: Callable[[Client], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = MqttSettings(url=mosquitto.url, protocol=protocol)  # type: ignore[arg-type]
    client_id = f"va-ingest-{uuid.uuid4().hex[:8]}"
    first = started(_persistent(settings, client_id))
    assert client_id_collision(first) is None
    second = started(_persistent(settings, client_id))

    # Mosquitto 2.0.11 closes the socket of the client it replaces, for MQTT 5 too (no DISCONNECT
    # 0x8E): the short connections in a row name it
    named = _named(first, "the collision named", COLLISION_TIMEOUT_S)
    assert f"another process probably uses client id {client_id!r}" in named
    assert [e for e in _errors(caplog) if client_id in e and "another process" in e], "no ERROR naming the id"
    # the newcomer is thrown off in turn as the first one reconnects: it names it too
    _named(second, "the newcomer names it too", COLLISION_TIMEOUT_S)
    # once per client and episode, not at every flap
    watch = first.takeover
    assert watch is not None
    seen = watch.detections
    wait_for(lambda: watch.detections > seen, timeout=COLLISION_TIMEOUT_S, what="one more flap")
    assert len([e for e in _errors(caplog) if client_id in e]) == 2


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_broker_restart_is_not_a_collision(
    protocol: str,
    mosquitto_factory: Callable[..., Mosquitto],
    started: Callable[[Client], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = mosquitto_factory(persistence=True)
    settings = MqttSettings(url=broker.url, protocol=protocol)  # type: ignore[arg-type]
    client = started(_persistent(settings, f"va-api-{uuid.uuid4().hex[:8]}"))
    broker.stop()
    wait_for(lambda: not client.is_connected(), what="the client to see the broker gone")
    broker.start()
    wait_for(client.is_connected, timeout=30.0, what="the client reconnected by itself")
    assert client_id_collision(client) is None
    assert _errors(caplog) == []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _flap(watch: TakeoverWatch, clock: Clock, times: int, *, lasting: float = 1.0) -> None:
    for _ in range(times):
        watch.connected()
        clock.now += lasting
        watch.disconnected(taken_over=False, closed_by_broker=True)
        clock.now += 1.0


def test_short_connections_closed_by_the_broker_count_only_in_a_row() -> None:
    clock = Clock()
    watch = TakeoverWatch("gw-a", clock=clock)
    _flap(watch, clock, SHORT_CONNECTIONS - 1)
    _flap(watch, clock, 1, lasting=SHORT_CONNECTION_S)  # a connection that lasted: the count starts again
    _flap(watch, clock, SHORT_CONNECTIONS - 1)
    assert watch.problem is None
    _flap(watch, clock, 1)
    assert watch.problem is not None
    assert "another process probably uses client id 'gw-a'" in watch.problem


def test_our_own_disconnects_and_keepalive_losses_are_not_counted() -> None:
    clock = Clock()
    watch = TakeoverWatch("gw-a", clock=clock)
    for _ in range(SHORT_CONNECTIONS * 2):
        watch.connected()
        clock.now += 1.0
        watch.disconnected(taken_over=False, closed_by_broker=False)
    assert watch.problem is None


def test_one_takeover_is_named_at_once_even_after_a_long_connection() -> None:
    clock = Clock()
    watch = TakeoverWatch("va-api-1", clock=clock)
    watch.connected()
    clock.now += 10 * CLEAR_AFTER_S
    watch.disconnected(taken_over=True, closed_by_broker=True)
    assert watch.problem is not None
    assert "another process uses client id 'va-api-1'" in watch.problem
    assert watch.detections == 1


def test_the_flag_clears_once_a_connection_stays_up() -> None:
    clock = Clock()
    watch = TakeoverWatch("va-api-1", clock=clock)
    watch.connected()
    watch.disconnected(taken_over=True, closed_by_broker=True)
    watch.connected()
    clock.now += CLEAR_AFTER_S - 1
    assert watch.problem is not None  # still up for less than CLEAR_AFTER_S: the other may come back
    clock.now += 1
    assert watch.problem is None
