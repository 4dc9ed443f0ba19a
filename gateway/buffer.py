"""Store-and-forward buffer: sealed uplink envelopes in SQLite (WAL), freed only by end-to-end acks.

An envelope is *sealed* when the gateway groups the latest readings under the next sequence
number: the envelope row and the new ``next_seq`` are written in one transaction, so a crash
(kill -9 included) never reuses a sequence number nor loses a sealed envelope. SQLite runs in WAL
mode with ``synchronous=NORMAL``: every committed transaction survives a process crash.

A power loss may lose the last transactions (``next_seq`` with them), and then sequence numbers
are sealed again with other readings. So every opening of the buffer draws a new random
**epoch** (a boot of the gateway), sealed into each envelope it makes (``readings.envelope``) and
kept with it; the ingest acknowledges ``(epoch, seqs)`` and :meth:`EnvelopeBuffer.ack` frees only
envelopes of that epoch. An acknowledgement from before the power cut can no longer free a new
envelope that was never delivered (``durable_power_loss=True`` adds ``synchronous=FULL`` on top).

Bounds (``GatewayConfig.buffer_max_bytes`` / ``buffer_max_age_days``): when sealing would make
the stored bodies exceed the size bound, or envelopes pass the age bound, the **oldest**
envelopes are deleted (policy "keep newest") and each deletion is recorded as a **drop** (sequence
range, reading count, time range, reason) in the ``drops`` table and counted — never silently. (A
*gap* is the ingest's word: sequence numbers it never received, ``storage.base.Store.gaps``.) A
buffer file from before this name holds its drops in a ``gaps`` table: opening it renames the
table, records kept.

Errors: ``gateway.errors.BufferFileError`` (a ``GatewayError``) when the buffer file cannot be
opened or written.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ville_autonome.gateway.errors import BufferFileError
from ville_autonome.readings.envelope import Envelope, encode
from ville_autonome.readings.model import Reading

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS envelopes (
    seq INTEGER PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    first_ts_ms INTEGER NOT NULL,
    last_ts_ms INTEGER NOT NULL,
    body BLOB NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS drops (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    envelopes INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    first_ts_ms INTEGER NOT NULL,
    last_ts_ms INTEGER NOT NULL,
    reason TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL
);
"""


def new_epoch() -> int:
    """A random, non-zero epoch in [1, 2^62]: two boots never share one in practice."""
    return secrets.randbits(62) + 1


