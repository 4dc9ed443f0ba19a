"""A gateway's running statistics (polls, envelopes, buffer, lateness): what its health report,
its logs and the benchmarks read."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

from ville_autonome.gateway.buffer import Drop
from ville_autonome.gateway.modbus_source import DeviceState
from ville_autonome.gateway.uplink import Uplink
from ville_autonome.mqttlink.status_file import link_problems, write_status_file

log = logging.getLogger(__name__)

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
    buffer_failing: bool = False  # the last seal failed
    mqtt_messages: int = 0
    mqtt_rejected: int = 0
    devices: dict[str, DeviceState] = field(default_factory=dict)
    poll_lateness_s: deque[float] = field(default_factory=lambda: deque(maxlen=JITTER_SAMPLES))  # task woke
    request_lateness_s: deque[float] = field(default_factory=lambda: deque(maxlen=JITTER_SAMPLES))  # request sent


def write_gateway_status(template: str, gateway_id: str, stats: GatewayStats, uplink: Uplink) -> None:
    """The gateway's health in its status file (``services.gateway.status_file``, ``{gateway}``
    standing for its id): unhealthy while its uplink is not connected, while another process uses
    its client id, or while its buffer file cannot be written (readings then wait in memory)."""
    problems = link_problems(connected=uplink.connected, collision=uplink.client_id_collision)
    if stats.buffer_failing:
        problems.append(f"gateway {gateway_id}: its buffer file cannot be written; readings wait in memory")
    path = template.replace("{gateway}", gateway_id)
    try:
        write_status_file(path, problems, gateway=gateway_id, buffered_envelopes=stats.buffered)
    except OSError as exc:  # the health check then fails on a stale file: said here why
        log.warning("gateway %s: status file %s not written: %s", gateway_id, path, exc)
