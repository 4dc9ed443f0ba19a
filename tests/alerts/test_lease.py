"""One evaluator acts at a time, on both backends: a second process started by mistake stands by,
takes over when the first stops (at once) or dies (after the lease's ttl), and a leader frozen
beyond its ttl comes back as a newcomer instead of taking the lead back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ville_autonome.alerts.lease import Lease, candidate, newcomer_since
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.journals.alarm_log import open_alarm_log
from ville_autonome.journals.alarm_records import AlarmLog, LeaseClaim

NOW = int(time.time() * 1000) // 1000 * 1000
TTL, SETTLE = 10_000, 3_000


class Clock:
    """Wall-clock milliseconds and a monotonic clock in seconds, moved by the test."""

    def __init__(self) -> None:
        self.ms = NOW

    def wall(self) -> int:
        return self.ms

    def mono(self) -> float:
        return (self.ms - NOW) / 1000

    def advance(self, ms: int) -> None:
        self.ms += ms


@pytest.fixture
def log(settings: StoreSettings) -> Iterator[AlarmLog]:
    found = open_alarm_log(settings)
    yield found
    found.close()


def lease(log: AlarmLog, holder: str, clock: Clock) -> Lease:
    return Lease(log, holder, ttl_ms=TTL, settle_ms=SETTLE, clock=clock.wall, monotonic=clock.mono)


def test_pure_choice() -> None:
    claims = [LeaseClaim("b", 5, 9, 20), LeaseClaim("a", 5, 9, 20), LeaseClaim("c", 1, 9, 20)]
    assert candidate(claims) == "c"
    assert candidate([]) is None
    assert newcomer_since(claims, 3, "z") == 6, "after every claim seen, even if the clocks disagree"
    assert newcomer_since(claims, 100, "z") == 100


def test_a_second_evaluator_stands_by_and_takes_over(log: AlarmLog) -> None:
    clock = Clock()
    first, second = lease(log, "first", clock), lease(log, "second", clock)
    assert not first.tick(), "not before it has been the candidate for settle_ms"
    clock.advance(1000)
    assert not second.tick()
    acting = []
    for _ in range(10):
        clock.advance(1000)
        acting.append((first.tick(), second.tick()))
    assert acting[-1] == (True, False)
    assert not any(a and b for a, b in acting), "never two at once"
    assert second.leader == "first"
    first.release()  # a clean stop: the standby takes over after settle_ms, not after the ttl
    steps = 0
    while not second.tick():
        clock.advance(1000)
        steps += 1
    assert steps <= SETTLE // 1000 + 1


def test_a_dead_evaluator_is_replaced_after_the_ttl(log: AlarmLog) -> None:
    clock = Clock()
    first, second = lease(log, "first", clock), lease(log, "second", clock)
    for _ in range(5):
        first.tick()
        second.tick()
        clock.advance(1000)
    assert first.tick()
    waited = 0
    while not second.tick():  # first no longer renews
        clock.advance(1000)
        waited += 1000
    assert TTL <= waited + 1000 <= TTL + SETTLE + 2000


def test_a_frozen_leader_comes_back_as_a_newcomer(log: AlarmLog) -> None:
    clock = Clock()
    first, second = lease(log, "first", clock), lease(log, "second", clock)
    for _ in range(5):
        first.tick()
        second.tick()
        clock.advance(1000)
    assert first.tick()
    for _ in range(TTL // 1000 + SETTLE // 1000 + 2):  # first frozen (SIGSTOP, a long pause)
        clock.advance(1000)
        second.tick()
    assert second.tick()
    clock.advance(1000)
    assert not first.tick(), "a claim that expired is a newcomer's: it does not take the lead back"
    assert first.leader == "second"
    for _ in range(5):
        clock.advance(1000)
        assert (first.tick(), second.tick()) == (False, True)
