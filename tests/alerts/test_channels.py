"""Each channel against a real receiver — an HTTP server, an SMTP server process (aiosmtpd, STARTTLS
and AUTH), Mosquitto — and the delivery loop's retries, backoff and dead letters."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.alerts.receivers import Pki, SmtpServer, WebhookReceiver, make_pki
from tests.support.ports import free_port
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.alerts import messages
from ville_autonome.alerts.channels import Channel, DeliveryError, EmailChannel, MqttChannel, WebhookChannel
from ville_autonome.alerts.delivery import backoff_ms, deliver_due
from ville_autonome.configuration.alerts import AlertSettings
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.journals.alarm_log_sqlite import SqliteAlarmLog
from ville_autonome.journals.alarm_records import Delivery

NOW = int(time.time() * 1000)
SECRET = b"webhook-secret-0123"
MESSAGE = {"schema": 1, "id": "m1", "created_ms": NOW, "group": {"district": "north"}, "status": "firing",
           "counts": {"firing": 1, "resolved": 0},
           "alarms": [{"id": "e1", "key": "silent:a", "rule": "silent", "transition": "firing", "state": "firing",
                       "severity": "critical", "scope": "device", "subject": "a", "labels": {}, "summary": "a: silent",
                       "value": 95.0, "active_since_ms": NOW, "fired_ms": NOW, "resolved_ms": None, "url": None}]}  # fmt: skip
BODY = messages.encode(MESSAGE)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def smtp(tmp_path: Path, pki: Pki) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path, pki, user="va-alerts", password=SMTP_PASSWORD)
    yield server
    server.stop()


SMTP_PASSWORD = "smtp-pass-123"


def email_settings(smtp: SmtpServer, pki: Pki, password: str = SMTP_PASSWORD) -> AlertSettings:
    return AlertSettings.model_validate(
        {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_ca_file": str(pki.ca),
            "smtp_username": "va-alerts",
            "smtp_password": password,
            "email_from": "va@example.org",
            "email_to": ["ops@example.org", "astreinte@example.org"],
            "smtp_timeout_s": 10,
        }
    )


def test_a_webhook_is_signed_and_carries_its_message_id(receiver: WebhookReceiver) -> None:
    WebhookChannel(receiver.url, SECRET, 5).send(MESSAGE, BODY, NOW)
    (got,) = receiver.received
    assert got.path == "/hooks/alarms"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-va-delivery"] == "m1"
    assert messages.verify(SECRET, got.headers["x-va-timestamp"], got.body, got.headers["x-va-signature"])
    assert json.loads(got.body) == MESSAGE


@pytest.mark.parametrize(
    ("status", "permanent"), [(500, False), (503, False), (429, False), (408, False), (400, True), (404, True)]
)
def test_webhook_answers_that_may_pass_are_retried(receiver: WebhookReceiver, status: int, permanent: bool) -> None:
    receiver.plan = [status]
    with pytest.raises(DeliveryError) as info:
        WebhookChannel(receiver.url, SECRET, 5).send(MESSAGE, BODY, NOW)
    assert info.value.permanent is permanent
    assert str(status) in str(info.value)


def test_a_webhook_that_does_not_answer_in_time_is_retried() -> None:
    hold = threading.Event()
    r = WebhookReceiver(hold=hold)
    try:
        with pytest.raises(DeliveryError) as info:
            WebhookChannel(r.url, SECRET, 0.3).send(MESSAGE, BODY, NOW)
        assert not info.value.permanent
        assert "timed out" in str(info.value)
    finally:
        hold.set()
        r.close()


def test_an_unreachable_webhook_is_retried() -> None:
    with pytest.raises(DeliveryError) as info:
        WebhookChannel(f"http://127.0.0.1:{free_port()}/x", SECRET, 2).send(MESSAGE, BODY, NOW)
    assert not info.value.permanent


def test_email_over_starttls_with_credentials(smtp: SmtpServer, pki: Pki) -> None:
    EmailChannel(email_settings(smtp, pki)).send(MESSAGE, BODY, NOW)
    (mail,) = wait_for(smtp.messages, timeout=10, what="the e-mail")
    assert mail["Subject"].startswith("[Ville Autonome] FIRING CRITICAL: 1 alarm (district north) - a: silent")
    assert mail["To"] == "ops@example.org, astreinte@example.org"
    assert mail["X-VA-Delivery"] == "m1"
    assert "a: silent" in mail.get_content()


def test_email_with_a_wrong_password_is_a_dead_letter_at_once(smtp: SmtpServer, pki: Pki) -> None:
    with pytest.raises(DeliveryError) as info:
        EmailChannel(email_settings(smtp, pki, password="wrong")).send(MESSAGE, BODY, NOW)
    assert info.value.permanent
    assert "refused the credentials" in str(info.value)
    assert "wrong" not in str(info.value)


def test_no_credentials_without_starttls(tmp_path: Path, pki: Pki) -> None:
    plain = SmtpServer(tmp_path, None)
    try:
        with pytest.raises(DeliveryError) as info:
            EmailChannel(email_settings(plain, pki)).send(MESSAGE, BODY, NOW)
        assert info.value.permanent
        assert "does not offer STARTTLS" in str(info.value)
        assert plain.messages() == []
    finally:
        plain.stop()


def test_mqtt_publishes_the_message_and_says_when_the_broker_is_away(
    mosquitto_factory: type[Mosquitto], unique_name: str
) -> None:
    broker = mosquitto_factory(persistence=False)  # type: ignore[call-arg]
    settings = MqttSettings(url=broker.url, topic_root=unique_name)
    got: list[bytes] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{unique_name}-sub")
    sub.on_message = lambda c, u, m: got.append(m.payload)
    sub.connect(broker.host, broker.port)
    sub.subscribe(f"{unique_name}/v1/alarms", qos=1)
    sub.loop_start()
    channel = MqttChannel(settings, f"{unique_name}-alerts", timeout_s=5)
    try:
        wait_for(channel._client.is_connected, timeout=10, what="the channel's connection")
        channel.send(MESSAGE, BODY, NOW)
        wait_for(lambda: got, timeout=10, what="the MQTT message")
        assert got == [BODY]
        broker.kill()
        wait_for(lambda: not channel._client.is_connected(), timeout=10, what="the connection lost")
        with pytest.raises(DeliveryError) as info:
            channel.send(MESSAGE, BODY, NOW)
        assert not info.value.permanent
    finally:
        channel.close()
        sub.disconnect()
        sub.loop_stop()


# ------------------------------------------------------------------ the delivery loop


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_ms(n, 2.0, 30.0) for n in range(1, 7)] == [2000, 4000, 8000, 16000, 30000, 30000]


def _pending(log: SqliteAlarmLog, channel: str) -> Delivery:
    d = Delivery("m1", channel, "district=north", NOW, BODY.decode(), [("e1", "firing")])
    log.commit_message([d], [])
    return d


def test_retries_with_backoff_then_delivered(tmp_path: Path, receiver: WebhookReceiver) -> None:
    log = SqliteAlarmLog(tmp_path / "a.sqlite")
    settings = AlertSettings(retry_backoff_s=2, retry_max_attempts=5)
    chans: dict[str, Channel] = {"webhook": WebhookChannel(receiver.url, SECRET, 5)}
    receiver.plan = [503, 502]
    _pending(log, "webhook")
    assert deliver_due(log, chans, settings, NOW) == 1
    (d,) = log.deliveries()
    assert (d.status, d.attempts, d.next_attempt_ms) == ("pending", 1, NOW + 2000)
    assert "503" in d.last_error
    assert deliver_due(log, chans, settings, NOW + 1999) == 0, "not before its backoff"
    deliver_due(log, chans, settings, NOW + 2000)
    (d,) = log.deliveries()
    assert (d.status, d.attempts, d.next_attempt_ms) == ("pending", 2, NOW + 2000 + 4000)
    deliver_due(log, chans, settings, NOW + 6000)
    (d,) = log.deliveries()
    assert (d.status, d.attempts, d.done_ms) == ("delivered", 3, NOW + 6000)
    assert len(receiver.received) == 3
    assert {r.headers["x-va-delivery"] for r in receiver.received} == {"m1"}, "a retry is the same message"
    log.close()


def test_what_cannot_be_delivered_is_a_dead_letter(tmp_path: Path, receiver: WebhookReceiver) -> None:
    log = SqliteAlarmLog(tmp_path / "a.sqlite")
    settings = AlertSettings(retry_backoff_s=1, retry_max_attempts=3)
    unreachable: dict[str, Channel] = {"webhook": WebhookChannel(f"http://127.0.0.1:{free_port()}/x", SECRET, 2)}
    _pending(log, "webhook")
    for t in (NOW, NOW + 1000, NOW + 3000):
        deliver_due(log, unreachable, settings, t)
    (d,) = log.deliveries()
    assert (d.status, d.attempts) == ("dead", 3)
    # a refusal for what the message is: dead at the first attempt
    receiver.plan = [400]
    log2 = SqliteAlarmLog(tmp_path / "b.sqlite")
    _pending(log2, "webhook")
    deliver_due(log2, {"webhook": WebhookChannel(receiver.url, SECRET, 5)}, settings, NOW)
    (d,) = log2.deliveries()
    assert (d.status, d.attempts) == ("dead", 1)
    (event,) = log2.events(since_ms=NOW - 1, until_ms=NOW + 1)
    assert (event.kind, event.by) == ("undelivered", "webhook")
    # a channel no longer configured
    _pending(log2, "email")
    deliver_due(log2, {}, settings, NOW)
    assert {d.channel: d.status for d in log2.deliveries()} == {"webhook": "dead", "email": "dead"}
    log.close()
    log2.close()
