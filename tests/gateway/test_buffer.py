"""The SQLite store-and-forward buffer: durable seqs, acks free space, bounds record gaps."""

from __future__ import annotations

from pathlib import Path

from ville_autonome.gateway.buffer import EnvelopeBuffer
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
    assert buf.ack([1, 3, 99]) == 2
    assert buf.ack([1]) == 0
    assert [e.seq for e in buf.after(0, 10)] == [2]
    assert (buf.envelope_count, buf.reading_count) == (1, 10)
    buf.close()


def test_size_bound_keeps_the_newest_and_records_the_gap(tmp_path: Path) -> None:
    buf = EnvelopeBuffer(tmp_path / "b.sqlite", "gw", max_bytes=4096)
    for i in range(20):
        buf.seal(readings(10, start_ts=i * 100), 1000 + i, max_batch=10)
        buf.enforce_bounds(1000 + i)
    assert buf.size_bytes <= 4096
    kept = [e.seq for e in buf.after(0, 100)]
    assert kept == list(range(kept[0], 21))  # a contiguous run ending with the newest
    gaps = buf.gaps()
    assert gaps
    assert all(g.reason == "size" for g in gaps)
    assert sum(g.envelopes for g in gaps) + len(kept) == 20
    assert sum(g.readings for g in gaps) == 10 * (20 - len(kept))
    assert gaps[0].first_seq == 1
    assert gaps[-1].last_seq == kept[0] - 1
    buf.close()
    assert EnvelopeBuffer(tmp_path / "b.sqlite", "gw").gaps() == gaps  # the record is durable too


def test_age_bound(tmp_path: Path) -> None:
    buf = EnvelopeBuffer(tmp_path / "b.sqlite", "gw", max_age_ms=1000)
    buf.seal(readings(5), 0)
    buf.seal(readings(5), 1500)
    gaps = buf.enforce_bounds(1800)
    assert [(g.first_seq, g.last_seq, g.readings, g.reason) for g in gaps] == [(1, 1, 5, "age")]
    assert [e.seq for e in buf.after(0, 10)] == [2]
    buf.close()
