"""Deliver the notifications the alarm log holds: retries with backoff, dead letters.

Each message is stored once per channel (``journals.alarm_records.Delivery``) before anything is
sent: a delivery survives a restart of the evaluator and is tried again by the next one. A
failure that may pass is retried after ``retry_backoff_s × 2^(attempts − 1)`` (at most
``retry_max_backoff_s``), up to ``retry_max_attempts``; a permanent failure, or the last attempt,
makes it a **dead letter**: status ``dead`` with its last error, an ``undelivered`` event, an
error in the log (``GET /api/v1/alarms/deliveries?status=dead`` lists them).

Delivery is at least once: a process killed between sending and recording the result sends again
(the message keeps its id: receivers dedupe by ``X-VA-Delivery``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from ville_autonome.alerts.channels import Channel, DeliveryError
from ville_autonome.configuration.alerts import AlertSettings
from ville_autonome.journals.alarm_records import AlarmEvent, AlarmLog, Delivery

log = logging.getLogger(__name__)


def backoff_ms(attempts: int, base_s: float, cap_s: float) -> int:
    """Delay after the ``attempts``-th failed attempt (1, 2, …): doubling from ``base_s``, capped."""
    return int(min(cap_s, base_s * 2 ** max(attempts - 1, 0)) * 1000)


def after_failure(d: Delivery, error: DeliveryError, now_ms: int, settings: AlertSettings) -> Delivery:
    attempts = d.attempts + 1
    if error.permanent or attempts >= settings.retry_max_attempts:
        return replace(d, status="dead", attempts=attempts, last_error=str(error), done_ms=now_ms)
    delay = backoff_ms(attempts, settings.retry_backoff_s, settings.retry_max_backoff_s)
    return replace(d, attempts=attempts, last_error=str(error), next_attempt_ms=now_ms + delay)


def after_success(d: Delivery, now_ms: int) -> Delivery:
    return replace(d, status="delivered", attempts=d.attempts + 1, done_ms=now_ms)


def deliver_due(
    alarm_log: AlarmLog, chans: dict[str, Channel], settings: AlertSettings, now_ms: int, *, limit: int = 50
) -> int:
    """Try every pending delivery whose time has come (oldest first); return how many were tried.
    A delivery for a channel no longer configured is a dead letter."""
    due = [d for d in alarm_log.deliveries(status="pending", limit=1000) if d.next_attempt_ms <= now_ms]
    due.sort(key=lambda d: (d.created_ms, d.message_id, d.channel))
    for d in due[:limit]:
        channel = chans.get(d.channel)
        try:
            if channel is None:
                raise DeliveryError(f"channel {d.channel} is no longer configured", permanent=True)
            channel.send(json.loads(d.body), d.body.encode(), now_ms)
            result = after_success(d, now_ms)
        except DeliveryError as exc:
            result = after_failure(d, exc, now_ms, settings)
            if result.status == "dead":
                log.error(
                    "notification %s dead on %s after %d attempts: %s", d.message_id, d.channel, result.attempts, exc
                )
            elif d.attempts == 0:
                log.warning("notification %s not delivered on %s (will retry): %s", d.message_id, d.channel, exc)
        alarm_log.save_delivery(result)
        if result.status == "dead":
            alarm_log.add_events(
                [AlarmEvent(now_ms, "undelivered", f"message:{d.message_id}", "", d.channel, result.last_error)]
            )
    return min(len(due), limit)
