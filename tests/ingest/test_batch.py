"""The batch's durable write: readings the store refuses are traced back to their message and to
their index in its envelope (what their dead letter names), across messages and write chunks."""

from __future__ import annotations

import math
from pathlib import Path

from tests.ingest.conftest import GATEWAY, config_doc
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.ingest.batch import BatchWriter, Work
from ville_autonome.ingest.classify import Classified, Incoming
from ville_autonome.ingest.validation import STORE_REFUSED, Rejection, Verdict
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.factory import open_store

NOW = 1_763_762_400_000
CTX = DeviceContext("d1", "s1", "dev-grid", "grid", "")


def _message(work: Work, seq: int, indexes: list[int], bad: set[int]) -> None:
    """A message whose readings at ``indexes`` passed validation; those in ``bad`` have a value the
    store refuses (not finite: the validator would have refused it, the store must too)."""
    points = [StoredReading(CTX, "active_power_w", NOW + seq * 100 + i, math.nan if i in bad else 1.0) for i in indexes]
    verdict = Verdict(GATEWAY, seq, points=points, indexes=indexes, rejections=[Rejection("bad_reading", "x", 1)])
    work.add(Incoming(seq, 1, f"t/v1/uplink/{GATEWAY}", b"{}", NOW), Classified("uplink", GATEWAY, verdict=verdict))


def test_store_refusals_name_their_message_and_envelope_index(tmp_path: Path) -> None:
    config = PlatformConfig.model_validate(config_doc("mqtt://127.0.0.1:1883", "t", {"backend": "sqlite"}))
    store = open_store(config.services.store.model_copy(update={"path": str(tmp_path / "s.sqlite")}))
    try:
        work = Work()
        _message(work, 1, [0, 2, 3], bad={3})
        work.add(Incoming(2, 1, f"t/v1/uplink/{GATEWAY}", b"x", NOW), Classified("uplink", GATEWAY, verdict=None))
        _message(work, 3, [0, 1, 2, 3, 4], bad={1, 4})
        _message(work, 4, [5, 6], bad={5})  # the first point of a message
        BatchWriter(config, store, chunk=4, worker="w").write(work, NOW)  # chunks cut across messages
        assert sorted((m, i, reason) for m, i, _, reason, _ in work.refused) == [
            (0, 3, STORE_REFUSED),
            (2, 1, STORE_REFUSED),
            (2, 4, STORE_REFUSED),
            (3, 5, STORE_REFUSED),
        ]
        assert all(p.value is not None and math.isnan(p.value) for _, _, p, _, _ in work.refused)
        assert work.written_count == 6  # of 10
    finally:
        store.close()
