"""The state machine, pure: pending → firing after `for:`, resolved, cleared, unknown keeps the
state, rules and subjects that leave the configuration resolve."""

from __future__ import annotations

from collections.abc import Sequence

from tests.alerts.lab import T0, config
from ville_autonome.alerts.conditions import Condition, Verdict
from ville_autonome.alerts.state import RuleVerdict, Step, episode_id, step
from ville_autonome.alerts.subjects import subjects
from ville_autonome.journals.alarm_records import AlarmRecord

S = 1000
CFG = config("    - {id: silent, kind: device_silent, severity: critical, for: 30s, labels: {team: ops}}\n")
RULE = CFG.alerts.rules[0]
SUBJECTS = subjects(RULE, CFG)
BATTERY = next(s for s in SUBJECTS if s.id == "battery")


def run(
    open_: dict[str, AlarmRecord], now: int, *, since: int | None = None, active: bool = True, unknown: bool = False
) -> Step:
    conds = [Condition(BATTERY, since, 42.0, "battery: silent")] if active else []
    return step(open_, [RuleVerdict(RULE, SUBJECTS, Verdict(conds, {"battery"} if unknown else set()))], now)


def kinds(s: Step) -> list[str]:
    return [e.kind for e in s.events]


def walk(times: Sequence[tuple[int, bool]]) -> list[tuple[int, list[str], str | None]]:
    """(time, events, state of the battery's alarm after) along a sequence of (time, active)."""
    open_: dict[str, AlarmRecord] = {}
    out = []
    for t, active in times:
        s = run(open_, t, active=active)
        open_ = s.open
        state = s.open["silent:battery"].state if "silent:battery" in s.open else None
        out.append((t - T0, kinds(s), state))
    return out


def test_pending_then_firing_after_for_then_resolved() -> None:
    assert walk([(T0, True), (T0 + 29 * S, True), (T0 + 30 * S, True), (T0 + 35 * S, True), (T0 + 40 * S, False)]) == [
        (0, ["pending"], "pending"),
        (29 * S, [], "pending"),
        (30 * S, ["firing"], "firing"),
        (35 * S, [], "firing"),
        (40 * S, ["resolved"], None),
    ]


def test_a_condition_gone_before_its_for_is_cleared_never_fired() -> None:
    assert walk([(T0, True), (T0 + 10 * S, False), (T0 + 20 * S, True)]) == [
        (0, ["pending"], "pending"),
        (10 * S, ["cleared"], None),
        (20 * S, ["pending"], "pending"),
    ]


def test_the_for_counts_from_when_the_data_say_the_condition_began() -> None:
    s = run({}, T0 + 60 * S, since=T0)  # heard last long ago: true since T0 already
    assert kinds(s) == ["pending", "firing"]
    a = s.open["silent:battery"]
    assert (a.active_since_ms, a.pending_ms, a.fired_ms) == (T0, T0 + 60 * S, T0 + 60 * S)


def test_an_episode_carries_its_labels_and_a_stable_id() -> None:
    a = run({}, T0).open["silent:battery"]
    assert a.id == episode_id("silent:battery", T0)
    assert a.labels == {
        "team": "ops", "device": "battery", "site": "hub", "district": "south", "gateway": "gw-b",
        "role": "storage", "rule": "silent", "severity": "critical", "scope": "device",
    }  # fmt: skip


def test_unknown_keeps_the_state() -> None:
    firing = run({}, T0 + 60 * S, since=T0).open
    s = run(firing, T0 + 70 * S, active=False, unknown=True)
    assert s.open == firing
    assert not s.changed
    assert not s.events


def test_a_rule_removed_from_the_configuration_resolves_its_alarms() -> None:
    firing = run({}, T0 + 60 * S, since=T0).open
    s = step(firing, [], T0 + 70 * S)
    assert kinds(s) == ["resolved"]
    assert "no longer watched" in s.changed[0].summary
    assert not s.open


def test_values_are_stored_again_at_most_every_30_s() -> None:
    firing = run({}, T0 + 60 * S, since=T0).open
    quiet = step(firing, [RuleVerdict(RULE, SUBJECTS, Verdict([Condition(BATTERY, T0, 50.0, "b: 50 s")]))], T0 + 70 * S)
    assert not quiet.changed, "a new value within 30 s is not written"
    later = step(firing, [RuleVerdict(RULE, SUBJECTS, Verdict([Condition(BATTERY, T0, 90.0, "b: 90 s")]))], T0 + 90 * S)
    assert [a.value for a in later.changed] == [90.0]
    assert not later.events
