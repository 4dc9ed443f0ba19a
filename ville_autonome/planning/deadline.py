"""A compute budget: long scenario work checks it between steps and stops with a named error."""

from __future__ import annotations

import time
from collections.abc import Callable


class ScenarioTimeoutError(RuntimeError):
    """The scenario needed more compute time than it was given."""


class Deadline:
    """``Deadline(10.0).check()`` raises :class:`ScenarioTimeoutError` once 10 s have passed."""

    def __init__(self, budget_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget_s = budget_s
        self._clock = clock
        self._end = clock() + budget_s

    def check(self) -> None:
        if self._clock() > self._end:
            raise ScenarioTimeoutError(f"the scenario needed more than {self.budget_s:g} s of computation")


NO_DEADLINE = Deadline(float("inf"))
