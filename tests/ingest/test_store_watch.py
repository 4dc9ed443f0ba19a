"""How the ingest reacts to each kind of store failure (pure, with a clock the test moves), and the
rate limit of the lines a sender controls."""

from __future__ import annotations

import logging

import pytest

from ville_autonome.ingest.lograte import RateLimitedLog
from ville_autonome.ingest.stats import StoreState
from ville_autonome.ingest.store_watch import AUTH_BACKOFF_MAX_S, BACKOFF_MAX_S, BACKOFF_MIN_S, StoreWatch
from ville_autonome.storage.base import StoreAuthError, StoreTransientError


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_refused_credentials_are_said_every_minute_while_they_last(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    watch = StoreWatch(clock)
    delay = None
    with caplog.at_level(logging.ERROR, logger="ville_autonome.ingest.store_watch"):
        for _ in range(200):  # 200 retries, 1 s apart: a bit over three minutes
            delay = watch.failed(StoreAuthError("401"), 7, delay)
            clock.t += 1.0
    lines = [r for r in caplog.records if "credentials" in r.getMessage()]
    assert len(lines) == 4  # at once, then every 60 s: 0, 60, 120, 180
    assert watch.state is StoreState.AUTH_FAILED
    assert watch.auth_failures == 200
    assert delay == AUTH_BACKOFF_MAX_S  # slow retries, no silent spin
    watch.succeeded()
    assert watch.state is StoreState.OK


def test_a_transient_outage_is_said_once_and_retried_faster() -> None:
    watch = StoreWatch(Clock())
    delays = []
    delay = None
    for _ in range(8):
        delay = watch.failed(StoreTransientError("down"), 1, delay)
        delays.append(delay)
    assert delays[0] == BACKOFF_MIN_S
    assert delays[-1] == BACKOFF_MAX_S
    assert watch.state is StoreState.UNREACHABLE
    # refused credentials after an outage start their own, slower, back-off
    assert watch.failed(StoreAuthError("403"), 1, delay) == 1.0


def test_lines_a_sender_controls_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    limited = RateLimitedLog(logging.getLogger("t.rate"), burst=3, window_s=10, clock=clock)
    with caplog.at_level(logging.WARNING, logger="t.rate"):
        logged = [limited.warning("bad_reading", "dead letter %d", i) for i in range(20_000)]
        clock.t += 11
        limited.warning("bad_reading", "dead letter after")
    assert sum(logged) == 3
    assert len(caplog.records) == 4
    assert "19997 similar lines suppressed" in caplog.records[-1].getMessage()
