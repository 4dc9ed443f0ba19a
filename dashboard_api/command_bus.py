"""The API's end of the downlink: publish commands, receive their results, keep the audit log.

The API process that sends a command is the one that listens for results (docs/commands.md): its
:class:`CommandBus` subscribes to ``Topics.command_result_filter()`` before it publishes anything
(it starts at the first command route called), and settles each result into the audit log
(``journals.command_log``) as it arrives. Results are upserts keyed by command id, so several API
instances may all listen; a result that arrives while no API process listens leaves its command
``sent``, shown as ``no_result`` once its expiry has passed.

Errors::

    configuration.errors.ServiceUnreachableError
    └── BusUnavailableError    the broker does not take the command (not connected, no PUBACK)
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.errors import ServiceUnreachableError
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.journals.command_log import CommandLog, CommandRecord, settle
from ville_autonome.mqttlink.client import connect_properties, make_client
from ville_autonome.readings.commands import (
    FINAL,
    Command,
    CommandFormatError,
    decode_result,
    encode_command,
)
from ville_autonome.readings.topics import Topics

log = logging.getLogger(__name__)


class BusUnavailableError(ServiceUnreachableError):
    """The broker cannot take a command now."""


class CommandBus:
    """One MQTT client of the API for commands; thread-safe; ``start`` is idempotent."""

    def __init__(self, mqtt_settings: MqttSettings, open_log: Callable[[], CommandLog]) -> None:
        self.settings = mqtt_settings
        self._open_log = open_log
        self.topics = Topics(mqtt_settings.topic_root)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._settled = threading.Condition()
        self._client: mqtt.Client | None = None
        self._log: CommandLog | None = None
        self.results = 0
        self.bad_results = 0

    @property
    def log(self) -> CommandLog:
        with self._lock:
            if self._log is None:
                self._log = self._open_log()
            return self._log

    def start(self, timeout_s: float = 5.0) -> None:
        """Connect and subscribe to the results (waits up to ``timeout_s`` for the SUBACK)."""
        with self._lock:
            if self._client is None:
                client = make_client(self.settings, f"va-api-{uuid.uuid4().hex[:12]}")
                client.on_connect = self._on_connect
                client.on_subscribe = self._on_subscribe
                client.on_message = self._on_message
                client.on_disconnect = self._on_disconnect
                s = self.settings
                client.connect_async(s.host, s.port, keepalive=s.keepalive_s, **connect_properties(s, clean_start=True))
                client.loop_start()
                self._client = client
        if not self._ready.wait(timeout_s):
            raise BusUnavailableError(f"MQTT broker at {self.settings.host}:{self.settings.port} is not reachable")

    def publish(self, cmd: Command, timeout_s: float = 5.0) -> None:
        """Publish a command (QoS 1) and wait for the broker's PUBACK."""
        self.start(timeout_s)
        assert self._client is not None
        info = self._client.publish(self.topics.command(cmd.gateway), encode_command(cmd), qos=1)
        try:
            info.wait_for_publish(timeout=timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise BusUnavailableError(f"the broker did not take command {cmd.id}: {exc}") from None
        if not info.is_published():
            raise BusUnavailableError(f"the broker did not acknowledge command {cmd.id} within {timeout_s:g} s")

    def wait_final(self, command_id: str, timeout_s: float) -> CommandRecord | None:
        """The command's record once it has a result, or as it is after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._settled:
            while True:
                rec = self.log.get(command_id)
                left = deadline - time.monotonic()
                if rec is None or rec.status in FINAL or left <= 0:
                    return rec
                self._settled.wait(left)

    def stop(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            command_log, self._log = self._log, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        if command_log is not None:
            command_log.close()

    # ------------------------------------------------------------ paho callbacks (network thread)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT broker refused the API's command client: %s", reason)
            return
        client.subscribe(self.topics.command_result_filter(), qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        self._ready.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._ready.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            result = decode_result(bytes(message.payload))
        except CommandFormatError as exc:
            self.bad_results += 1
            log.warning("unusable command result on %s: %s", message.topic, exc)
            return
        if self.topics.gateway_of(message.topic) != result.gateway:
            self.bad_results += 1  # a gateway answers only on its own topic (the ACL makes it so)
            log.warning("command result for %s arrived on %s: ignored", result.gateway, message.topic)
            return
        update = CommandRecord(
            id=result.id,
            device=result.device,
            gateway=result.gateway,
            issued_by="",
            issued_ms=0,
            expires_ms=0,
            writes=[],
            status=result.status,
            detail=result.detail,
            exception_code=result.exception_code,
            readback=result.readback,
            done_ms=result.done_ms,
        )
        try:
            rec = settle(self.log, update)
        except Exception:  # a store error must not kill the network thread; the result is logged
            log.exception("command result %s could not be stored", result.id)
            return
        if rec is None:
            self.bad_results += 1
            log.warning("result of an unknown command %s (or from another gateway) ignored", result.id)
            return
        self.results += 1
        with self._settled:
            self._settled.notify_all()
