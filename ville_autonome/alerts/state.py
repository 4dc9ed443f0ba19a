"""The alarm state machine, pure: one evaluation step from the open episodes and the rules'
verdicts to the episodes changed and the events that happened.

::

    (condition true)          (held for the rule's ``for:``)
    ──────────────▶ pending ──────────────────────────────▶ firing
                       │ (condition false)                    │ (condition false)
                       ▼                                      ▼
                    resolved ("cleared": it never fired)   resolved

A subject the rule cannot judge now (``Verdict.unknown``) keeps its state. The ``for:`` counts
from when the condition became true as the data tell (``Condition.since_ms``: a device heard last
at t is silent for 60 s from t + 60 s), else from when the evaluator first saw it. An episode
whose rule or subject left the configuration resolves. Acknowledgements are not the machine's
business: the API records them on the episode.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ville_autonome.alerts.conditions import Condition, Verdict
from ville_autonome.alerts.subjects import Subject
from ville_autonome.configuration.alerts import AlertRule
from ville_autonome.journals.alarm_records import AlarmEvent, AlarmRecord

EVALUATOR = "evaluator"
VALUE_EVERY_MS = 30_000  # a firing alarm's value and summary are re-stored at most this often


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    rule: AlertRule
    subjects: list[Subject]
    verdict: Verdict


@dataclass(frozen=True)
class Step:
    changed: list[AlarmRecord]  # episodes to store
    events: list[AlarmEvent]
    open: dict[str, AlarmRecord]  # key → its open (pending or firing) episode after the step


def alarm_key(rule_id: str, subject: str) -> str:
    return f"{rule_id}:{subject}"


def episode_id(key: str, pending_ms: int) -> str:
    """The id of the episode of ``key`` that began at ``pending_ms`` (stable: a re-run makes the same)."""
    return hashlib.sha256(f"{key}\x00{pending_ms}".encode()).hexdigest()[:20]


def labels_of(rule: AlertRule, subject: Subject) -> dict[str, str]:
    return {**rule.labels, **subject.labels, "rule": rule.id, "severity": rule.severity, "scope": subject.scope}


def _new(rule: AlertRule, subject: Subject, cond: Condition, since: int, now_ms: int) -> AlarmRecord:
    key = alarm_key(rule.id, subject.id)
    return AlarmRecord(
        id=episode_id(key, now_ms),
        key=key,
        rule=rule.id,
        subject=subject.id,
        scope=subject.scope,
        severity=rule.severity,
        state="pending",
        labels=labels_of(rule, subject),
        summary=cond.summary,
        value=cond.value,
        active_since_ms=since,
        pending_ms=now_ms,
        updated_ms=now_ms,
    )


def _event(kind: str, a: AlarmRecord, at_ms: int) -> AlarmEvent:
    return AlarmEvent(at_ms, kind, a.key, a.id, EVALUATOR, a.summary)


def _active(
    rule: AlertRule, subject: Subject, cond: Condition, ep: AlarmRecord | None, now_ms: int
) -> tuple[AlarmRecord, list[str]]:
    """The episode of an active condition after this step, and the events (pending, firing)."""
    since = min(cond.since_ms if cond.since_ms is not None else (ep.active_since_ms if ep else now_ms), now_ms)
    kinds: list[str] = []
    if ep is None:
        ep = _new(rule, subject, cond, since, now_ms)
        kinds.append("pending")
    if ep.state == "pending" and now_ms >= since + int(rule.for_s * 1000):
        ep = replace(ep, state="firing", fired_ms=now_ms)
        kinds.append("firing")
    labels = labels_of(rule, subject)
    moved = bool(kinds) or labels != ep.labels or rule.severity != ep.severity
    stale = (cond.summary, cond.value) != (ep.summary, ep.value) and now_ms - ep.updated_ms >= VALUE_EVERY_MS
    if moved or stale or since != ep.active_since_ms:
        ep = replace(
            ep, labels=labels, severity=rule.severity, summary=cond.summary, value=cond.value,
            active_since_ms=since, updated_ms=now_ms,
        )  # fmt: skip
    return ep, kinds


def step(open_: Mapping[str, AlarmRecord], verdicts: Sequence[RuleVerdict], now_ms: int) -> Step:
    """One evaluation: ``open_`` holds the open episode of each alarm key (pending or firing)."""
    changed: list[AlarmRecord] = []
    events: list[AlarmEvent] = []
    still: dict[str, AlarmRecord] = {}
    watched: set[str] = set()
    for rv in verdicts:
        active = {c.subject.id: c for c in rv.verdict.active}
        for subject in rv.subjects:
            key = alarm_key(rv.rule.id, subject.id)
            watched.add(key)
            ep = open_.get(key)
            cond = active.get(subject.id)
            if cond is not None:
                new, kinds = _active(rv.rule, subject, cond, ep, now_ms)
                if new is not ep:
                    changed.append(new)
                events.extend(_event(k, new, now_ms) for k in kinds)
                still[key] = new
            elif ep is not None and subject.id in rv.verdict.unknown:
                still[key] = ep
            elif ep is not None:
                done = replace(ep, state="resolved", resolved_ms=now_ms, updated_ms=now_ms)
                changed.append(done)
                events.append(_event("resolved" if ep.state == "firing" else "cleared", done, now_ms))
    for key, ep in open_.items():
        if key not in watched:
            done = replace(
                ep,
                state="resolved",
                resolved_ms=now_ms,
                updated_ms=now_ms,
                summary=f"{ep.subject}: no longer watched (rule or subject left the configuration)",
            )
            changed.append(done)
            events.append(_event("resolved" if ep.state == "firing" else "cleared", done, now_ms))
    return Step(changed, events, still)
