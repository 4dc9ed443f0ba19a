"""One live loop for every open event stream: the store is polled once, whatever the number of
dashboards, and each event is encoded once and handed to every stream (docs/api.md, "Push").

::

    LiveHub (one asyncio task per API process, running while a stream is open)
      │ every TICK_S: each Feed.poll() in a worker thread ──▶ events (SSE bytes, encoded once)
      ▼
    Subscriber queues (one per open stream, bounded) ──▶ GET /api/v1/stream

A :class:`Feed` is anything that produces events for every stream: the readings and flows now
(:class:`dashboard_api.live_feed.ReadingsFeed`) and the alarms
(:class:`dashboard_api.alarm_feed.AlarmsFeed`). It says what a new stream gets first
(``snapshot``) and what is new since its last poll (``poll``); the hub calls ``poll`` every
``every_s`` seconds. A feed that fails (the store does not answer) sends an ``error``
event and is polled again at the next tick: the streams stay open.

A stream that cannot keep up (its queue holds ``MAX_QUEUED`` ticks) is ended with an ``end``
event; the browser reconnects by itself and starts again from a snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

TICK_S = 0.25  # the loop's period: a reading stored now reaches the browsers within one tick
IDLE_STOP_S = 1.0  # the loop stops this long after the last stream closed (the next one starts it again)
MAX_QUEUED = 400  # ticks waiting for one stream before it is ended (about 100 s at TICK_S)

Chunk = bytes


def sse(name: str, data: Any) -> Chunk:
    """One Server-Sent Event, JSON data on one line."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'), allow_nan=False)}\n\n".encode()


class Feed(Protocol):
    """A producer of events for every open stream."""

    name: str
    every_s: float  # how often the hub polls it

    def snapshot(self) -> list[Chunk]:
        """What a new stream receives first (called on the event loop: memory only, no I/O)."""
        ...

    def poll(self, now_ms: int) -> list[Chunk]:
        """Events since the last poll (called in a worker thread: may block on I/O)."""
        ...


class Subscriber:
    """One open stream: a bounded queue of ticks (each a tuple of events)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[Chunk, ...]] = asyncio.Queue(maxsize=MAX_QUEUED)
        self.overflowed = False

    def offer(self, chunks: tuple[Chunk, ...]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(chunks)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue = asyncio.Queue(maxsize=1)
            self.queue.put_nowait((sse("end", {"detail": "the stream fell behind; reconnect"}),))


class LiveHub:
    """Polls its feeds while at least one stream is open and broadcasts their events."""

    def __init__(self, feeds: list[Feed], *, tick_s: float = TICK_S, clock_ms: Any = None) -> None:
        self.feeds = list(feeds)
        self.tick_s = tick_s
        self._clock_ms = clock_ms
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._primed: asyncio.Event | None = None
        self._next_poll: dict[str, float] = {}
        self.ticks = 0  # loop iterations since start (for tests and the bench)

    def _now_ms(self) -> int:
        return int(time.time() * 1000) if self._clock_ms is None else int(self._clock_ms())

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[tuple[Subscriber, list[Chunk]]]:
        """``async with hub.subscribe() as (sub, snapshot)``: the snapshot, then every tick in
        ``sub.queue``; nothing is lost or repeated in between (both happen on the event loop)."""
        self._ensure_running()
        assert self._primed is not None
        await self._primed.wait()
        sub = Subscriber()
        snapshot = [c for f in self.feeds for c in f.snapshot()]
        self._subscribers.add(sub)
        try:
            yield sub, snapshot
        finally:
            self._subscribers.discard(sub)

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._primed = asyncio.Event()
            self._next_poll.clear()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="live-hub")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _poll(self, feed: Feed, now_ms: int) -> list[Chunk]:
        try:
            return await asyncio.to_thread(feed.poll, now_ms)
        except Exception as exc:  # a feed's failure is an event, never the end of every stream
            log.warning("live feed %s: %s", feed.name, exc)
            return [sse("error", {"feed": feed.name, "detail": "the store did not answer"})]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        idle_since: float | None = None
        assert self._primed is not None
        while True:
            now = loop.time()
            chunks: list[Chunk] = []
            for feed in list(self.feeds):
                if now >= self._next_poll.get(feed.name, 0.0):
                    self._next_poll[feed.name] = now + feed.every_s
                    chunks += await self._poll(feed, self._now_ms())
            self.ticks += 1
            if not self._primed.is_set():
                self._primed.set()  # the first poll loaded the feeds' state: the snapshot is whole
            elif chunks:
                batch = tuple(chunks)
                for sub in list(self._subscribers):
                    sub.offer(batch)
            if self._subscribers:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= IDLE_STOP_S:
                return
            await asyncio.sleep(max(0.0, self.tick_s - (loop.time() - now)))
