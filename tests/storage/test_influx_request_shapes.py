"""Request shapes only: what the InfluxDB client sends to a 2.x / 3 Core server (paths, org,
bucket, token, bodies) and how it reads HTTP status codes, checked against
``FakeInfluxRequestRecorder``. Nothing here says a real 2.x or 3.x server works: that is the
contract suite run by URL (``VA_TEST_INFLUX_URLS``, tests/storage/external.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from tests.storage.fake_influx import FakeInfluxRequestRecorder
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.series.values import SequenceNote
from ville_autonome.storage.base import StoreAuthError, StoreTransientError
from ville_autonome.storage.factory import StoreStartupError, open_store
from ville_autonome.storage.influx_store import InfluxStore

CTX = DeviceContext("gare-la-vallee", "quai", "glv-pv-1", "production", "pv")
NOW = 1_763_762_400_000


@pytest.fixture
def recorder() -> Iterator[FakeInfluxRequestRecorder]:
    with FakeInfluxRequestRecorder.serving() as rec:
        yield rec


def _v2_settings(url: str) -> StoreSettings:
    return StoreSettings(backend="influxdb", url=url, database="city", org="amiens", token=SecretStr("s3cr3t-token"))


def test_v2_writes_to_api_v2_with_org_bucket_and_token(recorder: FakeInfluxRequestRecorder) -> None:
    store = open_store(_v2_settings(recorder.url))
    try:
        assert isinstance(store, InfluxStore)
        assert store.version == "v2.7.4"
        result = store.write(
            [StoredReading(CTX, "active_power_w", NOW, 3.0)], sequences=[SequenceNote("gw-a", (7,), "w1", NOW)]
        )
        assert result.written == 1
        store.latest()
    finally:
        store.close()
    [write] = recorder.writes()  # one request: the raw points, the bucket's dirty mark, the envelope's record
    assert write["method"] == "POST"
    assert write["params"] == {"org": "amiens", "bucket": "city", "precision": "ms"}
    assert write["auth"] == "Token s3cr3t-token"
    reading, mark, record = write["body"].split("\n")
    assert record == f'ingest_sequences,gateway=gw-a,worker=w1 ranges="7" {NOW}'
    assert reading.startswith("readings,device=glv-pv-1,district=gare-la-vallee,quantity=active_power_w")
    assert reading.endswith(f'value=3.0,quality="good" {NOW}')
    assert mark.startswith("rollup_marks,writer=")
    dirty = mark.split(" dirty=", 1)[1].rsplit(',again=""', 1)[0]
    assert json.loads(json.loads(dirty)) == [
        ["gare-la-vallee", "quai", "glv-pv-1", "production", "pv", "active_power_w", str(NOW // 900_000)]
    ]
    queries = recorder.queries()
    assert queries
    assert all(q["params"]["db"] == "city" and q["auth"] == "Token s3cr3t-token" for q in queries)
    assert not any("CREATE" in q["params"].get("q", "") for q in queries)  # 2.x buckets are provisioned, not created
    assert not any(r["path"] == "/write" for r in recorder.requests)


def test_v2_unprocessable_points_are_isolated(recorder: FakeInfluxRequestRecorder) -> None:
    store = open_store(_v2_settings(recorder.url))
    try:
        bad = DeviceContext("d", "s", "bad-1", "production", "pv")
        points = [StoredReading(CTX, "active_power_w", NOW + i, 1.0) for i in range(6)]
        points.insert(2, StoredReading(bad, "active_power_w", NOW, 1.0))
        result = store.write(points)
        assert (result.written, list(result.rejected)) == (6, [2])
        assert "422" in result.rejected[2]
        assert "type conflict" in result.rejected[2]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, StoreAuthError), (403, StoreAuthError), (503, StoreTransientError), (429, StoreTransientError)],
)
def test_write_failures_come_as_their_kind(
    recorder: FakeInfluxRequestRecorder, status: int, kind: type[Exception]
) -> None:
    store = open_store(_v2_settings(recorder.url))
    try:
        recorder.write_status = status
        with pytest.raises(kind, match=str(status)) as info:
            store.write([StoredReading(CTX, "active_power_w", NOW, 3.0)])
        assert "s3cr3t-token" not in str(info.value)
    finally:
        store.close()


def test_v2_without_a_token_is_refused_at_start(recorder: FakeInfluxRequestRecorder) -> None:
    with pytest.raises(StoreStartupError, match="token"):
        open_store(StoreSettings(backend="influxdb", url=recorder.url, database="city"))


def test_3_core_is_detected_from_the_ping_body(recorder: FakeInfluxRequestRecorder) -> None:
    recorder.version_header = None
    recorder.ping_body = json.dumps({"version": "3.0.1", "revision": "x"}).encode()
    store = open_store(_v2_settings(recorder.url))
    try:
        assert store.ping() == "influxdb 3.0.1"
        store.write([StoredReading(CTX, "active_power_w", NOW, 3.0)])
    finally:
        store.close()
    assert any(r["path"] == "/api/v2/write" for r in recorder.requests)
