"""InfluxDB-specific behaviour on a real influxd 1.6: partial writes isolated, start-up errors, raw
retention, errors by kind, reads that tolerate any row, the bounded latest read, and the dirty
marks the rollup compiler consumes (2.x/3.x request shapes: test_influx_request_shapes.py)."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.support.ports import free_port
from tests.support.services import AuthInfluxd, Influxd
from ville_autonome.configuration.errors import ServiceUnreachableError
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.influx_wire.marks import MARK_PERIOD_MS, MarkWriter
from ville_autonome.readings.model import DeviceContext, Quality, StoredReading
from ville_autonome.series.values import SequenceNote
from ville_autonome.storage.base import StoreAuthError, StoreRejectedError, StoreTransientError
from ville_autonome.storage.factory import StoreStartupError, open_store
from ville_autonome.storage.influx_store import InfluxStore

CTX = DeviceContext("gare-la-vallee", "quai", "glv-pv-1", "production", "pv")
NOW = 1_763_762_400_000  # 15-min aligned
OLD = 1_000_000_000_000  # 2001: another shard group


def _write_raw(influxd: Influxd, db: str, body: str) -> None:
    url = f"{influxd.url}/write?db={db}&precision=ms"
    req = urllib.request.Request(url, data=body.encode(), method="POST")  # noqa: S310 (loopback)
    with urllib.request.urlopen(req, timeout=10):  # noqa: S310 (loopback)
        pass


@pytest.fixture
def influx(influxd: Influxd, unique_name: str) -> Iterator[InfluxStore]:
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    assert isinstance(store, InfluxStore)
    yield store
    store.close()


def test_creates_the_database_and_reports_the_version(influxd: Influxd, unique_name: str) -> None:
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    try:
        assert store.ping().startswith("influxdb 1.")
        names = [v[0] for v in influxd.query("SHOW DATABASES")["results"][0]["series"][0]["values"]]
        assert unique_name in names
    finally:
        store.close()


def test_type_conflict_is_isolated_and_the_good_points_are_written(influxd: Influxd, unique_name: str) -> None:
    store = open_store(StoreSettings(backend="influxdb", url=influxd.url, database=unique_name))
    try:
        # a string `value` in the 2001 shard makes any float `value` there a type conflict
        _write_raw(influxd, unique_name, f'readings,device=other,quantity=x value="text" {OLD}')
        points = [StoredReading(CTX, "active_power_w", NOW + i, float(i)) for i in range(20)]
        points.insert(7, StoredReading(CTX, "active_power_w", OLD + 1, 1.0))
        result = store.write(points, sequences=[SequenceNote("gw-a", (1, 2, 5), "w1", NOW)])
        assert result.written == 20
        assert list(result.rejected) == [7]
        assert "conflict" in result.rejected[7]
        got = influxd.query(f"SELECT count(value) FROM readings WHERE time >= {NOW}ms", unique_name)  # noqa: S608
        assert got["results"][0]["series"][0]["values"][0][1] == 20
        # the mark and the sequence record of the same request are written too
        assert influxd.query("SELECT count(dirty) FROM rollup_marks", unique_name)["results"][0]["series"]
        assert [(g.first_seq, g.last_seq) for g in store.gaps("gw-a")] == [(3, 4)]
    finally:
        store.close()


def test_raw_retention_policy_is_created_and_used(influxd: Influxd, unique_name: str) -> None:
    settings = StoreSettings(backend="influxdb", url=influxd.url, database=unique_name, raw_retention_days=30)
    store = open_store(settings)
    now = int(time.time() * 1000)
    try:
        result = store.write(
            [StoredReading(CTX, "active_power_w", now, 1.0), StoredReading(CTX, "active_power_w", OLD, 2.0)]
        )
        assert result.written == 1
        assert "retention" in result.rejected[1]  # older than the raw retention: refused, said so
        rps = influxd.query("SHOW RETENTION POLICIES", unique_name)["results"][0]["series"][0]["values"]
        assert any(rp[0] == "va_raw" and rp[1] == "720h0m0s" for rp in rps)
        raw = influxd.query('SELECT value FROM "va_raw"."readings"', unique_name)
        assert raw["results"][0]["series"][0]["values"] == [[now, 1.0]]
        assert store.series("glv-pv-1", "active_power_w", now, now + 1, limit=5)[0].value == 1.0
        store.refresh_rollups()
        [stat] = store.intervals("glv-pv-1", "active_power_w", now - now % 900_000, now - now % 900_000 + 900_000, 900)
        assert stat.count == 1  # rollups live in the default (infinite) policy
    finally:
        store.close()
    again = open_store(settings.model_copy(update={"raw_retention_days": 60}))  # an existing policy is aligned
    again.close()


def test_unreachable_influxdb_is_one_startup_error() -> None:
    port = free_port()
    with pytest.raises(StoreStartupError, match=f"127.0.0.1:{port}") as info:
        open_store(StoreSettings(backend="influxdb", url=f"http://127.0.0.1:{port}", timeout_s=2))
    assert isinstance(info.value, ServiceUnreachableError)


def test_a_writer_killed_right_after_its_write_leaves_marks_that_the_compiler_finds(
    influxd: Influxd, unique_name: str
) -> None:
    settings = StoreSettings(backend="influxdb", url=influxd.url, database=unique_name)
    writer = open_store(settings)
    assert isinstance(writer, InfluxStore)
    history = [StoredReading(CTX, "energy_produced_wh", NOW - 86_400_000 + i * 60_000, float(i)) for i in range(90)]
    assert writer.write(history).written == 90
    writer.http.close()  # "kill -9": the write returned, nothing else happens in that process
    compiler = open_store(settings)  # the compiler is another process, with a store of its own
    try:
        assert compiler.refresh_rollups() == 6  # the six 15-min buckets of the write
        stats = compiler.intervals("glv-pv-1", "energy_produced_wh", NOW - 86_400_000, NOW, 900)
        assert [s.count for s in stats] == [15] * 6
    finally:
        compiler.close()


def test_a_row_not_yet_whole_is_skipped_by_every_read(influx: InfluxStore, influxd: Influxd) -> None:
    """InfluxDB 1.x can answer a point just written with its ``value`` and no ``quality`` yet
    (issue 18: one row in 1,515 under no load). Such rows are written here as they are seen;
    reads skip them (the row before stands in for the latest), never raise."""
    influx.write([StoredReading(CTX, "active_power_w", NOW + i * 1000, float(i)) for i in range(3)])
    db = influx.database
    _write_raw(
        influxd,
        db,
        f"readings,device=glv-pv-1,district=gare-la-vallee,quantity=active_power_w,role=production,site=quai,source=pv value=9.0 {NOW + 5000}",
    )
    _write_raw(
        influxd,
        db,
        f'readings,device=glv-pv-1,district=gare-la-vallee,quantity=soc_pct,role=production,site=quai,source=pv quality="unheard-of" {NOW}',
    )
    _write_raw(influxd, db, f"rollup_15m,device=glv-pv-1,quantity=active_power_w count=3.0 {NOW - 900_000}")
    [latest] = influx.latest()
    assert (latest.ts_ms, latest.value, latest.quality) == (NOW + 2000, 2.0, Quality.GOOD)
    assert [p.ts_ms for p in influx.series("glv-pv-1", "active_power_w", NOW, NOW + 10_000, limit=10)] == [
        NOW,
        NOW + 1000,
        NOW + 2000,
    ]
    influx.refresh_rollups()
    for interval_s in (900, 3600):
        stats = influx.intervals("glv-pv-1", "active_power_w", NOW - 900_000, NOW + 900_000, interval_s)
        assert sum(s.count for s in stats) == 3  # the half-written rollup of the bucket before is left out
        cols = influx.interval_columns(
            "glv-pv-1", "active_power_w", NOW - 900_000, NOW + 900_000, interval_s, fields=("count", "last")
        )
        assert cols["count"].tolist() == [s.count for s in stats]
    assert influx.latest(since_ms=NOW + 4000) == []


def test_latest_reads_the_last_day_and_only_the_older_series_beyond(influx: InfluxStore) -> None:
    now = int(time.time() * 1000)
    old = DeviceContext("citadelle", "campus", "silent-meter", "grid", "")
    influx.write(
        [StoredReading(CTX, "active_power_w", now - 1000, 5.0), StoredReading(old, "active_power_w", NOW, 7.0)]
    )
    asked: list[str] = []
    query = influx.query

    def recording(q: str, *, epoch: str = "ms") -> list[dict[str, object]]:
        asked.append(q)
        return query(q, epoch=epoch)

    influx.query = recording  # type: ignore[method-assign]
    for _ in range(3):  # the first reads the whole history once; the others a day, then the silent series alone
        assert [(v.context.device, v.value) for v in influx.latest()] == [("glv-pv-1", 5.0), ("silent-meter", 7.0)]
    assert sum("WHERE" not in q for q in asked) == 1
    assert sum("silent-meter" in q for q in asked) == 2
    assert all("time >=" in q for q in asked if "WHERE" in q and "silent-meter" not in q)


def test_a_query_the_server_refuses_is_rejected_not_transient(influx: InfluxStore) -> None:
    with pytest.raises(StoreRejectedError, match="error parsing query"):
        influx.query("SELECT FROM WHERE")
    with pytest.raises(StoreRejectedError, match="database not found"):
        influx.http.query("SELECT * FROM readings", "no_such_database")


def test_a_store_gone_is_transient(influxd_factory: Callable[[], Influxd], unique_name: str) -> None:
    private = influxd_factory()
    store = open_store(StoreSettings(backend="influxdb", url=private.url, database=unique_name, timeout_s=2))
    try:
        private.kill()
        with pytest.raises(StoreTransientError, match="unreachable"):
            store.write([StoredReading(CTX, "active_power_w", NOW, 1.0)])
        with pytest.raises(StoreTransientError):
            store.latest()
    finally:
        store.close()


@pytest.fixture
def auth_influxd(tmp_path: object) -> Iterator[AuthInfluxd]:
    from pathlib import Path

    db = AuthInfluxd(Path(str(tmp_path)) / "auth-influxd")
    db.start()
    yield db
    db.kill()


def test_credentials_revoked_while_running_come_as_auth_errors(auth_influxd: AuthInfluxd) -> None:
    auth_influxd.query("CREATE USER admin WITH PASSWORD 'first' WITH ALL PRIVILEGES")  # the first user needs none
    settings = StoreSettings(
        backend="influxdb", url=auth_influxd.url, database="city", username="admin", password="first"
    )  # type: ignore[arg-type]
    store = open_store(settings)
    try:
        assert store.write([StoredReading(CTX, "active_power_w", NOW, 1.0)]).written == 1
        store.http.query("SET PASSWORD FOR admin = 'second'", "", write=True)  # the operator rotates it
        with pytest.raises(StoreAuthError, match="401") as info:
            store.write([StoredReading(CTX, "active_power_w", NOW + 1, 1.0)])
        assert "first" not in str(info.value)
        with pytest.raises(StoreAuthError):
            store.latest()
    finally:
        store.close()
    with pytest.raises(StoreStartupError):
        open_store(settings)


def test_a_user_with_privileges_on_the_database_only_is_enough(auth_influxd: AuthInfluxd) -> None:
    """As docker-compose.yml deploys it: the operator's admin creates the database and the
    platform's user (no admin rights: it cannot CREATE DATABASE, and need not)."""
    auth_influxd.query("CREATE USER admin WITH PASSWORD 'root' WITH ALL PRIVILEGES")
    admin = open_store(
        StoreSettings(backend="influxdb", url=auth_influxd.url, database="city", username="admin", password="root")
    )  # type: ignore[arg-type]
    admin.http.query("CREATE USER platform WITH PASSWORD 'p'", "", write=True)
    admin.http.query('GRANT ALL ON "city" TO platform', "", write=True)
    admin.close()
    store = open_store(
        StoreSettings(backend="influxdb", url=auth_influxd.url, database="city", username="platform", password="p")
    )  # type: ignore[arg-type]
    try:
        assert store.write([StoredReading(CTX, "active_power_w", NOW, 1.0)]).written == 1
        assert store.refresh_rollups() == 1
        assert [v.value for v in store.latest()] == [1.0]
    finally:
        store.close()
    town = StoreSettings(backend="influxdb", url=auth_influxd.url, database="town", username="platform", password="p")  # type: ignore[arg-type]
    with pytest.raises(StoreStartupError, match="town"):  # no such database, no right to create it: one clear line
        open_store(town)


