"""What the leading evaluator does at each tick, over the alarm log: load its state when it
takes the lead, evaluate every rule, store what changed, and commit the notifications due.

The state it keeps in memory is a cache of the log: the open episodes (pending, firing) and the
resolved ones still owed their "resolved" notification, and when each group last sent. It is
reloaded from the log whenever this process takes the lead, so a restart (or another process
taking over) neither forgets a firing alarm nor notifies it again: an episode is notified when
the message carrying it is committed, and the stored deliveries prove it (``reconcile``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace

from ville_autonome.alerts import messages
from ville_autonome.alerts.conditions import Verdict, evaluate
from ville_autonome.alerts.grouping import Owed, due, owed
from ville_autonome.alerts.observation import Observation
from ville_autonome.alerts.state import EVALUATOR, RuleVerdict, step
from ville_autonome.alerts.subjects import subjects
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.journals.alarm_records import AlarmEvent, AlarmLog, AlarmRecord, Delivery

log = logging.getLogger(__name__)
RECONCILE_MS = 7 * 86_400_000  # deliveries read back at take-over


def reconcile(episodes: Sequence[AlarmRecord], deliveries: Sequence[Delivery]) -> list[AlarmRecord]:
    """Episodes with the notified marks the stored deliveries prove (a process that stopped between
    storing a message and marking its alarms leaves the marks to be restored here)."""
    sent: dict[tuple[str, str], int] = {}
    for d in deliveries:
        for alarm_id, transition in d.entries:
            key = (alarm_id, transition)
            sent[key] = min(sent.get(key, d.created_ms), d.created_ms)
    out = []
    for a in episodes:
        if a.notified_firing_ms is None and (a.id, "firing") in sent:
            a = replace(a, notified_firing_ms=sent[(a.id, "firing")])
        if a.notified_resolved_ms is None and (a.id, "resolved") in sent:
            a = replace(a, notified_resolved_ms=sent[(a.id, "resolved")])
        out.append(a)
    return out


def _settled(a: AlarmRecord, notify_resolved: bool) -> bool:
    """A resolved episode nothing more is owed for."""
    return a.state == "resolved" and (
        a.notified_firing_ms is None or a.notified_resolved_ms is not None or not notify_resolved
    )


class Evaluator:
    def __init__(self, config: PlatformConfig, alarm_log: AlarmLog, channel_names: Sequence[str]) -> None:
        self.config = config
        self.settings = config.services.alerts
        self.log = alarm_log
        self.channel_names = list(channel_names)
        self.tracked: dict[str, AlarmRecord] = {}  # episode id → open or owing episode
        self.last_sent: dict[str, int] = {}  # group key → when it last sent

    # ------------------------------------------------------------ take-over

    def load(self, now_ms: int) -> None:
        """Read the state back from the log (at take-over)."""
        deliveries = self.log.deliveries(since_ms=now_ms - RECONCILE_MS, limit=100_000)
        stored = self.log.unsettled()
        episodes = reconcile(stored, deliveries)
        fixed = [a for a, b in zip(episodes, stored, strict=True) if a != b]
        if fixed:
            self.log.save_alarms(fixed)
        self.tracked = {a.id: a for a in episodes if not _settled(a, self.settings.notify_resolved)}
        self.last_sent = {}
        for d in deliveries:
            self.last_sent[d.group_key] = max(self.last_sent.get(d.group_key, 0), d.created_ms)
        firing = sum(a.state == "firing" for a in self.tracked.values())
        log.info("evaluator: %d alarms open (%d firing) taken over from the alarm log", len(self.tracked), firing)

    # ------------------------------------------------------------ one tick

    def verdicts(self, obs: Observation) -> list[RuleVerdict]:
        out = []
        for rule in self.config.alerts.rules:
            try:
                subs, verdict = evaluate(rule, self.config, obs)
            except Exception:  # a bug in one rule costs that rule's verdict, never the evaluator
                log.exception("rule %s could not be evaluated: its alarms keep their state", rule.id)
                subs = subjects(rule, self.config)
                verdict = Verdict(unknown={s.id for s in subs})
            out.append(RuleVerdict(rule, subs, verdict))
        return out

    def evaluate(self, obs: Observation) -> list[AlarmEvent]:
        """One evaluation: store the episodes that changed and their events; return the events."""
        open_ = {a.key: a for a in self.tracked.values() if a.state != "resolved"}
        result = step(open_, self.verdicts(obs), obs.now_ms)
        if result.changed:
            self.log.save_alarms(result.changed)
        if result.events:
            self.log.add_events(result.events)
        for a in result.changed:
            if _settled(a, self.settings.notify_resolved):
                self.tracked.pop(a.id, None)
            else:
                self.tracked[a.id] = a
        for e in result.events:
            log.info("alarm %s %s: %s", e.key, e.kind, e.detail)
        return result.events

    def notify(self, now_ms: int) -> int:
        """Commit a message for every group due; return how many."""
        s = self.settings
        silences = self.log.silences(active_at_ms=now_ms)
        owed_now = owed(self.tracked.values(), silences, now_ms, notify_resolved=s.notify_resolved)
        groups = due(
            owed_now,
            self.last_sent,
            now_ms,
            group_by=s.group_by,
            wait_ms=int(s.group_wait_s * 1000),
            interval_ms=int(s.group_interval_s * 1000),
        )
        for group, items in sorted(groups.items()):
            self._commit(group, items, now_ms)
        return len(groups)

    def _commit(self, group: str, items: list[Owed], now_ms: int) -> None:
        message_id = uuid.uuid4().hex
        message = messages.build_message(message_id, group, items, now_ms, self.settings.base_url)
        body = messages.encode(message).decode()
        entries = [(o.alarm.id, o.transition) for o in items]
        deliveries = [Delivery(message_id, ch, group, now_ms, body, entries) for ch in self.channel_names]
        notified = [
            replace(o.alarm, notified_firing_ms=now_ms)
            if o.transition == "firing"
            else replace(o.alarm, notified_resolved_ms=now_ms)
            for o in items
        ]
        self.log.commit_message(deliveries, notified)
        self.log.add_events(
            [
                AlarmEvent(now_ms, "notified", o.alarm.key, o.alarm.id, EVALUATOR, f"{o.transition} in {message_id}")
                for o in items
            ]
        )
        self.last_sent[group] = now_ms
        for a in notified:
            if _settled(a, self.settings.notify_resolved):
                self.tracked.pop(a.id, None)
            else:
                self.tracked[a.id] = a

    def counts(self) -> dict[str, int]:
        states = [a.state for a in self.tracked.values()]
        return {"firing": states.count("firing"), "pending": states.count("pending")}
