"""Acceptance of the alarms (issue 15), on the real path with real processes: a silenced device
fires its alarm within the rule's `for:` + 10 s; a webhook receiver (a real HTTP server), a real
SMTP server (aiosmtpd, STARTTLS and credentials) and an MQTT subscriber each receive exactly one
notification of it; the evaluator killed and restarted in between neither loses the alarm nor
notifies it again; it resolves when the device comes back (one notification each, again);
acknowledgement and silences by role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.process_lab import AFTER_S, FOR_S, WEBHOOK_SECRET, AlarmLab
from tests.alerts.receivers import Pki, make_pki
from tests.support.services import Mosquitto
from tests.support.waiting import wait_for
from ville_autonome.alerts import messages

pytestmark = pytest.mark.slow


@pytest.fixture
def lab(tmp_path: Path, mosquitto: Mosquitto, unique_name: str) -> Iterator[AlarmLab]:
    pki: Pki = make_pki(tmp_path)
    lab = AlarmLab(tmp_path, mosquitto, unique_name, pki)
    try:
        lab.start()
        yield lab
    except BaseException:
        print(lab.logs())
        raise
    finally:
        lab.close()


def webhook_messages(lab: AlarmLab) -> list[dict[str, Any]]:
    out = []
    for r in lab.webhook.received:
        ts, sig = r.headers["x-va-timestamp"], r.headers["x-va-signature"]
        assert messages.verify(WEBHOOK_SECRET.encode(), ts, r.body, sig), "every webhook is signed"
        out.append(json.loads(r.body))
    return out


def notified(found: list[dict[str, Any]], alarm_id: str) -> list[str]:
    """The transitions of ``alarm_id`` the messages carried, in order."""
    return [a["transition"] for m in found for a in m["alarms"] if a["id"] == alarm_id]


def emails(lab: AlarmLab, alarm_id: str) -> list[str]:
    out = []
    for mail in lab.smtp.messages():
        body = mail.get_content()
        doc = json.loads(body[body.index("{") :])
        out += notified([doc], alarm_id)
    return out


def firing(lab: AlarmLab, device: str) -> dict[str, Any] | None:
    r = lab.get("/api/v1/alarms", "viewer", state="firing", subject=device)
    found = r.json()["alarms"]
    return found[0] if found else None


def evaluations_after(lab: AlarmLab, n: int) -> bool:
    """The running evaluator leads and has evaluated ``n`` more times (its status file says so)."""
    status = lab.status()
    return status.get("role") == "leader" and status.get("evaluations", 0) >= n


def test_a_silent_device_fires_notifies_once_survives_a_restart_and_resolves(lab: AlarmLab) -> None:
    wait_for(lambda: lab.status().get("role") == "leader", timeout=60, what="the evaluator leads")
    values = lambda: {v["device"] for v in lab.get("/api/v1/live", "viewer").json()["values"] if v["quality"] == "good"}  # noqa: E731
    wait_for(lambda: values() == {"s1-grid", "s1-load"}, timeout=60, what="both devices read")

    lab.fault("POST", "/faults/s1-load/silent")
    alarm = wait_for(lambda: firing(lab, "s1-load"), timeout=90, interval=0.2, what="the alarm to fire")
    assert alarm["key"] == "device-silent:s1-load"
    assert alarm["labels"]["site"] == "s1"
    # fired within for: + 10 s of its condition becoming true (silent for after_s since last heard)
    assert alarm["fired_ms"] - alarm["active_since_ms"] <= FOR_S * 1000 + 10_000
    assert alarm["active_since_ms"] <= alarm["fired_ms"] - FOR_S * 1000

    alarm_id = alarm["id"]
    wait_for(lambda: notified(webhook_messages(lab), alarm_id), timeout=60, what="the webhook")
    wait_for(lambda: emails(lab, alarm_id), timeout=60, what="the e-mail")
    wait_for(lambda: notified(lab.mqtt.payloads, alarm_id), timeout=60, what="the MQTT message")
    delivered = lambda: {  # noqa: E731
        d["channel"] for d in lab.get("/api/v1/notifications", "admin").json() if d["status"] == "delivered"
    }
    wait_for(lambda: delivered() >= {"webhook", "email", "mqtt", "log"}, timeout=60, what="deliveries recorded")

    # the evaluator dies (kill -9) and another starts: it takes the firing alarm over
    lab.evaluators[0].kill()
    lab.start_evaluator()
    wait_for(lambda: lab.status().get("leader") == "evaluator-1", timeout=60, what="the new evaluator leads")
    wait_for(lambda: evaluations_after(lab, 10), timeout=60, what="ten evaluations by the new evaluator")
    still = firing(lab, "s1-load")
    assert still is not None, "the restart did not forget the alarm"
    assert still["id"] == alarm_id, "... nor start another episode of it"
    assert notified(webhook_messages(lab), alarm_id) == ["firing"]
    assert emails(lab, alarm_id) == ["firing"]
    assert notified(lab.mqtt.payloads, alarm_id) == ["firing"]

    # acknowledgement by role
    assert lab.post(f"/api/v1/alarms/{alarm_id}/ack", "viewer", {"comment": "seen"}).status_code == 403
    r = lab.post(f"/api/v1/alarms/{alarm_id}/ack", "operator", {"comment": "on my way"})
    assert (r.status_code, r.json()["acked_by"]) == (200, "operator-1")

    # the device comes back: resolved, notified once on each channel
    lab.fault("DELETE", "/faults")
    wait_for(lambda: lab.get(f"/api/v1/alarms/{alarm_id}", "viewer").json()["state"] == "resolved", timeout=60,
             what="the alarm to resolve")  # fmt: skip
    wait_for(lambda: len(notified(webhook_messages(lab), alarm_id)) == 2, timeout=60, what="the resolution")
    wait_for(lambda: len(emails(lab, alarm_id)) == 2, timeout=60, what="the resolution e-mail")
    wait_for(lambda: len(notified(lab.mqtt.payloads, alarm_id)) == 2, timeout=60, what="the resolution on MQTT")
    n = lab.status()["evaluations"]
    wait_for(lambda: evaluations_after(lab, n + 10), timeout=60, what="ten more evaluations")
    assert notified(webhook_messages(lab), alarm_id) == ["firing", "resolved"]
    assert emails(lab, alarm_id) == ["firing", "resolved"]
    assert notified(lab.mqtt.payloads, alarm_id) == ["firing", "resolved"]
    detail = lab.get(f"/api/v1/alarms/{alarm_id}", "viewer").json()
    assert (detail["acked_by"], detail["ack_comment"]) == ("operator-1", "on my way")
    assert {"pending", "firing", "notified", "acked", "resolved"} <= {e["kind"] for e in detail["events"]}

    # a silence by role: the silenced device's alarm fires, and nobody is woken
    body = {"subject": "s1-grid", "duration_s": 600, "reason": "meter swap"}
    assert lab.post("/api/v1/silences", "viewer", body).status_code == 403
    r = lab.post("/api/v1/silences", "operator", body)
    assert r.status_code == 201, r.text
    sent = len(lab.webhook.received)
    lab.fault("POST", "/faults/s1-grid/silent")
    muted = wait_for(lambda: firing(lab, "s1-grid"), timeout=90, interval=0.2, what="the silenced alarm to fire")
    assert muted["silenced_by"] == r.json()["id"]
    n = lab.status()["evaluations"]
    wait_for(lambda: evaluations_after(lab, n + 10), timeout=60, what="ten more evaluations")
    assert len(lab.webhook.received) == sent, "a silenced alarm notifies nobody"
    assert not notified(webhook_messages(lab), muted["id"])
    assert AFTER_S == 3