def test_a_bucket_written_again_in_its_marking_period_leaves_a_short_note_the_compiler_follows(
    influx: InfluxStore,
) -> None:
    """A writer marks a bucket in full (with its series' tags) once per marking period; a later
    write of it in the same period leaves only a note of its bucket (``again``), which the
    compiler resolves from the period's first mark. Each mark is compiled once; a compiler that
    restarts starts from its durable cursor."""
    clock = {"writer_ns": (NOW + 86_400_000) * 1_000_000, "compiler_ms": NOW + 86_400_000}
    influx._marks = MarkWriter(clock_ns=lambda: clock["writer_ns"])
    influx._compiler.clock_ms = lambda: clock["compiler_ms"]
    influx.write([StoredReading(CTX, "active_power_w", NOW, 1.0)])
    assert influx.refresh_rollups() == 1
    assert influx.refresh_rollups() == 0  # compiled once
    clock["writer_ns"] += 2_000_000_000  # 2 s later: the same marking period
    influx.write([StoredReading(CTX, "active_power_w", NOW + 1000, 2.0)])
    [first, note] = influx.query("SELECT dirty, again FROM rollup_marks")[0]["values"]
    assert first[1].startswith('[["gare-la-vallee","quai","glv-pv-1"')
    assert first[2] == ""
    assert (note[1], note[2]) == ("[]", str(NOW // 900_000))  # the bucket, nothing else
    assert influx.refresh_rollups() == 1
    [stat] = influx.intervals("glv-pv-1", "active_power_w", NOW, NOW + 900_000, 900)
    assert (stat.count, stat.last) == (2, 2.0)
    clock["writer_ns"] += MARK_PERIOD_MS * 1_000_000  # a new period: marked in full again
    influx.write([StoredReading(CTX, "active_power_w", NOW + 2000, 3.0)])
    assert influx.query("SELECT dirty, again FROM rollup_marks")[0]["values"][-1][1].startswith('[["gare')
    clock["compiler_ms"] += influx._compiler.settle_ms + 2 * MARK_PERIOD_MS  # beyond the settling window
    assert influx.refresh_rollups() == 1
    assert influx.refresh_rollups() == 0  # and moves the durable cursor past the marks
    restarted = InfluxStore(influx.http, database=influx.database)
    restarted._compiler.clock_ms = lambda: clock["compiler_ms"]
    assert restarted.refresh_rollups() == 0
    [stat] = restarted.intervals("glv-pv-1", "active_power_w", NOW, NOW + 900_000, 900)
    assert (stat.count, stat.last) == (3, 3.0)


def test_a_compiler_restarted_between_a_mark_and_its_note_finds_the_mark_again(influx: InfluxStore) -> None:
    """The cursor passed the period's full mark, not its later note: a compiler that starts reads
    the marking period before its cursor too, so the note's bucket still has its series."""
    t = (NOW + 86_400_000) // MARK_PERIOD_MS * MARK_PERIOD_MS + 1000  # 1 s into a marking period
    writer_ns = [t * 1_000_000]
    influx._marks = MarkWriter(clock_ns=lambda: writer_ns[0])
    influx._compiler.clock_ms = lambda: t + influx._compiler.settle_ms + 2000
    influx.write([StoredReading(CTX, "active_power_w", NOW, 1.0)])
    assert influx.refresh_rollups() == 1  # the durable cursor is now 2 s past the mark
    writer_ns[0] += 5_000_000_000  # 5 s later, same period: a note
    influx.write([StoredReading(CTX, "active_power_w", NOW + 1000, 2.0)])
    restarted = InfluxStore(influx.http, database=influx.database)
    restarted._compiler.clock_ms = lambda: t + restarted._compiler.settle_ms + 6000
    assert restarted.refresh_rollups() == 1
    [stat] = restarted.intervals("glv-pv-1", "active_power_w", NOW, NOW + 900_000, 900)
    assert (stat.count, stat.last) == (2, 2.0)
