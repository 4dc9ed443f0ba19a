"""Which alarm transitions are owed a notification, and which groups send now (pure).

A firing alarm is owed one "firing" notification, once per episode; a notified firing alarm that
resolves is owed one "resolved" (with ``notify_resolved``). A silenced alarm is owed nothing
while the silence lasts (its state still changes and is recorded); if it still fires when the
silence ends, it is owed its notification then.

Grouping, like Alertmanager's: alarms with the same values of the ``group_by`` labels form a
group; a group sends one message carrying every transition it owes, ``group_wait`` after its
first owed transition, and then at most once per ``group_interval``. A storm — a gateway down
and its ten devices silent — is one message per group per interval, not eleven.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ville_autonome.journals.alarm_records import AlarmRecord, Silence, Transition

LOCATION_LABELS = ("device", "site", "district", "gateway")


@dataclass(frozen=True, slots=True)
class Owed:
    alarm: AlarmRecord
    transition: Transition
    at_ms: int  # since when it is owed


def silenced_by(alarm: AlarmRecord, silences: Sequence[Silence], now_ms: int) -> Silence | None:
    """The first active silence that mutes ``alarm``: same rule (or any), and a subject that is the
    alarm's own or one of its location labels (a site's silence mutes its devices' alarms)."""
    places = {alarm.subject} | {alarm.labels[k] for k in LOCATION_LABELS if k in alarm.labels}
    for s in silences:
        if not s.active(now_ms):
            continue
        if s.rule is not None and s.rule != alarm.rule:
            continue
        if s.subject is not None and s.subject not in places:
            continue
        return s
    return None


def owed(
    alarms: Iterable[AlarmRecord], silences: Sequence[Silence], now_ms: int, *, notify_resolved: bool = True
) -> list[Owed]:
    out: list[Owed] = []
    for a in alarms:
        if silenced_by(a, silences, now_ms) is not None:
            continue
        if a.state == "firing" and a.notified_firing_ms is None and a.fired_ms is not None:
            out.append(Owed(a, "firing", a.fired_ms))
        elif (
            a.state == "resolved"
            and notify_resolved
            and a.notified_firing_ms is not None
            and a.notified_resolved_ms is None
            and a.resolved_ms is not None
        ):
            out.append(Owed(a, "resolved", a.resolved_ms))
    return out


def group_key(alarm: AlarmRecord, group_by: Sequence[str]) -> str:
    """``district=saint-leu`` (``,``-joined for several labels; an absent label is empty)."""
    return ",".join(f"{name}={alarm.labels.get(name, '')}" for name in group_by)


def due(
    owed_now: Sequence[Owed],
    last_sent: Mapping[str, int],
    now_ms: int,
    *,
    group_by: Sequence[str],
    wait_ms: int,
    interval_ms: int,
) -> dict[str, list[Owed]]:
    """The groups that send a message now, each with what it owes. A group sends at
    ``max(first owed + wait, last sent + interval)``."""
    groups: dict[str, list[Owed]] = {}
    for o in owed_now:
        groups.setdefault(group_key(o.alarm, group_by), []).append(o)
    out: dict[str, list[Owed]] = {}
    for key, items in groups.items():
        first = min(o.at_ms for o in items)
        at = first + wait_ms
        if key in last_sent:
            at = max(at, last_sent[key] + interval_ms)
        if now_ms >= at:
            out[key] = sorted(items, key=lambda o: (o.at_ms, o.alarm.key))
    return out
