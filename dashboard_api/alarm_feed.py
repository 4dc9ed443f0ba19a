"""The alarms as one feed of the live hub (:mod:`dashboard_api.live_hub`): the stream's ``alarms``
event (docs/api.md) is read once for every open stream and sent when the active alarms change.

The summary itself (counts by severity, the active alarms, firing first) is
:func:`dashboard_api.alarm_views.alarms_update`; this feed only holds the last one sent, so that a
new stream starts with it.
"""

from __future__ import annotations

import threading

from fastapi import FastAPI

from ville_autonome.dashboard_api.alarm_views import alarms_update
from ville_autonome.dashboard_api.live_hub import Chunk, sse

EVERY_S = 1.0  # how often the alarm log is read (its summary is itself kept alarm_views.EVENT_TTL_S)


class AlarmsFeed:
    """The ``alarms`` event for every stream: at the first poll, then whenever it changes."""

    name = "alarms"

    def __init__(self, app: FastAPI, *, every_s: float = EVERY_S) -> None:
        self.app = app
        self.every_s = every_s
        self._sent: list[str] = []  # the digest of the last summary (alarms_update's memory)
        self._last: Chunk | None = None
        self._lock = threading.Lock()

    def poll(self, now_ms: int) -> list[Chunk]:
        data = alarms_update(self.app, self._sent)
        if data is None:
            return []
        chunk = sse("alarms", data)
        with self._lock:
            self._last = chunk
        return [chunk]

    def snapshot(self) -> list[Chunk]:
        with self._lock:
            return [] if self._last is None else [self._last]
