"""Wait on a condition with a deadline: the only synchronisation tests use (never a bare sleep).

Only the exceptions a caller names in ``retry_on`` are retried (a service that is not up yet:
``ConnectionRefusedError``, ``OSError``, ``httpx.TransportError``, …); any other exception — an
assertion failing once mid-fault, a bug in the test's own code — propagates at once, where it
happened, instead of turning into a time-out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
Retried = tuple[type[BaseException], ...]


class ConditionTimeoutError(AssertionError):
    pass


def wait_for(
    condition: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "condition",
    retry_on: Retried = (),
) -> T:
    """Poll ``condition`` until it returns a truthy value; return it, or fail after ``timeout``.
    An exception of ``retry_on`` counts as "not yet"; any other propagates."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except retry_on as exc:  # the condition may raise these until the service is up
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise ConditionTimeoutError(f"timed out after {timeout}s waiting for {what}{detail}")
        time.sleep(interval)  # polling interval of a deadline-bounded wait, not a synchronisation sleep


async def async_wait_for(
    condition: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 (a deadline, same meaning as in wait_for)
    interval: float = 0.02,
    what: str = "condition",
    retry_on: Retried = (),
) -> T:
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = condition()
            if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
                value = await value
            if value:
                return value  # type: ignore[return-value]
        except retry_on as exc:
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise ConditionTimeoutError(f"timed out after {timeout}s waiting for {what}{detail}")
        await asyncio.sleep(interval)
