"""The batch writer's store calls, on a real SQLite store (a subclass refusing a write for good is
the seam: our own store class): the sequence numbers travel with the readings, a batch refused
for good becomes dead letters and its envelopes are still recorded, a batch without readings
records its envelopes alone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.ingest.batch import BatchWriter, Work
from ville_autonome.ingest.classify import Classified, Incoming
from ville_autonome.ingest.validation import STORE_REJECTED, Verdict
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.series.values import SequenceGap, SequenceNote
from ville_autonome.storage.base import Encoded, StoreRejectedError, WriteResult
from ville_autonome.storage.sqlite_store import SqliteStore

T0 = 1_763_762_400_000
CTX = DeviceContext("saint-leu", "ecole", "sl-meter-1", "consumption", "")
CONFIG = PlatformConfig.model_validate({"city": {"id": "t"}})


class RefusingStore(SqliteStore):
    """Refuses every write of readings for good (as a database refusing what the points are)."""

    def write(
        self, points: Sequence[StoredReading], *, sequences: Sequence[SequenceNote] = (), encoded: Encoded | None = None
    ) -> WriteResult:
        if points:
            raise StoreRejectedError("refused for what the points are")
        return super().write(points, sequences=sequences, encoded=encoded)


def _work(seqs: list[int], per_envelope: int) -> Work:
    work = Work()
    for seq in seqs:
        points = [StoredReading(CTX, "active_power_w", T0 + seq * 1000 + i, float(i)) for i in range(per_envelope)]
        verdict = Verdict("gw-a", seq, points=points, indexes=list(range(per_envelope)))
        work.add(Incoming(seq, 1, "t/v1/uplink/gw-a", b"", T0), Classified("uplink", "gw-a", verdict=verdict))
    return work


def test_the_envelopes_are_recorded_with_their_readings(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    try:
        writer = BatchWriter(CONFIG, store, chunk=4, worker="w1")  # 3 chunks: the last carries the numbers
        work = _work([1, 2, 4], per_envelope=3)
        writer.prepare(work)
        writer.write(work, T0)
        assert (work.written_count, work.refused) == (9, [])
        assert store.gaps("gw-a") == [SequenceGap("gw-a", 3, 3)]
        assert len(store.series("sl-meter-1", "active_power_w", T0, T0 + 10_000, limit=20)) == 9
    finally:
        store.close()


def test_readings_refused_for_good_are_dead_letters_and_their_envelopes_still_recorded(tmp_path: Path) -> None:
    store = RefusingStore(tmp_path / "s.sqlite")
    try:
        work = _work([1, 3], per_envelope=2)
        BatchWriter(CONFIG, store, chunk=100, worker="w1").write(work, T0)
        assert [(m, i, reason) for m, i, _, reason, _ in work.refused] == [
            (0, 0, STORE_REJECTED),
            (0, 1, STORE_REJECTED),
            (1, 0, STORE_REJECTED),
            (1, 1, STORE_REJECTED),
        ]
        assert work.written_count == 0
        assert store.gaps("gw-a") == [SequenceGap("gw-a", 2, 2)]
    finally:
        store.close()


def test_envelopes_without_readings_are_recorded_alone(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    try:
        work = _work([5, 7], per_envelope=0)
        BatchWriter(CONFIG, store, chunk=100, worker="w1").write(work, T0)
        assert store.gaps("gw-a") == [SequenceGap("gw-a", 6, 6)]
    finally:
        store.close()
