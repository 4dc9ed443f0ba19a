"""The gateway's MQTT connection: publishes envelopes and health, receives acks and device data.

One paho-mqtt client per gateway, client id ``va-gateway-{gateway}`` (stable across restarts),
last will ``offline`` retained on ``Topics.status(gw)``; ``online`` is published retained on
every connection. The client connects asynchronously: a broker that is down at start-up is
logged loudly once and retried by paho's capped backoff while the buffer fills — the gateway
never exits for it. A second process with the same gateway id (so the same client id) throws this
one off the broker each time it connects: :attr:`Uplink.client_id_collision` names it (an ERROR
once, then every "uplink lost" warning says it). Messages arrive on paho's network thread and are
handed to the asyncio loop at once (``call_soon_threadsafe``); nothing blocks that thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.services import MqttSettings
from ville_autonome.mqttlink.client import client_id_collision, connect_problem, connect_properties, make_client
from ville_autonome.readings.topics import Topics

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]


def gateway_client_id(gateway: str) -> str:
    return f"va-gateway-{gateway}"


class Uplink:
    """Thread-safe wrapper of the paho client; callbacks run on the asyncio loop."""

    def __init__(
        self,
        settings: MqttSettings,
        gateway: str,
        loop: asyncio.AbstractEventLoop,
        *,
        on_message: MessageHandler,
        on_connected: Callable[[], None],
        device_topics: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.topics = Topics(settings.topic_root)
        self._loop = loop
        self._on_message = on_message
        self._on_connected = on_connected
        self._device_topics = list(device_topics or [])
        self._connected = threading.Event()
        self._warned = False
        self._stopping = False
        self.connections = 0
        self.client = make_client(settings, gateway_client_id(gateway), clean_start=True)
        self.client.will_set(self.topics.status(gateway), b"offline", qos=1, retain=True)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._handle_connect
        self.client.on_disconnect = self._handle_disconnect
        self.client.on_connect_fail = self._handle_connect_fail
        self.client.on_message = self._handle_message

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def client_id_collision(self) -> str | None:
        """Another process using this gateway's client id, named while it lasts (``mqttlink.takeover``)."""
        return client_id_collision(self.client)

    def start(self) -> None:
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            self.client.connect_async(
                self.settings.host,
                self.settings.port,
                keepalive=self.settings.keepalive_s,
                **connect_properties(self.settings, clean_start=True),
            )
        except (OSError, ValueError) as exc:
            log.error("MQTT broker at %s: %s; buffering and retrying", where, exc)
        self.client.loop_start()

    def stop(self) -> None:
        """Publish ``offline`` (a clean stop does not fire the will) and stop the network thread."""
        self._stopping = True
        if self.connected:
            info = self.client.publish(self.topics.status(self.gateway), b"offline", qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2.0)
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Hand a message to paho; ``False`` if not connected (the caller keeps it buffered)."""
        if not self.connected:
            return False
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    # ------------------------------------------------------------ paho callbacks (network thread)

    def _handle_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            self._warn_once(f"refused the connection: {reason}")
            return
        self.connections += 1
        log.info("MQTT uplink connected to %s:%d", self.settings.host, self.settings.port)
        self._warned = False
        client.publish(self.topics.status(self.gateway), b"online", qos=1, retain=True)
        client.subscribe(self.topics.ack(self.gateway), qos=1)
        for topic in self._device_topics:
            client.subscribe(topic, qos=1)
        self._connected.set()
        self._loop.call_soon_threadsafe(self._on_connected)

    def _handle_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was and not self._stopping:
            collision = self.client_id_collision
            cause = f"; {collision}" if collision else ""
            log.warning("MQTT uplink lost (%s%s): buffering until the broker is back", reason, cause)

    def _handle_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._warn_once(connect_problem(client))  # a certificate problem is named as such

    def _warn_once(self, what: str) -> None:
        if not self._warned:
            self._warned = True
            log.error(
                "MQTT broker at %s:%d %s: readings are kept in the buffer and the connection is retried",
                self.settings.host,
                self.settings.port,
                what,
            )

    def _handle_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic, payload = message.topic, bytes(message.payload)
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(self._on_message, topic, payload)
