"""The alarm log, durable on both backends (a SQLite file, a real influxd): episodes upserted,
acknowledgements never overwritten by the evaluator, events, silences, deliveries that mark
their alarms notified, lease claims; all of it after closing and reopening."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.journals.alarm_log import alarm_log_for, open_alarm_log
from ville_autonome.journals.alarm_records import (
    AlarmEvent,
    AlarmLog,
    AlarmQuery,
    AlarmRecord,
    Delivery,
    LeaseClaim,
    Silence,
)
from ville_autonome.storage.factory import open_store

NOW = int(time.time() * 1000) // 1000 * 1000
S = 1000


@pytest.fixture
def log(store_settings: StoreSettings) -> Iterator[AlarmLog]:
    store = open_store(store_settings)
    found = alarm_log_for(store, store_settings)
    yield found
    found.close()
    store.close()


def episode(subject: str, pending_ms: int = NOW - 60 * S, **kw: object) -> AlarmRecord:
    base = AlarmRecord(
        id=f"e-{subject}-{pending_ms}", key=f"silent:{subject}", rule="silent", subject=subject, scope="device",
        severity="critical", state="pending", labels={"device": subject, "district": "north"},
        summary=f"{subject}: silent", value=12.5, active_since_ms=pending_ms - 5 * S, pending_ms=pending_ms,
        updated_ms=pending_ms,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def test_episodes_are_upserted_and_filtered(log: AlarmLog) -> None:
    a = episode("a")
    log.save_alarms(
        [
            a,
            episode("b", severity="warning"),
            episode("c", state="resolved", resolved_ms=NOW, updated_ms=NOW, value=None),
        ]
    )
    fired = replace(a, state="firing", fired_ms=NOW - 30 * S, updated_ms=NOW - 30 * S, value=40.0)
    log.save_alarms([fired])
    assert log.alarm(a.id) == fired
    assert {x.subject for x in log.alarms(AlarmQuery(states=("firing", "pending")))} == {"a", "b"}
    assert [x.subject for x in log.alarms(AlarmQuery(severity="warning"))] == ["b"]
    assert [x.subject for x in log.alarms(AlarmQuery(subject="c"))] == ["c"]
    assert log.alarm("e-c-" + str(NOW - 60 * S)) is not None
    assert log.alarms(AlarmQuery(subject="c"))[0].value is None, "an unknown value stays unknown (never 0)"
    assert [x.subject for x in log.alarms(AlarmQuery(since_ms=NOW - 40 * S))] == ["c", "a"], "newest update first"
    assert log.alarm("nope") is None


def test_an_acknowledgement_survives_the_evaluators_next_write(log: AlarmLog) -> None:
    a = episode("a", state="firing", fired_ms=NOW - 50 * S)
    log.save_alarms([a])
    acked = log.acknowledge(a.id, "operator-1", NOW - 10 * S, 'on my way, "quotes"\nand a second line')
    assert acked is not None
    assert (acked.acked_by, acked.acked_ms) == ("operator-1", NOW - 10 * S)
    again = log.acknowledge(a.id, "operator-2", NOW, "me too")
    assert again is not None
    assert again.acked_by == "operator-1", "the first acknowledgement stays"
    log.save_alarms([replace(a, value=99.0, updated_ms=NOW)])  # the evaluator knows nothing of acks
    after = log.alarm(a.id)
    assert after is not None
    assert (after.acked_by, after.value) == ("operator-1", 99.0)
    assert after.ack_comment.startswith('on my way, "quotes"')
    assert log.acknowledge("nope", "x", NOW, "") is None


def test_unsettled_is_what_an_evaluator_takes_over(log: AlarmLog) -> None:
    log.save_alarms(
        [
            episode("pending"),
            episode("firing", state="firing", fired_ms=NOW),
            episode("owed", state="resolved", fired_ms=NOW - 30 * S, resolved_ms=NOW, notified_firing_ms=NOW - 29 * S),
            episode(
                "done", state="resolved", resolved_ms=NOW, notified_firing_ms=NOW - 29 * S, notified_resolved_ms=NOW
            ),
            episode("cleared", state="resolved", resolved_ms=NOW),
        ]
    )
    assert sorted(a.subject for a in log.unsettled()) == ["firing", "owed", "pending"]


def test_events_newest_first_by_time_and_key(log: AlarmLog) -> None:
    events = [AlarmEvent(NOW - i * S, kind, f"silent:{d}", f"e-{d}", "evaluator", f"{d} {kind}")
              for i, (kind, d) in enumerate([("firing", "a"), ("pending", "a"), ("pending", "b")])]  # fmt: skip
    log.add_events(events)
    assert log.events(since_ms=NOW - 10 * S, until_ms=NOW + S) == events
    assert [e.kind for e in log.events(since_ms=NOW - 10 * S, until_ms=NOW + S, key="silent:a")] == [
        "firing",
        "pending",
    ]
    assert log.events(since_ms=NOW - 10 * S, until_ms=NOW + S, limit=1) == events[:1]
    assert log.events(since_ms=NOW - S, until_ms=NOW, key="silent:a") == [events[1]]


def test_silences(log: AlarmLog) -> None:
    s1 = Silence(
        "s1", "silent", None, NOW - 10 * S, NOW + 3600 * S, "maintenance, l'équipe « réseau »", "op", NOW - 10 * S
    )
    s2 = Silence("s2", None, "hub", NOW - 7200 * S, NOW - 3600 * S, "over", "op", NOW - 7200 * S)
    log.save_silence(s1)
    log.save_silence(s2)
    assert log.silences(active_at_ms=NOW) == [s1]
    assert log.silences() == [s1, s2]
    ended = replace(s1, end_ms=NOW)
    log.save_silence(ended)
    assert log.silence("s1") == ended
    assert log.silences(active_at_ms=NOW) == []
    assert log.silence("nope") is None


def test_a_committed_message_proves_its_notification(log: AlarmLog) -> None:
    a = episode("a", state="firing", fired_ms=NOW - 20 * S)
    log.save_alarms([a])
    body = '{"id": "m1", "alarms": []}'
    deliveries = [
        Delivery("m1", ch, "district=north", NOW - 10 * S, body, [(a.id, "firing")]) for ch in ("log", "webhook")
    ]
    log.commit_message(deliveries, [replace(a, notified_firing_ms=NOW - 10 * S)])
    stored = log.alarm(a.id)
    assert stored is not None
    assert stored.notified_firing_ms == NOW - 10 * S
    assert {d.channel for d in log.deliveries(status="pending")} == {"log", "webhook"}
    log.save_delivery(replace(deliveries[1], status="dead", attempts=8, last_error="503 busy\nretry", done_ms=NOW))
    (dead,) = log.deliveries(status="dead")
    assert (dead.channel, dead.entries, dead.attempts, dead.body) == ("webhook", [(a.id, "firing")], 8, body)
    assert [d.channel for d in log.deliveries(status="pending")] == ["log"]
    assert len(log.deliveries(since_ms=NOW - 10 * S)) == 2


def test_lease_claims(log: AlarmLog) -> None:
    log.claim(LeaseClaim("a", NOW - 100 * S, NOW - 90 * S, NOW - 60 * S))  # expired
    log.claim(LeaseClaim("b", NOW - 50 * S, NOW - 2 * S, NOW + 28 * S))
    log.claim(LeaseClaim("b", NOW - 50 * S, NOW - 1 * S, NOW + 29 * S))  # renewed
    log.claim(LeaseClaim("c", NOW - 10 * S, NOW - 1 * S, NOW + 29 * S))
    assert log.claims(now_ms=NOW) == [
        LeaseClaim("b", NOW - 50 * S, NOW - 1 * S, NOW + 29 * S),
        LeaseClaim("c", NOW - 10 * S, NOW - 1 * S, NOW + 29 * S),
    ]
    log.claim(LeaseClaim("b", NOW - 50 * S, NOW, NOW))  # released
    assert [c.holder for c in log.claims(now_ms=NOW)] == ["c"]


def test_everything_survives_a_restart(store_settings: StoreSettings) -> None:
    first = open_alarm_log(store_settings)
    a = episode("a", state="firing", fired_ms=NOW, notified_firing_ms=NOW)
    first.save_alarms([a])
    first.save_silence(Silence("s1", "silent", None, NOW, NOW + 60 * S, "r", "op", NOW))
    first.close()
    second = open_alarm_log(store_settings)
    try:
        assert second.unsettled() == [a]
        assert [s.id for s in second.silences(active_at_ms=NOW)] == ["s1"]
    finally:
        second.close()
