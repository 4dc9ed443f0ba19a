"""Build and connect paho-mqtt clients from :class:`configuration.services.MqttSettings`.

``make_client`` never connects; ``connect_blocking`` connects once and turns a refused or
unreachable broker into :class:`BrokerUnreachableError` (one line, no traceback at start-up).
After that, paho's own reconnect loop (``reconnect_delay_set``, capped exponential backoff) keeps
the connection patient; :func:`connect_problem` names why the last attempt failed.

Every client watches its own connections for another process using its client id
(:mod:`mqttlink.takeover`): :func:`client_id_collision` names it while it lasts, for the services'
health output.

TLS: ``tls`` or an ``mqtts://`` URL, the broker's CA in ``ca_file``; for mutual TLS the client's
certificate and key in ``cert_file``/``key_file``. A certificate problem is named as such (the
broker's certificate refused, our certificate required or refused), never as "unreachable".

Exceptions::

    configuration.errors.StartupError
    ├── ConfigError                          cert_file/key_file/ca_file cannot be loaded
    └── ServiceUnreachableError
        └── BrokerUnreachableError           the broker refused or did not answer
            └── BrokerCertificateError       a TLS certificate was refused, or one is required
"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ville_autonome.configuration.errors import ConfigError, ServiceUnreachableError
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.mqttlink.takeover import SESSION_TAKEN_OVER, TakeoverWatch

LOST_BEFORE_CONNACK = "the connection was closed before the broker answered"


class BrokerUnreachableError(ServiceUnreachableError):
    """The MQTT broker did not accept a connection."""


class BrokerCertificateError(BrokerUnreachableError):
    """TLS with the broker failed on a certificate: its own refused, or ours required or refused."""


class Client(mqtt.Client):
    """paho's client, remembering why its last connection attempt failed (paho's own reconnect
    loop only calls ``on_connect_fail``, without the reason): :func:`connect_problem` reads it;
    and telling its :class:`TakeoverWatch` (set by :func:`make_client`) of every accepted
    connection and every disconnection, whatever callbacks the service set."""

    last_connect_error: BaseException | None = None
    last_socket_error: str | None = None
    client_certificate = False  # mutual TLS configured
    takeover: TakeoverWatch | None = None

    def _handle_connack(self) -> mqtt.MQTTErrorCode:
        rc = super()._handle_connack()
        if self.takeover is not None and self.is_connected():  # accepted (a refusal leaves it connecting)
            self.takeover.connected()
        return rc

    def _do_on_disconnect(
        self,
        packet_from_broker: bool,
        v1_rc: mqtt.MQTTErrorCode,
        reason: ReasonCode | None = None,
        properties: Properties | None = None,
    ) -> None:
        if self.takeover is not None:
            self.takeover.disconnected(
                taken_over=packet_from_broker and reason is not None and reason.value == SESSION_TAKEN_OVER,
                closed_by_broker=packet_from_broker or v1_rc == mqtt.MQTT_ERR_CONN_LOST,
            )
        super()._do_on_disconnect(packet_from_broker, v1_rc, reason, properties)

    def reconnect(self) -> mqtt.MQTTErrorCode:
        try:
            rc = super().reconnect()
        except OSError as exc:
            self.last_connect_error = exc
            raise
        self.last_connect_error = None
        return rc

    def _ssl_wrap_socket(self, tcp_sock: socket.socket) -> ssl.SSLSocket:
        # paho drops the TLS socket whose handshake failed without closing it (a ResourceWarning
        # at every attempt against a broker with an untrusted certificate): close it here
        try:
            return super()._ssl_wrap_socket(tcp_sock)
        except BaseException as exc:
            tb = exc.__traceback__
            while tb is not None:
                sock = tb.tb_frame.f_locals.get("ssl_sock")
                if isinstance(sock, ssl.SSLSocket):
                    sock.close()
                tb = tb.tb_next
            raise


def make_client(settings: MqttSettings, client_id: str, *, clean_start: bool = True) -> Client:
    """A configured, unconnected client. ``clean_start=False`` keeps the broker session
    (subscriptions and queued QoS 1 messages) across reconnects and restarts."""
    if settings.protocol == "5":
        client = Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    else:
        client = Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, clean_session=clean_start
        )
    if settings.username:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    if settings.use_tls:
        client.tls_set_context(tls_context(settings))
        client.client_certificate = bool(settings.cert_file)
        # with TLS 1.3 a refused client certificate arrives after the handshake, as an error paho
        # only logs: keep its last socket error for connect_problem()
        client.on_log = _keep_socket_errors
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.takeover = TakeoverWatch(client_id)
    return client


def client_id_collision(client: mqtt.Client | None) -> str | None:
    """Another process using ``client``'s client id, named (``mqttlink.takeover``), while it lasts;
    ``None`` when none is seen (or ``client`` was not made by :func:`make_client`)."""
    watch = getattr(client, "takeover", None)
    return watch.problem if isinstance(watch, TakeoverWatch) else None


def tls_context(settings: MqttSettings) -> ssl.SSLContext:
    """The TLS context of ``settings``; :class:`ConfigError` naming the file that cannot be loaded."""
    try:
        context = ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError([f"services.mqtt.ca_file: cannot load {settings.ca_file}: {exc}"]) from None
    if settings.cert_file or settings.key_file:
        if not settings.cert_file:
            raise ConfigError(["services.mqtt.cert_file: a key_file needs its cert_file (mutual TLS)"])
        try:
            context.load_cert_chain(settings.cert_file, settings.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                [f"services.mqtt.cert_file/key_file: cannot load {settings.cert_file} / {settings.key_file}: {exc}"]
            ) from None
    return context


def _keep_socket_errors(client: mqtt.Client, userdata: Any, level: int, buf: str) -> None:
    if level == mqtt.MQTT_LOG_ERR and isinstance(client, Client):
        client.last_socket_error = buf


def describe_tls_error(exc: BaseException | str, *, client_certificate: bool = False) -> str | None:
    """What a TLS failure says about certificates, in words; ``None`` when it is not about one."""
    text = exc.verify_message if isinstance(exc, ssl.SSLCertVerificationError) else str(exc)
    low = text.lower()
    if isinstance(exc, ssl.SSLCertVerificationError) or "certificate verify failed" in low:
        return f"the broker's TLS certificate was refused ({text})"
    if "certificate required" in low or "peer did not return a certificate" in low:
        return "the broker requires a client certificate (set services.mqtt.cert_file and key_file)"
    if "certificate" in low or "unknown ca" in low:
        return f"TLS certificate problem ({text})"
    if "eof occurred in violation of protocol" in low:
        # TLS 1.3: a broker that refuses the client's certificate (or its absence) just closes
        if client_certificate:
            return (
                f"TLS certificate problem: the broker closed the connection, refusing our client certificate ({text})"
            )
        return (
            "TLS certificate problem: the broker closed the connection; it requires a client certificate "
            f"(set services.mqtt.cert_file and key_file) ({text})"
        )
    return None


def connect_problem(client: mqtt.Client) -> str:
    """Why ``client``'s last connection attempt failed, in a few words ("unreachable" unless a
    certificate or a refusal explains more)."""
    if isinstance(client, Client):
        for cause in (client.last_connect_error, client.last_socket_error):
            if cause is not None:
                named = describe_tls_error(cause, client_certificate=client.client_certificate)
                if named:
                    return named
        if client.last_connect_error is not None:
            return f"is unreachable: {client.last_connect_error}"
    return "is unreachable"


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
    previous_disconnect = client.on_disconnect

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if getattr(reason, "is_failure", False):
            refused.append(str(reason))
        connected.set()
        if previous is not None:
            previous(c, userdata, flags, reason, props)  # type: ignore[call-arg]

    def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not connected.is_set():  # lost before the CONNACK (a TLS alert, say)
            refused.append(LOST_BEFORE_CONNACK)
            connected.set()
        if previous_disconnect is not None:
            previous_disconnect(c, userdata, flags, reason, props)  # type: ignore[call-arg]

    client.on_disconnect = on_disconnect
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
        named = describe_tls_error(exc)
        if named:
            raise BrokerCertificateError(f"MQTT broker at {where}: {named}") from None
        raise BrokerUnreachableError(f"MQTT broker at {where} is unreachable: {exc}") from None
    client.loop_start()
    if not connected.wait(timeout_s) or refused:
        client.loop_stop()
        _close_wakeup_sockets(client)
        client.on_connect, client.on_disconnect = previous, previous_disconnect
        socket_error = client.last_socket_error if isinstance(client, Client) else None
        mutual = isinstance(client, Client) and client.client_certificate
        named = describe_tls_error(socket_error, client_certificate=mutual) if socket_error else None
        if named is None and settings.use_tls and refused == [LOST_BEFORE_CONNACK]:
            # a broker refusing the client's certificate (or its absence) under TLS 1.3 just closes
            named = describe_tls_error("EOF occurred in violation of protocol", client_certificate=mutual)
        if named:
            raise BrokerCertificateError(f"MQTT broker at {where}: {named}")
        reason = refused[0] if refused else f"no answer within {timeout_s:g} s"
        raise BrokerUnreachableError(f"MQTT broker at {where} refused the connection: {reason}")
    client.on_connect, client.on_disconnect = previous, previous_disconnect
