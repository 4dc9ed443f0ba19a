"""The SQLite store-and-forward buffer: durable seqs, acks free space, bounds record gaps, and an
epoch per opening so that a rolled-back file (power cut) cannot be freed by a stale ack."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from ville_autonome.gateway.buffer import Drop, EnvelopeBuffer
from ville_autonome.readings.envelope import decode
from ville_autonome.readings.model import Reading


def readings(n: int, start_ts: int = 1_000) -> list[Reading]:
    return [Reading("dev", "active_power_w", start_ts + i, float(i)) for i in range(n)]


def test_seal_assigns_consecutive_seqs_that_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    buf = EnvelopeBuffer(path, "gw")
    assert buf.seal(readings(25), 10, max_batch=10) == [1, 2, 3]
    buf.close()
    again = EnvelopeBuffer(path, "gw")
    assert again.next_seq == 4
    assert (again.envelope_count, again.reading_count) == (3, 25)
    stored = again.after(0, 10)
    assert [e.seq for e in stored] == [1, 2, 3]
    env = decode(stored[2].body)
    assert (env.gateway, env.seq, len(env.readings)) == ("gw", 3, 5)
    assert env.readings[0] == readings(25)[20]
    assert again.seal(readings(1), 11) == [4]
    again.close()


def test_ack_frees_only_what_is_stored(tmp_path: Path) -> None:
    buf = EnvelopeBuffer(tmp_path / "b.sqlite", "gw")
    buf.seal(readings(30), 10, max_batch=10)
    assert buf.ack([1, 3, 99], epoch=buf.epoch) == 2
    assert buf.ack([1], epoch=buf.epoch) == 0
    assert [e.seq for e in buf.after(0, 10)] == [2]
    assert (buf.envelope_count, buf.reading_count) == (1, 10)
    buf.close()


def test_size_bound_keeps_the_newest_and_records_the_drop(tmp_path: Path) -> None:
    buf = EnvelopeBuffer(tmp_path / "b.sqlite", "gw", max_bytes=4096)
    for i in range(20):
        buf.seal(readings(10, start_ts=i * 100), 1000 + i, max_batch=10)
        buf.enforce_bounds(1000 + i)
    assert buf.size_bytes <= 4096
    kept = [e.seq for e in buf.after(0, 100)]
    assert kept == list(range(kept[0], 21))  # a contiguous run ending with the newest
    drops = buf.drops()
    assert drops
    assert all(d.reason == "size" for d in drops)
    assert sum(d.envelopes for d in drops) + len(kept) == 20
    assert sum(d.readings for d in drops) == 10 * (20 - len(kept))
    assert drops[0].first_seq == 1
    assert drops[-1].last_seq == kept[0] - 1
    buf.close()
    assert EnvelopeBuffer(tmp_path / "b.sqlite", "gw").drops() == drops  # the record is durable too


def test_age_bound(tmp_path: Path) -> None:
    buf = EnvelopeBuffer(tmp_path / "b.sqlite", "gw", max_age_ms=1000)
    buf.seal(readings(5), 0)
    buf.seal(readings(5), 1500)
    drops = buf.enforce_bounds(1800)
    assert [(d.first_seq, d.last_seq, d.readings, d.reason) for d in drops] == [(1, 1, 5, "age")]
    assert [e.seq for e in buf.after(0, 10)] == [2]
    buf.close()


def test_each_opening_seals_with_a_new_epoch_and_acks_free_only_their_own_epoch(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    first = EnvelopeBuffer(path, "gw")
    assert first.seal(readings(3), 10) == [1]
    e1 = first.epoch
    assert decode(first.get(1).body).epoch == e1  # type: ignore[union-attr]
    first.close()
    second = EnvelopeBuffer(path, "gw")
    assert second.epoch not in (0, e1)
    assert second.seal(readings(3), 11) == [2]
    assert decode(second.get(2).body).epoch == second.epoch  # type: ignore[union-attr]
    assert second.ack([1, 2], epoch=second.epoch) == 1  # envelope 1 belongs to the first boot
    assert second.ack([1], epoch=e1) == 1  # its own epoch's ack frees it (a replay of the old body)
    assert second.envelope_count == 0
    second.close()


def test_a_rolled_back_file_is_not_freed_by_an_ack_of_the_envelope_it_lost(tmp_path: Path) -> None:
    """A power cut loses the last transactions: simulated by restoring an older copy of the file.
    The ack of the lost envelope 2 (epoch of the first boot) is late, and the new envelope 2 is
    another one: it must stay until its own acknowledgement."""
    path = tmp_path / "b.sqlite"
    buf = EnvelopeBuffer(path, "gw")
    buf.seal(readings(3), 10)
    _checkpoint_copy(path, tmp_path / "older.sqlite")  # the state a power cut would roll back to
    assert buf.seal(readings(3, start_ts=5000), 11) == [2]  # sealed and published, then the power goes
    lost_epoch = buf.epoch
    buf.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "older.sqlite", path)
    after = EnvelopeBuffer(path, "gw")
    assert after.next_seq == 2  # rolled back: seq 2 is sealed again, with other readings
    assert after.seal(readings(3, start_ts=9000), 12) == [2]
    assert after.ack([2], epoch=lost_epoch) == 0  # the late ack of the lost envelope 2
    assert after.get(2) is not None
    assert after.ack([2], epoch=after.epoch) == 1
    after.close()


def test_a_buffer_file_from_before_epochs_is_upgraded_and_acked_with_epoch_0(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
        "CREATE TABLE envelopes (seq INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, readings INTEGER NOT NULL,"
        " first_ts_ms INTEGER NOT NULL, last_ts_ms INTEGER NOT NULL, body BLOB NOT NULL);"
        "INSERT INTO envelopes VALUES (1, 10, 1, 1, 1, x'7b7d');"
        "INSERT INTO meta VALUES ('next_seq', 2);"
    )
    db.commit()
    db.close()
    buf = EnvelopeBuffer(path, "gw")
    assert buf.next_seq == 2
    assert buf.ack([1], epoch=buf.epoch) == 0
    assert buf.ack([1]) == 1
    buf.close()


def test_a_buffer_file_whose_drops_are_in_a_gaps_table_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    first = EnvelopeBuffer(path, "gw")
    first.seal(readings(3), 1000)
    first.close()
    db = sqlite3.connect(path)  # the file as the buffer wrote it before drops had their name
    db.executescript(
        "ALTER TABLE drops RENAME TO gaps;"
        "INSERT INTO gaps (first_seq, last_seq, envelopes, readings, first_ts_ms, last_ts_ms, reason, recorded_ms)"
        " VALUES (1, 4, 4, 40, 100, 400, 'size', 500);"
    )
    db.commit()
    db.close()
    buf = EnvelopeBuffer(path, "gw")
    assert buf.drops() == [Drop(1, 4, 4, 40, 100, 400, "size", 500)]
    assert [e.seq for e in buf.after(0, 10)] == [1]  # its envelopes untouched
    buf.seal(readings(5, start_ts=2000), 3000, max_batch=1)
    assert len(buf.enforce_bounds(10**12)) == 1  # new drops go to the same table
    assert [d.first_seq for d in buf.drops()] == [1, 1]
    buf.close()
    db = sqlite3.connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "gaps" not in tables


def _checkpoint_copy(path: Path, target: Path) -> None:
    """A consistent copy of a WAL database as another process would see it now."""
    src = sqlite3.connect(path)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
