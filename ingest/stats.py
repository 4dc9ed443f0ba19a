"""The statistics of one ingest worker and its health (what ``/metrics`` and the health check show)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ville_autonome.mqttlink.status_file import link_problems
from ville_autonome.mqttlink.status_file import write_status_file as write_status


class StoreState(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"  # down, timed out or 5xx: retried with backoff
    AUTH_FAILED = "auth_failed"  # 401/403: an operator must act; the worker is unhealthy


STORE_STATE_CODE = {StoreState.OK: 0.0, StoreState.UNREACHABLE: 1.0, StoreState.AUTH_FAILED: 2.0}


@dataclass(slots=True)
class IngestStats:
    """Statistics of one ingest worker since it started (a snapshot: see :attr:`IngestService.stats`)."""

    received: int = 0  # uplink messages received
    readings_received: int = 0
    written: int = 0  # readings durably written
    rejected: dict[str, int] = field(default_factory=dict)  # reason → readings (or messages) refused
    dead_letters: int = 0  # dead-letter messages (one per refused message)
    acked: int = 0  # envelopes acknowledged end to end
    duplicates: int = 0  # envelopes received again (re-delivery): written again, idempotently
    gaps: dict[str, int] = field(default_factory=dict)  # gateway → envelopes missing (from the store)
    health_records: int = 0
    store_failures: int = 0  # write attempts that failed (any kind)
    store_auth_failures: int = 0  # write attempts the store refused for our credentials (401/403)
    store_state: StoreState = StoreState.OK
    pending: int = 0  # messages received and not yet acknowledged to the broker
    pending_bytes: int = 0  # their payloads' bytes
    mqtt_collision: str | None = None  # another process uses our client id (mqttlink.client_id_collision)

    def as_stats(self) -> dict[str, float]:
        out = {
            "received": float(self.received),
            "readings_received": float(self.readings_received),
            "written": float(self.written),
            "acked": float(self.acked),
            "duplicates": float(self.duplicates),
            "health_records": float(self.health_records),
            "store_failures": float(self.store_failures),
            "store_auth_failures": float(self.store_auth_failures),
            "store_state": STORE_STATE_CODE[self.store_state],
            "pending": float(self.pending),
            "pending_bytes": float(self.pending_bytes),
            "dead_lettered": float(sum(self.rejected.values())),
            "dead_letters": float(self.dead_letters),
            "mqtt_client_id_collision": 1.0 if self.mqtt_collision else 0.0,
        }
        out.update({f"rejected_{k}": float(v) for k, v in self.rejected.items()})
        out.update({f"gap_{k}": float(v) for k, v in self.gaps.items()})
        return out


def health_problems(stats: IngestStats, *, connected: bool) -> list[str]:
    """Why the worker is unhealthy (empty: healthy). An unreachable store is a passing fault the
    worker rides out (it holds and retries); refused credentials are not, nor another process
    using the worker's client id (both flap, and the broker may hand our queued messages over)."""
    problems = link_problems(connected=connected, collision=stats.mqtt_collision)
    if stats.store_state is StoreState.AUTH_FAILED:
        problems.append("the store refuses the ingest's credentials (HTTP 401/403): nothing is written")
    return problems


def write_status_file(path: str | Path, problems: list[str], stats: IngestStats) -> None:
    """Write the worker's health as JSON, atomically (``va-healthcheck status FILE`` reads it)."""
    write_status(path, problems, store=str(stats.store_state), pending=stats.pending)
