"""What the alarm log holds (docs/alerts.md), and the seam every backend provides.

- :class:`AlarmRecord`: one **episode** of an alarm — a rule's condition on one subject, from
  pending to resolved — with when it fired, whether (and when) each transition was notified, and
  who acknowledged it. Its ``key`` (``<rule>:<subject>``) names the alarm; its ``id`` the episode.
- :class:`AlarmEvent`: what happened, in order (pending, firing, resolved, acked, silenced, …).
- :class:`Silence`: a rule, a subject (device, site, district, gateway or ``city``) or both, muted
  over ``[start_ms, end_ms)`` for a reason, by someone.
- :class:`Delivery`: one notification message for one channel (webhook, email, mqtt, log): its
  body, the alarm transitions it carries, its attempts, and whether it was delivered or
  dead-lettered.
- :class:`LeaseClaim`: an evaluator process claiming to be the one that evaluates.

The evaluator (``alerts``) writes episodes, events, deliveries and claims; the API writes
acknowledgements (:meth:`AlarmLog.acknowledge`: the ack fields alone, so the evaluator never
overwrites them) and silences. Errors: ``storage.base.StoreError`` and its subclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

AlarmState = Literal["pending", "firing", "resolved"]
Transition = Literal["firing", "resolved"]
DeliveryStatus = Literal["pending", "delivered", "dead"]


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    id: str  # the episode
    key: str  # <rule>:<subject>, the alarm
    rule: str
    subject: str  # a device, gateway, site or district id, or "city"
    scope: str  # device | gateway | site | district | city
    severity: str  # critical | warning | info
    state: AlarmState
    labels: dict[str, str]
    summary: str
    value: float | None
    active_since_ms: int  # when the condition became true (from the data when they tell)
    pending_ms: int  # when the evaluator first saw it
    updated_ms: int
    fired_ms: int | None = None
    resolved_ms: int | None = None
    notified_firing_ms: int | None = None
    notified_resolved_ms: int | None = None
    acked_by: str | None = None  # written by the API only
    acked_ms: int | None = None
    ack_comment: str = ""


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    ts_ms: int
    kind: str  # pending | firing | resolved | acked | silence_created | silence_expired | undelivered
    key: str  # the alarm's key, or "silence:<id>"
    alarm_id: str = ""
    by: str = ""  # who (an API key's name) or the evaluator
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    rule: str | None  # None: every rule
    subject: str | None  # None: every subject; else matches the alarm's subject or any of its labels' ids
    start_ms: int
    end_ms: int
    reason: str
    created_by: str
    created_ms: int

    def active(self, now_ms: int) -> bool:
        return self.start_ms <= now_ms < self.end_ms


@dataclass(frozen=True, slots=True)
class Delivery:
    message_id: str
    channel: str  # webhook | email | mqtt | log
    group_key: str
    created_ms: int
    body: str  # the JSON message
    entries: list[tuple[str, Transition]]  # (alarm episode id, transition) carried by the message
    status: DeliveryStatus = "pending"
    attempts: int = 0
    next_attempt_ms: int = 0
    last_error: str = ""
    done_ms: int | None = None


@dataclass(frozen=True, slots=True)
class LeaseClaim:
    holder: str
    since_ms: int  # when it first claimed (kept while it renews)
    renewed_ms: int
    expires_ms: int


@dataclass(frozen=True, slots=True)
class AlarmQuery:
    """Filters of :meth:`AlarmLog.alarms` (every one optional)."""

    states: tuple[AlarmState, ...] = ()
    severity: str | None = None
    scope: str | None = None
    subject: str | None = None
    rule: str | None = None
    since_ms: int | None = None  # episodes updated at or after
    until_ms: int | None = None  # ... and that began before
    limit: int = 500


class AlarmLog(Protocol):
    # episodes
    def save_alarms(self, alarms: Sequence[AlarmRecord]) -> None:
        """Upsert episodes, every field but the acknowledgement's."""
        ...

    def alarms(self, query: AlarmQuery) -> list[AlarmRecord]:
        """Episodes matching ``query``, newest first."""
        ...

    def alarm(self, alarm_id: str) -> AlarmRecord | None: ...

    def unsettled(self) -> list[AlarmRecord]:
        """Open episodes, and resolved ones whose firing was notified but not their resolution."""
        ...

    def acknowledge(self, alarm_id: str, by: str, at_ms: int, comment: str) -> AlarmRecord | None:
        """Record who acknowledged the episode (the first acknowledgement stays); ``None`` if unknown."""
        ...

    # events
    def add_events(self, events: Sequence[AlarmEvent]) -> None: ...
    def events(self, *, since_ms: int, until_ms: int, key: str | None = None, limit: int = 200) -> list[AlarmEvent]:
        """Newest first."""
        ...

    # silences
    def save_silence(self, silence: Silence) -> None: ...
    def silences(self, *, active_at_ms: int | None = None, limit: int = 200) -> list[Silence]:
        """Newest first; with ``active_at_ms``, only those active then (or starting later)."""
        ...

    def silence(self, silence_id: str) -> Silence | None: ...

    # notifications
    def commit_message(self, deliveries: Sequence[Delivery], notified: Sequence[AlarmRecord]) -> None:
        """Record a message for each channel and mark its alarms notified (one transaction where
        the backend has them; deliveries first otherwise: they alone prove the notification)."""
        ...

    def save_delivery(self, delivery: Delivery) -> None: ...
    def deliveries(
        self, *, status: DeliveryStatus | None = None, since_ms: int | None = None, limit: int = 200
    ) -> list[Delivery]:
        """Newest first."""
        ...

    # the evaluator's lease
    def claim(self, claim: LeaseClaim) -> None: ...
    def claims(self, *, now_ms: int) -> list[LeaseClaim]:
        """The latest claim of each holder that has not expired at ``now_ms``."""
        ...

    def close(self) -> None: ...