def _rename_old_drops_table(db: sqlite3.Connection) -> None:
    """A buffer file from before drops had their name keeps them in ``gaps``: rename it, records kept."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "gaps" in tables and "drops" not in tables:
        db.execute("ALTER TABLE gaps RENAME TO drops")


@dataclass(frozen=True, slots=True)
class Drop:
    """Envelopes deleted by the buffer policy before they were acknowledged."""

    first_seq: int
    last_seq: int
    envelopes: int
    readings: int
    first_ts_ms: int
    last_ts_ms: int
    reason: str  # "size" or "age"
    recorded_ms: int


@dataclass(frozen=True, slots=True)
class StoredEnvelope:
    seq: int
    readings: int
    body: bytes


class EnvelopeBuffer:
    """The durable queue of sealed envelopes of one gateway."""

    def __init__(
        self,
        path: str | Path,
        gateway: str,
        *,
        max_bytes: int = 512 * 1024 * 1024,
        max_age_ms: int = 30 * 86_400_000,
        durable_power_loss: bool = False,
    ) -> None:
        self.path = Path(path)
        self.gateway = gateway
        self.max_bytes = max_bytes
        self.max_age_ms = max_age_ms
        self.epoch = new_epoch()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable_power_loss else 'NORMAL'}")
            _rename_old_drops_table(self._db)
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(envelopes)")}
            if "epoch" not in columns:  # a buffer file from before epochs: its envelopes have epoch 0
                self._db.execute("ALTER TABLE envelopes ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0")
            row = self._db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
            self._next_seq = int(row[0]) if row else 1
            size = self._db.execute("SELECT COALESCE(SUM(LENGTH(body)), 0), COUNT(*) FROM envelopes").fetchone()
            self._bytes, self._count = int(size[0]), int(size[1])
            readings = self._db.execute("SELECT COALESCE(SUM(readings), 0) FROM envelopes").fetchone()
            self._readings = int(readings[0])
        except sqlite3.Error as exc:
            raise BufferFileError(f"cannot open the store-and-forward buffer {self.path}: {exc}") from exc

    # ------------------------------------------------------------ properties

    @property
    def next_seq(self) -> int:
        return self._next_seq

    @property
    def envelope_count(self) -> int:
        return self._count

    @property
    def reading_count(self) -> int:
        return self._readings

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def oldest_created_ms(self) -> int | None:
        """When the oldest envelope still held was sealed (``None`` when the buffer is empty)."""
        row = self._db.execute("SELECT created_ms FROM envelopes ORDER BY seq LIMIT 1").fetchone()
        return int(row[0]) if row else None

    # ------------------------------------------------------------ writing

    def seal(self, readings: Sequence[Reading], now_ms: int, *, max_batch: int = 1000) -> list[int]:
        """Group ``readings`` into envelopes of at most ``max_batch`` readings, durably; return
        their sequence numbers. Applies the size and age bounds afterwards."""
        if not readings:
            return []
        seqs: list[int] = []
        rows = []
        seq = self._next_seq
        added_bytes = 0
        for i in range(0, len(readings), max_batch):
            chunk = tuple(readings[i : i + max_batch])
            body = encode(Envelope(gateway=self.gateway, seq=seq, sent_ms=now_ms, readings=chunk, epoch=self.epoch))
            ts = [r.ts_ms for r in chunk]
            rows.append((seq, now_ms, len(chunk), min(ts), max(ts), body, self.epoch))
            added_bytes += len(body)
            seqs.append(seq)
            seq += 1
        try:
            with self._transaction():
                self._db.executemany(
                    "INSERT INTO envelopes (seq, created_ms, readings, first_ts_ms, last_ts_ms, body, epoch)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)", (seq,))
        except sqlite3.Error as exc:
            raise BufferFileError(f"cannot write the buffer {self.path}: {exc}") from exc
        self._next_seq = seq
        self._bytes += added_bytes
        self._count += len(rows)
        self._readings += len(readings)
        return seqs

    def enforce_bounds(self, now_ms: int) -> list[Drop]:
        """Delete what the size and age bounds no longer allow (oldest first); return the drops."""
        drops: list[Drop] = []
        cutoff = now_ms - self.max_age_ms
        old = self._db.execute("SELECT seq FROM envelopes WHERE created_ms < ? ORDER BY seq", (cutoff,)).fetchall()
        if old:
            drops.append(self._drop([r[0] for r in old], "age", now_ms))
        if self._bytes > self.max_bytes:
            victims: list[int] = []
            excess = self._bytes - self.max_bytes
            for seq, size in self._db.execute("SELECT seq, LENGTH(body) FROM envelopes ORDER BY seq"):
                if excess <= 0:
                    break
                victims.append(int(seq))
                excess -= int(size)
            if victims:
                drops.append(self._drop(victims, "size", now_ms))
        return drops

    def _drop(self, seqs: list[int], reason: str, now_ms: int) -> Drop:
        marks = ",".join("?" * len(seqs))
        with self._transaction():
            row = self._db.execute(
                f"SELECT MIN(seq), MAX(seq), COUNT(*), SUM(readings), MIN(first_ts_ms), MAX(last_ts_ms),"  # noqa: S608
                f" SUM(LENGTH(body)) FROM envelopes WHERE seq IN ({marks})",
                seqs,
            ).fetchone()
            drop = Drop(int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5]), reason, now_ms)
            self._db.execute(f"DELETE FROM envelopes WHERE seq IN ({marks})", seqs)  # noqa: S608
            self._db.execute(
                "INSERT INTO drops (first_seq, last_seq, envelopes, readings, first_ts_ms, last_ts_ms, reason,"
                " recorded_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    drop.first_seq,
                    drop.last_seq,
                    drop.envelopes,
                    drop.readings,
                    drop.first_ts_ms,
                    drop.last_ts_ms,
                    reason,
                    now_ms,
                ),
            )
        self._bytes -= int(row[6])
        self._count -= drop.envelopes
        self._readings -= drop.readings
        log.warning(
            "buffer %s full (%s bound): dropped envelopes %d…%d (%d readings, %d…%d ms) to keep the newest",
            self.path.name,
            reason,
            drop.first_seq,
            drop.last_seq,
            drop.readings,
            drop.first_ts_ms,
            drop.last_ts_ms,
        )
        return drop

    def ack(self, seqs: Iterable[int], *, epoch: int = 0) -> int:
        """Free the acknowledged envelopes of ``epoch`` (an acknowledgement names the epoch of the
        envelopes it acknowledges); return how many were still stored."""
        wanted = sorted(set(seqs))
        if not wanted:
            return 0
        freed = 0
        with self._transaction():
            for i in range(0, len(wanted), 500):
                part = wanted[i : i + 500]
                marks = ",".join("?" * len(part))
                row = self._db.execute(
                    f"SELECT COUNT(*), COALESCE(SUM(readings), 0), COALESCE(SUM(LENGTH(body)), 0)"  # noqa: S608
                    f" FROM envelopes WHERE epoch = ? AND seq IN ({marks})",
                    (epoch, *part),
                ).fetchone()
                self._db.execute(f"DELETE FROM envelopes WHERE epoch = ? AND seq IN ({marks})", (epoch, *part))  # noqa: S608
                freed += int(row[0])
                self._count -= int(row[0])
                self._readings -= int(row[1])
                self._bytes -= int(row[2])
        return freed

    # ------------------------------------------------------------ reading

    def after(self, seq: int, limit: int) -> list[StoredEnvelope]:
        """Stored envelopes with a sequence number above ``seq``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, readings, body FROM envelopes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [StoredEnvelope(int(s), int(n), bytes(b)) for s, n, b in rows]

    def get(self, seq: int) -> StoredEnvelope | None:
        row = self._db.execute("SELECT seq, readings, body FROM envelopes WHERE seq = ?", (seq,)).fetchone()
        return StoredEnvelope(int(row[0]), int(row[1]), bytes(row[2])) if row else None

    def drops(self) -> list[Drop]:
        """Every drop recorded in this file, oldest first."""
        rows = self._db.execute(
            "SELECT first_seq, last_seq, envelopes, readings, first_ts_ms, last_ts_ms, reason, recorded_ms"
            " FROM drops ORDER BY id"
        ).fetchall()
        return [Drop(*(int(v) if i != 6 else str(v) for i, v in enumerate(r))) for r in rows]  # type: ignore[arg-type]

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------ helpers

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
