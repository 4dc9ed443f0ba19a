"""The sequence records a write carries (``Store.write(points, sequences=…)``), on every backend:
recorded as ``record_sequences`` records them, with or without readings (the request's shape on
InfluxDB: tests/storage/test_influx_request_shapes.py)."""

from __future__ import annotations

from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.series.values import SequenceGap, SequenceNote
from ville_autonome.storage.base import Store

T0 = 1_763_762_400_000
CTX = DeviceContext("saint-leu", "ecole", "sl-meter-1", "consumption", "")


def test_the_envelopes_are_recorded_with_their_readings(store: Store) -> None:
    points = [StoredReading(CTX, "active_power_w", T0 + i * 1000, float(i)) for i in range(5)]
    notes = [SequenceNote("gw-a", (1, 2, 6), "w1", T0), SequenceNote("gw-b", (4,), "w1", T0)]
    result = store.write(points, sequences=notes)
    assert (result.written, result.rejected) == (5, {})
    assert store.gaps() == [SequenceGap("gw-a", 3, 5)]
    assert [p.value for p in store.series("sl-meter-1", "active_power_w", T0, T0 + 5000, limit=10)] == [
        0.0,
        1.0,
        2.0,
        3.0,
        4.0,
    ]


def test_envelopes_without_readings_are_recorded_alone(store: Store) -> None:
    """Envelopes whose every reading was dead-lettered are settled too: their numbers are stored."""
    store.write([], sequences=[SequenceNote("gw-a", (1, 4), "w1", T0)])
    store.write([], sequences=[SequenceNote("gw-a", (2,), "w2", T0 + 1)])
    assert store.gaps("gw-a") == [SequenceGap("gw-a", 3, 3)]


def test_records_of_the_same_worker_and_millisecond_are_both_kept(store: Store) -> None:
    store.write([], sequences=[SequenceNote("gw-a", (1,), "w1", T0)])
    store.write([StoredReading(CTX, "active_power_w", T0, 1.0)], sequences=[SequenceNote("gw-a", (3,), "w1", T0)])
    store.record_sequences("gw-a", [2], worker="w1", received_ms=T0)
    assert store.gaps("gw-a") == []
