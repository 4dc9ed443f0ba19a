"""Notifications owed, silences, and grouping (pure): a storm is one message per group per
interval; a silenced alarm is owed nothing until its silence ends; the message is signed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.alerts.lab import T0
from ville_autonome.alerts import messages
from ville_autonome.alerts.grouping import Owed, due, group_key, owed, silenced_by
from ville_autonome.journals.alarm_records import AlarmRecord, Silence

S = 1000


def alarm(device: str, district: str = "north", **kw: object) -> AlarmRecord:
    base = AlarmRecord(
        id=f"id-{device}", key=f"silent:{device}", rule="silent", subject=device, scope="device", severity="critical",
        state="firing", labels={"device": device, "site": f"site-{device}", "district": district, "rule": "silent"},
        summary=f"{device}: silent", value=1.0, active_since_ms=T0, pending_ms=T0, updated_ms=T0, fired_ms=T0,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def silence(**kw: object) -> Silence:
    base = Silence("s1", None, None, T0, T0 + 3600 * S, "works", "operator", T0)
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "expected"),
    [
        (alarm("a"), [("a", "firing")]),
        (alarm("a", notified_firing_ms=T0), []),  # notified once per episode
        (alarm("a", state="pending", fired_ms=None), []),
        (alarm("a", state="resolved", resolved_ms=T0 + S, notified_firing_ms=T0), [("a", "resolved")]),
        (alarm("a", state="resolved", resolved_ms=T0 + S), []),  # never notified firing: no "resolved"
        (alarm("a", state="resolved", resolved_ms=T0 + S, notified_firing_ms=T0, notified_resolved_ms=T0 + S), []),
    ],
)
def test_what_is_owed(a: AlarmRecord, expected: list[tuple[str, str]]) -> None:
    assert [(o.alarm.subject, o.transition) for o in owed([a], [], T0 + 10 * S)] == expected


@pytest.mark.parametrize(
    ("s", "mutes"),
    [
        (silence(rule="silent"), True),
        (silence(rule="other"), False),
        (silence(subject="a"), True),
        (silence(subject="site-a"), True),  # a site's silence mutes the alarms of its devices
        (silence(subject="north"), True),
        (silence(subject="south"), False),
        (silence(rule="silent", subject="b"), False),
        (silence(subject="a", start_ms=T0 + 20 * S), False),  # not begun
        (silence(subject="a", end_ms=T0 + 5 * S), False),  # over
    ],
)
def test_silences_match_rule_and_place(s: Silence, mutes: bool) -> None:
    assert (silenced_by(alarm("a"), [s], T0 + 10 * S) is not None) == mutes


def test_a_silenced_alarm_is_owed_its_notification_when_the_silence_ends() -> None:
    s = silence(subject="a", end_ms=T0 + 60 * S)
    assert owed([alarm("a")], [s], T0 + 30 * S) == []
    assert [o.transition for o in owed([alarm("a")], [s], T0 + 60 * S)] == ["firing"]


def test_a_storm_is_one_message_per_group_per_interval() -> None:
    storm = [alarm(f"d{i}", district="north" if i < 8 else "south") for i in range(10)]
    items = owed(storm, [], T0)
    kw = {"group_by": ["district"], "wait_ms": 5 * S, "interval_ms": 60 * S}
    assert due(items, {}, T0 + 4 * S, **kw) == {}, "group_wait: the storm gathers first"
    groups = due(items, {}, T0 + 5 * S, **kw)
    assert {k: len(v) for k, v in groups.items()} == {"district=north": 8, "district=south": 2}
    # one more alarm in north 10 s later: it waits for the group's interval
    later = [Owed(alarm("d10"), "firing", T0 + 10 * S)]
    sent = {"district=north": T0 + 5 * S, "district=south": T0 + 5 * S}
    assert due(later, sent, T0 + 64 * S, **kw) == {}
    assert list(due(later, sent, T0 + 65 * S, **kw)) == ["district=north"]


def test_group_keys() -> None:
    assert group_key(alarm("a"), ["district", "rule"]) == "district=north,rule=silent"
    assert group_key(alarm("a"), ["gateway"]) == "gateway="


def test_the_message_and_its_signature() -> None:
    items = [Owed(alarm("a", severity="warning"), "firing", T0), Owed(alarm("b"), "firing", T0),
             Owed(alarm("c", state="resolved", resolved_ms=T0 + S), "resolved", T0 + S)]  # fmt: skip
    m = messages.build_message("m1", "district=north", items, T0 + 5 * S, "https://va.example.org/")
    assert m["group"] == {"district": "north"}
    assert m["counts"] == {"firing": 2, "resolved": 1}
    assert [(a["subject"], a["transition"]) for a in m["alarms"]] == [
        ("b", "firing"),
        ("a", "firing"),
        ("c", "resolved"),
    ]
    assert m["alarms"][0]["url"] == "https://va.example.org/api/v1/alarms/id-b"
    assert messages.subject_line(m).startswith(
        "[Ville Autonome] FIRING CRITICAL: 2 alarms, 1 resolved (district north)"
    )
    body = messages.encode(m)
    sig = messages.signature(b"k3y", T0, body)
    assert messages.verify(b"k3y", str(T0), body, sig)
    assert not messages.verify(b"k3y", str(T0 + 1), body, sig), "the timestamp is signed"
    assert not messages.verify(b"other", str(T0), body, sig)
    assert not messages.verify(b"k3y", str(T0), body + b" ", sig)
    assert "b: silent" in messages.text_body(m)
