# ruff: noqa: S608  (InfluxQL built only from influx_wire.influxql quoting and integer times; tested for injection)
"""Device health, sequence records and service counters on InfluxDB: the small records the ingest
writes and the API reads (measurements ``device_health``, ``ingest_sequences``,
``service_counters``; docs/storage.md). Rows that are not whole are skipped."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ville_autonome.influx_wire.influxql import ns, quote_string
from ville_autonome.influx_wire.line_protocol import LineProtocolError, line
from ville_autonome.influx_wire.rows import rows_of
from ville_autonome.readings.health import DeviceHealth
from ville_autonome.series.sequences import format_ranges, gaps_from, merge_ranges, parse_ranges, to_ranges
from ville_autonome.series.values import SequenceGap, SequenceNote
from ville_autonome.storage.base import StoreRejectedError

log = logging.getLogger(__name__)

HEALTH = "device_health"
SEQUENCES = "ingest_sequences"
COUNTERS = "service_counters"
COMPACTED = "_compacted"  # the worker tag of compacted sequence records
COMPACT_EVERY_MS = 60_000
COMPACT_AFTER_MS = 60_000  # records older than this are settled and folded


def _ranges(row: Mapping[str, Any]) -> bool:
    """Whether a sequence row holds ranges that read back (a foreign or half-shown row does not)."""
    try:
        parse_ranges(row["ranges"])
    except (KeyError, AttributeError, TypeError, ValueError):
        return False
    return True


class InfluxRecords:
    """Health, sequence records and counters of :class:`storage.influx_store.InfluxStore` (its
    base class), on its ``query``, ``write_lines`` and ``source``."""

    def __init__(self) -> None:
        self._records_lock = threading.Lock()
        self._last_seq_ts: dict[tuple[str, str], int] = {}
        self._last_compaction = 0

    def query(self, q: str, *, epoch: str = "ms") -> list[dict[str, Any]]:
        raise NotImplementedError

    def write_lines(
        self, lines: Sequence[tuple[int, str]], *, raw: bool = True, precision: str = "ms"
    ) -> dict[int, str]:
        raise NotImplementedError

    def source(self, measurement: str) -> str:
        raise NotImplementedError

    def _rows(self, q: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return rows_of(self.query(q))

    def write_health(self, records: Sequence[DeviceHealth]) -> None:
        lines = []
        for i, h in enumerate(records):
            fields: dict[str, float | str | bool] = {
                "online": bool(h.online),
                "updated_ms": float(h.updated_ms),
                "last_quality": h.last_quality,
                "errors": json.dumps(h.errors, sort_keys=True),
            }
            if h.last_seen_ms is not None:
                fields["last_seen_ms"] = float(h.last_seen_ms)
            try:
                lines.append((i, line(HEALTH, {"device": h.device, "gateway": h.gateway}, fields, h.updated_ms)))
            except LineProtocolError as exc:
                log.error("device health of %r not stored: %s", h.device, exc)
        refused = self.write_lines(lines, raw=False)
        for i, reason in refused.items():
            log.error("device health of %r refused: %s", records[i].device, reason)

    def health(self) -> list[DeviceHealth]:
        rows = self._rows(f"SELECT * FROM {self.source(HEALTH)} GROUP BY device ORDER BY time DESC LIMIT 1")
        out = []
        for tags, r in rows:
            try:
                last_seen = r.get("last_seen_ms")
                errors = json.loads(r.get("errors") or "{}")
                out.append(
                    DeviceHealth(
                        device=str(tags.get("device", "")),
                        gateway=str(r.get("gateway") or ""),
                        online=bool(r.get("online")),
                        last_seen_ms=int(last_seen) if last_seen is not None else None,
                        updated_ms=int(r.get("updated_ms") or r["time"]),
                        last_quality=str(r.get("last_quality") or ""),
                        errors={str(k): int(v) for k, v in errors.items()},
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # not whole, or not ours
                log.debug("device health row of %r skipped: %s", tags.get("device"), exc)
        return sorted(out, key=lambda h: h.device)

    def record_sequences(self, gateway: str, seqs: Sequence[int], *, worker: str, received_ms: int) -> None:
        if not seqs:
            return
        [record] = self.sequence_lines([SequenceNote(gateway, tuple(seqs), worker, received_ms)])
        refused = self.write_lines([(0, record)])
        if refused:
            raise StoreRejectedError(f"InfluxDB refused the sequence record of {gateway!r}: {refused[0]}")
        self.compact_when_due(received_ms)

    def sequence_lines(self, notes: Sequence[SequenceNote]) -> list[str]:
        """The lines (ms precision) recording ``notes``: one point per (gateway, worker, ms), never
        overwriting an earlier record."""
        out = []
        for n in notes:
            if not n.seqs:
                continue
            with self._records_lock:
                ts = max(n.received_ms, self._last_seq_ts.get((n.gateway, n.worker), -1) + 1)
                self._last_seq_ts[(n.gateway, n.worker)] = ts
            fields = {"ranges": format_ranges(to_ranges(n.seqs))}
            out.append(line(SEQUENCES, {"gateway": n.gateway, "worker": n.worker}, fields, ts))
        return out

    def compact_when_due(self, received_ms: int) -> None:
        """Compact the sequence records once per :data:`COMPACT_EVERY_MS` of records."""
        with self._records_lock:
            if received_ms - self._last_compaction < COMPACT_EVERY_MS:
                return
            self._last_compaction = received_ms
        self.compact_sequences(received_ms - COMPACT_AFTER_MS)

    def _compacted(self, gateway: str | None) -> dict[str, tuple[int, str]]:
        """The latest compacted record per gateway: (watermark ms, ranges)."""
        gw = f" AND gateway = {quote_string(gateway)}" if gateway is not None else ""
        q = (
            f"SELECT ranges FROM {self.source(SEQUENCES)} WHERE worker = {quote_string(COMPACTED)}{gw} "
            "GROUP BY gateway ORDER BY time DESC LIMIT 1"
        )
        return {str(t.get("gateway", "")): (int(r["time"]), r["ranges"]) for t, r in self._rows(q) if _ranges(r)}

    def _gateways(self) -> list[str]:
        series = self.query(f"SHOW TAG VALUES FROM {self.source(SEQUENCES)} WITH KEY = gateway")
        return sorted({str(v[1]) for s in series for v in s.get("values") or []})

    def compact_sequences(self, watermark_ms: int) -> None:
        """Fold each gateway's records up to ``watermark_ms`` into one compacted record (tag
        ``worker=_compacted``) so that :meth:`gaps` reads a bounded number of points. Idempotent and
        safe with several workers: records that old are settled, and a union is a union."""
        compacted = self._compacted(None)
        out = []
        for i, gateway in enumerate(self._gateways()):
            since, text = compacted.get(gateway, (-1, ""))
            if watermark_ms <= since:
                continue
            q = (
                f"SELECT ranges FROM {self.source(SEQUENCES)} WHERE gateway = {quote_string(gateway)} "
                f"AND worker != {quote_string(COMPACTED)} AND time > {ns(since)} AND time <= {ns(watermark_ms)}"
            )
            rows = [r["ranges"] for _, r in self._rows(q) if _ranges(r)]
            if not rows:
                continue
            merged = merge_ranges([rg for t in [text, *rows] for rg in parse_ranges(t)])
            tags = {"gateway": gateway, "worker": COMPACTED}
            out.append((i, line(SEQUENCES, tags, {"ranges": format_ranges(merged)}, watermark_ms)))
        if out:
            self.write_lines(out, raw=False)

    def gaps(self, gateway: str | None = None) -> list[SequenceGap]:
        compacted = self._compacted(gateway)
        gateways = [gateway] if gateway is not None else self._gateways()
        since = min((compacted.get(g, (-1, ""))[0] for g in gateways), default=-1)
        gw = f" AND gateway = {quote_string(gateway)}" if gateway is not None else ""
        q = (
            f"SELECT ranges FROM {self.source(SEQUENCES)} WHERE worker != {quote_string(COMPACTED)}{gw} "
            f"AND time > {ns(since)} GROUP BY gateway"
        )
        rows = [(str(t.get("gateway", "")), r["ranges"]) for t, r in self._rows(q) if _ranges(r)]
        rows += [(g, text) for g, (_, text) in compacted.items()]
        return gaps_from(rows)

    def write_service_stats(self, service: str, stats: Mapping[str, float]) -> None:
        if not stats:
            return
        fields: dict[str, float | str | bool] = {k: float(v) for k, v in stats.items()}
        ts = int(time.time() * 1000)
        refused = self.write_lines([(0, line(COUNTERS, {"service": service}, fields, ts))], raw=False)
        if refused:
            raise StoreRejectedError(f"InfluxDB refused the stats of {service!r}: {refused[0]}")

    def service_stats(self) -> dict[str, dict[str, float]]:
        rows = self._rows(f"SELECT * FROM {self.source(COUNTERS)} GROUP BY service ORDER BY time DESC LIMIT 1")
        out: dict[str, dict[str, float]] = {}
        for tags, r in rows:
            out[str(tags.get("service", ""))] = {
                k: float(v) for k, v in r.items() if k != "time" and isinstance(v, int | float)
            }
        return out
