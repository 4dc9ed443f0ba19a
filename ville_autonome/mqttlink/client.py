"""Build and connect paho-mqtt clients from :class:`configuration.services.MqttSettings`.

``make_client`` never connects; ``connect_blocking`` connects once and turns a refused or
unreachable broker into :class:`BrokerUnreachableError` (one line, no traceback at start-up).
After that, paho's own reconnect loop (``reconnect_delay_set``, capped exponential backoff) keeps
the connection patient.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ville_autonome.configuration.errors import ServiceUnreachableError
from ville_autonome.configuration.services import MqttSettings


class BrokerUnreachableError(ServiceUnreachableError):
    """The MQTT broker did not accept a connection."""


def make_client(settings: MqttSettings, client_id: str, *, clean_start: bool = True) -> mqtt.Client:
    """A configured, unconnected client. ``clean_start=False`` keeps the broker session
    (subscriptions and queued QoS 1 messages) across reconnects and restarts."""
    if settings.protocol == "5":
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    else:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, clean_session=clean_start
        )
    if settings.username:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    if settings.use_tls:
        context = ssl.create_default_context(cafile=settings.ca_file)
        client.tls_set_context(context)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def connect_properties(
    settings: MqttSettings,
    *,
    clean_start: bool,
    session_expiry_s: int = 7 * 86400,
    receive_maximum: int | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``client.connect`` matching the protocol version. ``receive_maximum``
    (MQTT 5) caps how many QoS 1/2 messages the broker sends before this client acknowledges them:
    with manual acks it is how a slow consumer bounds its memory and leaves the rest queued."""
    if settings.protocol != "5":
        return {}
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)
    if not clean_start:
        props.SessionExpiryInterval = session_expiry_s
    if receive_maximum is not None:
        props.ReceiveMaximum = max(1, min(receive_maximum, 65535))
    return {"clean_start": clean_start, "properties": props}


def _close_wakeup_sockets(client: mqtt.Client) -> None:
    """paho keeps a wake-up socket pair open until the client is garbage-collected (a ResourceWarning
    under ``-W error``); a client that never connected is closed now."""
    reset = getattr(client, "_reset_sockets", None)
    if callable(reset):
        reset()


def connect_blocking(
    client: mqtt.Client,
    settings: MqttSettings,
    *,
    clean_start: bool = True,
    timeout_s: float = 10.0,
    receive_maximum: int | None = None,
) -> None:
    """Connect and start the network loop; raise :class:`BrokerUnreachableError` if the broker
    does not accept within ``timeout_s``. The caller stops it with ``loop_stop()``/``disconnect()``."""
    connected = threading.Event()
    refused: list[str] = []
    previous = client.on_connect

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            refused.append(str(reason))
        connected.set()
        if previous is not None:
            previous(c, userdata, flags, reason, props)  # type: ignore[call-arg]

    client.on_connect = on_connect  # restored once connected
    where = f"{settings.host}:{settings.port}"
    try:
        client.connect(
            settings.host,
            settings.port,
            keepalive=settings.keepalive_s,
            **connect_properties(settings, clean_start=clean_start, receive_maximum=receive_maximum),
        )
    except (OSError, ssl.SSLError) as exc:
        _close_wakeup_sockets(client)
        raise BrokerUnreachableError(f"MQTT broker at {where} is unreachable: {exc}") from None
    client.loop_start()
    if not connected.wait(timeout_s) or refused:
        client.loop_stop()
        _close_wakeup_sockets(client)
        client.on_connect = previous
        reason = refused[0] if refused else f"no answer within {timeout_s:g} s"
        raise BrokerUnreachableError(f"MQTT broker at {where} refused the connection: {reason}")
    client.on_connect = previous
