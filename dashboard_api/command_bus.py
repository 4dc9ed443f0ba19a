"""The API's end of the downlink: publish commands, receive their results, keep the audit log.

The API process that sends a command is the one that listens for results (docs/commands.md): its
:class:`CommandBus` subscribes to ``Topics.command_result_filter()`` (QoS 1) before it publishes
anything (it starts at the first command route called), and settles each result into the audit log
(``journals.command_log``) as it arrives. Results are upserts keyed by command id, so several API
instances may all listen.

Its MQTT session is persistent: clean start off, a session expiry of :data:`SESSION_EXPIRY_S`, and
a client id that stays the same across restarts (``services.api.command_client_id``, one per API
process). The broker keeps the results published while the API is down and delivers them when it
comes back; :meth:`CommandBus.resume` (at the API's start-up) reconnects at once when the log holds
a command still waiting for its result. Two API processes with one client id throw each other off
the broker and may take each other's results: :attr:`CommandBus.client_id_collision` names it
(``/metrics``: ``va_mqtt_client_id_collision``). A result lost anyway (the session expired, the broker lost
it) leaves its command ``sent``, shown as ``no_result`` once its expiry has passed.

Errors::

    configuration.errors.ServiceUnreachableError
    └── BusUnavailableError    the broker does not take the command (not connected, no PUBACK)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from ville_autonome.configuration.errors import ServiceUnreachableError
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.journals.command_log import CommandLog, CommandRecord, settle
from ville_autonome.mqttlink.client import client_id_collision, connect_properties, make_client
from ville_autonome.readings.commands import (
    FINAL,
    Command,
    CommandFormatError,
    CommandStatus,
    decode_result,
    encode_command,
)
from ville_autonome.readings.topics import Topics

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 86_400  # results queued for an API away for up to a day (commands expire within 1 h)
PENDING_LOOKBACK = 200  # the newest commands of the log looked at by resume()


class BusUnavailableError(ServiceUnreachableError):
    """The broker cannot take a command now."""


class CommandBus:
    """One MQTT client of the API for commands; thread-safe; ``start`` is idempotent."""

    def __init__(
        self, mqtt_settings: MqttSettings, open_log: Callable[[], CommandLog], client_id: str = "va-api-1"
    ) -> None:
        self.settings = mqtt_settings
        self.client_id = client_id
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

    @property
    def has_client(self) -> bool:
        """Whether the command client exists (made at the first command or by :meth:`resume`)."""
        return self._client is not None

    @property
    def client_id_collision(self) -> str | None:
        """Another process using :attr:`client_id`, named while it lasts (``mqttlink.takeover``)."""
        return client_id_collision(self._client)

    def connect(self) -> None:
        """Start connecting (persistent session) and return; idempotent. The client subscribes to the
        results on every connection and retries in the background until :meth:`stop`."""
        with self._lock:
            if self._client is None:
                client = make_client(self.settings, self.client_id, clean_start=False)
                client.on_connect = self._on_connect
                client.on_subscribe = self._on_subscribe
                client.on_message = self._on_message
                client.on_disconnect = self._on_disconnect
                s = self.settings
                props = connect_properties(s, clean_start=False, session_expiry_s=SESSION_EXPIRY_S)
                client.connect_async(s.host, s.port, keepalive=s.keepalive_s, **props)
                client.loop_start()
                self._client = client

    def start(self, timeout_s: float = 5.0) -> None:
        """Connect and subscribe to the results (waits up to ``timeout_s`` for the SUBACK)."""
        self.connect()
        if not self._ready.wait(timeout_s):
            raise BusUnavailableError(f"MQTT broker at {self.settings.host}:{self.settings.port} is not reachable")

    def resume(self) -> bool:
        """At start-up: connect at once if a command of the log still waits for its result, so that
        the broker delivers what it kept in this client's session while the API was down. Says
        whether it connected; a log that cannot be read is logged, never fatal to the start-up."""
        try:
            waiting = any(r.status == CommandStatus.SENT for r in self.log.list(limit=PENDING_LOOKBACK))
        except Exception as exc:  # the store's own error kinds: none may stop the API's start-up
            log.warning("command log unreadable at start-up (%s): kept results wait for the first command", exc)
            return False
        if waiting:
            log.info("commands wait for their results: command client %s reconnects", self.client_id)
            self.connect()
        return waiting

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
