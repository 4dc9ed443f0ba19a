"""The alarms API on both backends: viewers read, operators acknowledge and silence, admins see the
deliveries; the `alarms` event of the live stream; the alarm gauges of /metrics."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest

from tests.alerts.lab import config
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.journals.alarm_log import alarm_log_for
from ville_autonome.journals.alarm_records import AlarmEvent, AlarmLog, AlarmRecord, Delivery
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.storage.base import Store
from ville_autonome.storage.factory import open_store

S = 1000
NOW = int(time.time() * 1000) // 1000 * 1000
KEYS = {"viewer": "viewer-key-0123456789", "operator": "operator-key-0123456789", "admin": "admin-key-0123456789"}
EXTRA = {"operator-2": ("operator", "operator-two-key-0123456789")}


def _keys() -> str:
    lines = ["  api:\n    keys:\n"]
    for name, (role, key) in {**{f"{r}-1": (r, k) for r, k in KEYS.items()}, **EXTRA}.items():
        lines.append(f"      - {{name: {name}, role: {role}, sha256: {hashlib.sha256(key.encode()).hexdigest()}}}\n")
    return "".join(lines)


CFG = config(
    "    - {id: silent, kind: device_silent, severity: critical}\n    - {id: soc, kind: battery_soc, below: 10}\n",
    _keys(),
)


def auth(role: str) -> dict[str, str]:
    key = KEYS[role] if role in KEYS else EXTRA[role][1]
    return {"Authorization": f"Bearer {key}"}


def episode(subject: str, **kw: object) -> AlarmRecord:
    base = AlarmRecord(
        id=f"e{abs(hash(subject)) % 10**12:012x}", key=f"silent:{subject}", rule="silent", subject=subject,
        scope="device", severity="critical", state="firing",
        labels={"device": subject, "site": "hub", "district": "south", "gateway": "gw-b"},
        summary=f"{subject}: silent for 95 s", value=95.0, active_since_ms=NOW - 100 * S, pending_ms=NOW - 90 * S,
        updated_ms=NOW - 60 * S, fired_ms=NOW - 60 * S, notified_firing_ms=NOW - 55 * S,
    )  # fmt: skip
    return _replace(base, **kw)


def _replace(a: AlarmRecord, **kw: object) -> AlarmRecord:
    return replace(a, **kw)  # type: ignore[arg-type]


@pytest.fixture
def stores(settings: StoreSettings) -> Iterator[tuple[Store, AlarmLog]]:
    store = open_store(settings)
    log = alarm_log_for(store, settings)
    log.save_alarms(
        [
            episode("hub-meter"),
            _replace(
                episode("battery"),
                rule="soc",
                key="soc:battery",
                severity="warning",
                state="pending",
                fired_ms=None,
                notified_firing_ms=None,
            ),
            _replace(
                episode("turbine"),
                state="resolved",
                resolved_ms=NOW - 10 * S,
                updated_ms=NOW - 10 * S,
                labels={"device": "turbine", "district": "north"},
            ),
        ]
    )
    log.add_events([AlarmEvent(NOW - 60 * S, "firing", "silent:hub-meter", episode("hub-meter").id, "evaluator", "x")])
    log.commit_message(
        [
            Delivery(
                "m1", "webhook", "district=south", NOW - 55 * S, "{}", [(episode("hub-meter").id, "firing")], "dead"
            )
        ],
        [],
    )
    store.write_health([DeviceHealth("hub-meter", "gw-b", False, NOW - 100 * S, NOW - 5 * S)])
    yield store, log
    log.close()
    store.close()


@pytest.fixture
async def client(stores: tuple[Store, AlarmLog]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(CFG, stores[0])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
        yield c


async def test_viewers_read_alarms_counts_events_and_silences(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/alarms", headers=auth("viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["counts"] == {
        "firing": {"critical": 1, "warning": 0, "info": 0},
        "pending": {"critical": 0, "warning": 1, "info": 0},
        "unacknowledged": 1,
    }
    assert {a["subject"]: a["state"] for a in body["alarms"]} == {"hub-meter": "firing", "battery": "pending"}
    hub = next(a for a in body["alarms"] if a["subject"] == "hub-meter")
    assert hub["notified"] is True
    assert hub["labels"]["site"] == "hub"
    assert [e["kind"] for e in body["events"]] == ["firing"]
    r = await client.get("/api/v1/alarms", params={"state": "resolved"}, headers=auth("viewer"))
    assert [a["subject"] for a in r.json()["alarms"]] == ["turbine"]
    r = await client.get("/api/v1/alarms", params={"state": "all", "severity": "warning"}, headers=auth("viewer"))
    assert [a["subject"] for a in r.json()["alarms"]] == ["battery"]
    r = await client.get("/api/v1/alarms", params={"rule": "nope"}, headers=auth("viewer"))
    assert (r.status_code, r.json()["parameter"]) == (400, "rule")
    assert (await client.get("/api/v1/alarms")).status_code == 401


async def test_one_alarm_and_its_events(client: httpx.AsyncClient) -> None:
    alarm_id = episode("hub-meter").id
    r = await client.get(f"/api/v1/alarms/{alarm_id}", headers=auth("viewer"))
    assert r.status_code == 200
    assert [e["kind"] for e in r.json()["events"]] == ["firing"]
    assert (await client.get("/api/v1/alarms/0123abcd", headers=auth("viewer"))).status_code == 404
    assert (await client.get("/api/v1/alarms/not-hex!", headers=auth("viewer"))).status_code == 422


async def test_operators_acknowledge_viewers_cannot(client: httpx.AsyncClient) -> None:
    alarm_id = episode("hub-meter").id
    r = await client.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "on my way"}, headers=auth("viewer"))
    assert r.status_code == 403
    r = await client.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "on my way"}, headers=auth("operator"))
    assert r.status_code == 200, r.text
    assert (r.json()["acked_by"], r.json()["ack_comment"]) == ("operator-1", "on my way")
    r = await client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=auth("operator-2"))
    assert r.json()["acked_by"] == "operator-1", "the first acknowledgement stays"
    r = await client.get("/api/v1/alarms", headers=auth("viewer"))
    assert r.json()["counts"]["unacknowledged"] == 0
    assert [e["kind"] for e in r.json()["events"]][:1] == ["acked"]
    r = await client.post(f"/api/v1/alarms/{alarm_id}/ack", json={"comment": "two\nlines"}, headers=auth("operator"))
    assert r.status_code == 422
    assert (await client.post("/api/v1/alarms/0123abcd/ack", headers=auth("operator"))).status_code == 404


async def test_silences_by_role(client: httpx.AsyncClient) -> None:
    body = {"subject": "hub-meter", "duration_s": 3600, "reason": "meter replaced"}
    assert (await client.post("/api/v1/silences", json=body, headers=auth("viewer"))).status_code == 403
    r = await client.post("/api/v1/silences", json=body, headers=auth("operator"))
    assert r.status_code == 201, r.text
    silence = r.json()
    assert (silence["created_by"], silence["active"], silence["end_ms"] - silence["start_ms"]) == (
        "operator-1",
        True,
        3_600_000,
    )
    alarms = (await client.get("/api/v1/alarms", headers=auth("viewer"))).json()
    hub = next(a for a in alarms["alarms"] if a["subject"] == "hub-meter")
    assert hub["silenced_by"] == silence["id"]
    assert [s["id"] for s in alarms["silences"]] == [silence["id"]]
    r = await client.delete(f"/api/v1/silences/{silence['id']}", headers=auth("viewer"))
    assert r.status_code == 403
    r = await client.delete(f"/api/v1/silences/{silence['id']}", headers=auth("operator"))
    assert (r.status_code, r.json()["active"]) == (200, False)
    after = (await client.get("/api/v1/alarms", headers=auth("viewer"))).json()
    assert after["silences"] == []
    assert [e["kind"] for e in after["events"]][:2] == ["silence_expired", "silence_created"]


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"duration_s": 60, "reason": "x"}, "rule"),
        ({"rule": "nope", "duration_s": 60, "reason": "x"}, "rule"),
        ({"subject": "nowhere", "duration_s": 60, "reason": "x"}, "subject"),
        ({"subject": "hub", "reason": "x"}, "end"),
        ({"subject": "hub", "duration_s": 60, "end": "2030-01-01", "reason": "x"}, "end"),
        ({"subject": "hub", "end": "2001-01-01", "reason": "x"}, "end"),
        ({"subject": "hub", "start": "2030-01-01", "end": "2030-06-01", "reason": "x"}, "end"),
    ],
)
async def test_a_wrong_silence_is_named(client: httpx.AsyncClient, body: dict[str, object], parameter: str) -> None:
    r = await client.post("/api/v1/silences", json=body, headers=auth("operator"))
    assert (r.status_code, r.json().get("parameter")) == (400, parameter), r.text
    r = await client.post("/api/v1/silences", json={"subject": "hub", "duration_s": 60}, headers=auth("operator"))
    assert r.status_code == 422, "a silence has a reason"


async def test_dead_letters_for_admins(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/notifications", headers=auth("operator"))).status_code == 403
    r = await client.get("/api/v1/notifications", params={"status": "dead"}, headers=auth("admin"))
    assert [(d["message_id"], d["channel"], d["status"]) for d in r.json()] == [("m1", "webhook", "dead")]


async def test_metrics_has_one_gauge_per_firing_alarm(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics", headers=auth("operator"))).text
    firing = [line for line in text.splitlines() if line.startswith("va_alarm_firing{")]
    assert firing == ['va_alarm_firing{rule="silent",subject="hub-meter",scope="device",severity="critical"} 1']
    assert (
        f'va_device_last_seen_timestamp_seconds{{device="hub-meter",gateway="gw-b"}} {(NOW - 100 * S) / 1000}' in text
    )
    assert 'va_gateway_last_report_timestamp_seconds{gateway="gw-b"}' in text


async def test_the_stream_sends_the_alarms_event(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/stream", params={"api_key": KEYS["viewer"], "max_events": "3", "poll_s": "0.2"})
    events = [chunk for chunk in r.text.split("\n\n") if chunk.startswith("event: alarms")]
    assert len(events) == 1, r.text[:500]
    data = json.loads(events[0].split("data: ", 1)[1])
    assert data["counts"]["firing"]["critical"] == 1
    assert [a["subject"] for a in data["alarms"]] == ["hub-meter", "battery"], "firing first, then pending"
