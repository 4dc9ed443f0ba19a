"""Two processes with one MQTT client id, detected and named.

A broker keeps one connection per client id: when a second process connects with an id in use,
the broker disconnects the first one (MQTT 3.1.1 §3.1.4, MQTT 5 §3.1.4-3). Both reconnect (paho's
backoff starts again at its minimum after every accepted connection), throw each other off, and
flap forever; a persistent session may hand its queued QoS 1 messages to the other process. The
platform's client ids are stable on purpose (persistent sessions), so a copy-pasted configuration
or a second worker started with the same id is the likely cause.

:class:`TakeoverWatch` watches one client's connections and says when it is thrown off that way:

- MQTT 5: the broker's DISCONNECT carries reason code 0x8E "Session taken over"
  (:data:`SESSION_TAKEN_OVER`; the specification lets a broker send it, Mosquitto 2.0.11 closes
  the socket instead and is caught by the next rule): a takeover, named at the first one;
- any protocol (MQTT 3.1.1 has no reason: the broker just closes the socket):
  :data:`SHORT_CONNECTIONS` connections in a row closed by the broker within
  :data:`SHORT_CONNECTION_S` of being accepted: a suspected collision. A broker restart closes one
  connection and the next one stays up, so it is not flagged.

At the first detection an ERROR names the client id and the likely cause; :attr:`problem` holds
the same sentence until a connection has stayed up for :data:`CLEAR_AFTER_S` (the other process
is gone), which the services show in their health output (docs/uplink.md, "Client ids").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

SESSION_TAKEN_OVER = 0x8E  # MQTT 5 reason code of the broker's DISCONNECT
SHORT_CONNECTION_S = 10.0  # a connection the broker closes within this of its CONNACK is "short"
SHORT_CONNECTIONS = 3  # that many short connections in a row: a suspected client-id collision
CLEAR_AFTER_S = 60.0  # a connection up for this long clears the flag
ADVICE = "Give each process its own client id (its own MQTT user where the broker takes the user name as the client id)"


class TakeoverWatch:
    """The connect/disconnect history of one client; thread-safe (paho's network thread writes,
    health checks read)."""

    def __init__(
        self,
        client_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        short_s: float = SHORT_CONNECTION_S,
        repeats: int = SHORT_CONNECTIONS,
        clear_after_s: float = CLEAR_AFTER_S,
    ) -> None:
        self.client_id = client_id
        self._clock = clock
        self._short_s = short_s
        self._repeats = repeats
        self._clear_after_s = clear_after_s
        self._lock = threading.Lock()
        self._connected_at: float | None = None
        self._short = 0  # short connections in a row
        self._problem: str | None = None
        self.detections = 0  # takeovers and suspected collisions seen since start

    def connected(self) -> None:
        """The broker accepted a connection (a successful CONNACK)."""
        with self._lock:
            self._connected_at = self._clock()

    def disconnected(self, *, taken_over: bool, closed_by_broker: bool) -> None:
        """The connection ended: ``taken_over`` when the broker's DISCONNECT said "Session taken
        over"; ``closed_by_broker`` when the broker ended it (a DISCONNECT, or the socket closed
        under us), not this client nor a missed keepalive."""
        with self._lock:
            since, self._connected_at = self._connected_at, None
            if since is None:
                return  # no connection was accepted since the last one ended
            lasted = self._clock() - since
            short = closed_by_broker and lasted < self._short_s
            self._short = self._short + 1 if short else 0
            if taken_over:
                problem = (
                    f"MQTT client id {self.client_id!r} was taken over (the broker said 'Session taken over'): "
                    f"another process uses client id {self.client_id!r}; each connection throws the other "
                    f"off. {ADVICE}"
                )
            elif self._short >= self._repeats:
                problem = (
                    f"MQTT client id {self.client_id!r}: the broker closed {self._short} connections in a row "
                    f"within {self._short_s:g} s of accepting them: another process probably uses client id "
                    f"{self.client_id!r} (each connection throws the other off). {ADVICE}"
                )
            else:
                if lasted >= self._clear_after_s:
                    self._problem = None
                return
            if self._problem is None:
                log.error("%s", problem)
            self._problem = problem
            self.detections += 1

    @property
    def problem(self) -> str | None:
        """The collision named, while it lasts (``None``: none seen, or a connection has stayed up
        for ``clear_after_s`` since)."""
        with self._lock:
            if (
                self._problem is not None
                and self._connected_at is not None
                and self._clock() - self._connected_at >= self._clear_after_s
            ):
                log.info(
                    "MQTT client id %r: connected for %g s, no longer taken over", self.client_id, self._clear_after_s
                )
                self._problem = None
                self._short = 0
            return self._problem
