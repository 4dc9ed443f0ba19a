"""Where notifications go (I/O): a webhook, e-mail over SMTP, an MQTT topic, and the log.

Each channel's ``send(message, body)`` returns when the message was delivered, or raises
:class:`DeliveryError` saying whether trying again may help (``permanent``): a refusal for what
the message is (HTTP 4xx, SMTP 5xx, authentication refused) is permanent; an unreachable or busy
receiver (connection refused, time-out, HTTP 408/429/5xx, SMTP 4xx) is not. ``alerts.delivery``
retries and dead-letters.
"""

from __future__ import annotations

import http.client
import logging
import smtplib
import ssl
import threading
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import urlsplit

from ville_autonome.alerts import messages
from ville_autonome.configuration.alerts import AlertSettings
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.mqttlink.client import make_client

log = logging.getLogger(__name__)
USER_AGENT = "ville-autonome-alerts/1"
MAX_ERROR_CHARS = 300
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)  # the subject (≤ 200 characters) stays on one line


class DeliveryError(Exception):
    """A message not delivered on one channel; ``permanent``: trying again will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message[:MAX_ERROR_CHARS])
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def send(self, message: dict[str, Any], body: bytes, now_ms: int) -> None: ...
    def close(self) -> None: ...


class LogChannel:
    """Every message in the service's log (what ``make demo`` shows in the terminal)."""

    name = "log"

    def send(self, message: dict[str, Any], body: bytes, now_ms: int) -> None:
        lines = [f"  {a['transition'].upper():8} {a['severity']:8} {a['summary']}" for a in message["alarms"]]
        log.warning("notification %s\n%s", messages.subject_line(message), "\n".join(lines))

    def close(self) -> None:
        pass


class WebhookChannel:
    """``POST`` of the JSON message, signed (``X-VA-Signature``, ``X-VA-Timestamp``), with the
    message id in ``X-VA-Delivery`` (a receiver dedupes by it: delivery is at least once)."""

    name = "webhook"

    def __init__(self, url: str, secret: bytes | None, timeout_s: float) -> None:
        self.url, self.secret, self.timeout_s = url, secret, timeout_s
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def send(self, message: dict[str, Any], body: bytes, now_ms: int) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-VA-Delivery": str(message["id"]),
            "X-VA-Timestamp": str(now_ms),
        }
        if self.secret is not None:
            headers["X-VA-Signature"] = messages.signature(self.secret, now_ms, body)
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout_s)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout_s)
        try:
            conn.request("POST", self._target, body=body, headers=headers)
            r = conn.getresponse()
            answer = r.read(MAX_ERROR_CHARS).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            raise DeliveryError(f"webhook {self._host}: {type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        if 200 <= r.status < 300:
            return
        permanent = 400 <= r.status < 500 and r.status not in (408, 425, 429)
        raise DeliveryError(f"webhook {self._host} answered {r.status}: {answer}", permanent=permanent)

    def close(self) -> None:
        pass


class EmailChannel:
    """One e-mail per message over SMTP, STARTTLS before any credential (refused when the server
    cannot), login with ``smtp_username``/``smtp_password`` when given."""

    name = "email"

    def __init__(self, settings: AlertSettings) -> None:
        self.s = settings

    def _email(self, message: dict[str, Any], now_ms: int) -> EmailMessage:
        m = EmailMessage(policy=MAIL_POLICY)
        m["Subject"] = messages.subject_line(message)
        m["From"] = self.s.email_from or ""
        m["To"] = ", ".join(self.s.email_to)
        m["Date"] = formatdate(now_ms / 1000)
        m["Message-ID"] = make_msgid(idstring=str(message["id"]), domain="ville-autonome")
        m["X-VA-Delivery"] = str(message["id"])
        m.set_content(messages.text_body(message))
        return m

    def send(self, message: dict[str, Any], body: bytes, now_ms: int) -> None:
        s = self.s
        assert s.smtp_host is not None
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
                smtp.ehlo()
                if s.smtp_starttls:
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError(f"SMTP {s.smtp_host} does not offer STARTTLS", permanent=True)
                    smtp.starttls(context=ssl.create_default_context(cafile=s.smtp_ca_file))
                    smtp.ehlo()
                if s.smtp_username:
                    password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                    smtp.login(s.smtp_username, password)
                smtp.send_message(self._email(message, now_ms))
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP {s.smtp_host} refused the credentials ({exc.smtp_code})", permanent=True
            ) from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise DeliveryError(f"SMTP {s.smtp_host}: {exc.smtp_code} {exc.smtp_error!r}", permanent=permanent) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP {s.smtp_host} refused every recipient", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {s.smtp_host}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        pass


class MqttChannel:
    """The message on ``{root}/v1/alarms`` at QoS 1, not retained; delivered once the broker
    acknowledged it (PUBACK). The connection is patient: paho reconnects by itself, and a message
    sent while it is down waits for a retry."""

    name = "mqtt"

    def __init__(self, settings: MqttSettings, client_id: str, timeout_s: float = 10.0) -> None:
        self.topic = f"{settings.topic_root}/v1/alarms"
        self.timeout_s = timeout_s
        self._client = make_client(settings, client_id)
        self._lock = threading.Lock()
        self._client.connect_async(settings.host, settings.port, keepalive=settings.keepalive_s)
        self._client.loop_start()

    def send(self, message: dict[str, Any], body: bytes, now_ms: int) -> None:
        with self._lock:
            if not self._client.is_connected():
                raise DeliveryError(f"MQTT: not connected to the broker (topic {self.topic})")
            info = self._client.publish(self.topic, body, qos=1, retain=False)
            try:
                info.wait_for_publish(timeout=self.timeout_s)
            except (RuntimeError, ValueError) as exc:
                raise DeliveryError(f"MQTT: {exc}") from exc
            if not info.is_published():
                raise DeliveryError(f"MQTT: the broker did not acknowledge within {self.timeout_s:g} s")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def channels(settings: AlertSettings, mqtt: MqttSettings, client_id: str) -> dict[str, Channel]:
    """The configured channels (the log always)."""
    out: dict[str, Channel] = {"log": LogChannel()}
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value().encode() if settings.webhook_secret else None
        out["webhook"] = WebhookChannel(settings.webhook_url, secret, settings.webhook_timeout_s)
    if settings.smtp_host:
        out["email"] = EmailChannel(settings)
    if settings.mqtt:
        out["mqtt"] = MqttChannel(mqtt, client_id)
    return out
