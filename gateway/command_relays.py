"""Commands to MQTT devices: the relays of the gateway's MQTT devices and what they report.

A device whose preset has an output (``configuration.mqtt_presets.Relay``: Shelly Gen1, Tasmota)
is switched by publishing ``on``/``off`` (the family's words) on its command topic; the device
answers with its state on its state topic. :class:`RelayStates` holds the last state each relay
reported and lets a command wait for the state it asked for: :meth:`RelayStates.arm` before the
publication (an answer cannot slip in between), then :meth:`RelayStates.wait` until the state is
the one asked, or the timeout. Runs on the gateway's event loop.
"""

from __future__ import annotations

import asyncio
import time

from ville_autonome.configuration.mqtt_presets import Relay


class RelayStates:
    """The relays of one gateway's MQTT devices (device id → relay) and their reported states."""

    def __init__(self, relays: dict[str, Relay]) -> None:
        self.relays = relays
        self._by_topic = {r.state_topic: r for r in relays.values()}
        self.states: dict[str, float | None] = {}  # state topic → 1 on, 0 off, None unreadable
        self._changed: dict[str, asyncio.Event] = {}

    @property
    def topics(self) -> list[str]:
        """The state topics to subscribe to."""
        return list(self._by_topic)

    def receive(self, topic: str, payload: bytes) -> bool:
        """Take a message if it is a relay's state; says whether it was."""
        r = self._by_topic.get(topic)
        if r is None:
            return False
        self.states[topic] = r.state(payload)
        event = self._changed.pop(topic, None)
        if event is not None:
            event.set()
        return True

    def arm(self, relay: Relay) -> asyncio.Event:
        """An event set by the next state the relay reports (take it before publishing the command)."""
        return self._changed.setdefault(relay.state_topic, asyncio.Event())

    async def wait(self, relay: Relay, armed: asyncio.Event, value: float, timeout_s: float) -> float | None:
        """The state reported after ``armed`` once it equals ``value``; else the last one reported
        (or ``None``) when ``timeout_s`` has passed."""
        deadline = time.monotonic() + timeout_s
        event = armed
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return self.states.get(relay.state_topic)
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                return self.states.get(relay.state_topic)
            state = self.states.get(relay.state_topic)
            if state == value:
                return state
            event = self.arm(relay)
