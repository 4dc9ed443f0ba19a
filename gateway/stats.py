"""A gateway's running statistics (polls, envelopes, buffer, lateness): what its health report,
its logs and the benchmarks read."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ville_autonome.gateway.buffer import Drop
from ville_autonome.gateway.modbus_source import DeviceState

JITTER_SAMPLES = 200_000


@dataclass
class GatewayStats:
    """Statistics of one gateway (monotonic since start, except ``buffered*``)."""

    polls: int = 0
    readings: int = 0
    sealed: int = 0  # envelopes written to the buffer
    published: int = 0  # envelope publications (first sends and re-sends)
    resent: int = 0
    acked: int = 0  # envelopes freed by an end-to-end ack
    buffered: int = 0  # envelopes in the buffer now
    buffered_readings: int = 0
    dropped_by_policy: int = 0  # readings deleted by the buffer bounds (see drops)
    drops: list[Drop] = field(default_factory=list)
    bad_acks: int = 0
    buffer_errors: int = 0  # seals that failed (disk full, unwritable file); readings kept in memory
    mqtt_messages: int = 0
    mqtt_rejected: int = 0
    devices: dict[str, DeviceState] = field(default_factory=dict)
    poll_lateness_s: deque[float] = field(default_factory=lambda: deque(maxlen=JITTER_SAMPLES))  # task woke
    request_lateness_s: deque[float] = field(default_factory=lambda: deque(maxlen=JITTER_SAMPLES))  # request sent
