"""InfluxDB-specific behaviour: partial writes isolated, start-up errors, raw retention, and the 2.x /
3.x configuration path checked against a real HTTP server that records what the client sends."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from tests.support.ports import free_port
from tests.support.services import Influxd
from ville_autonome.configuration.errors import ServiceUnreachableError
from ville_autonome.configuration.services import StoreSettings
from ville_autonome.readings.model import DeviceContext, StoredReading
from ville_autonome.storage.factory import StoreStartupError, open_store
from ville_autonome.storage.influx_store import InfluxStore

CTX = DeviceContext("gare-la-vallee", "quai", "glv-pv-1", "production", "pv")
NOW = 1_763_762_400_000
OLD = 1_000_000_000_000  # 2001: another shard group


def _write_raw(influxd: Influxd, db: str, body: str) -> None:
    url = f"{influxd.url}/write?db={db}&precision=ms"
    req = urllib.request.Request(url, data=body.encode(), method="POST")  # noqa: S310 (loopback)
    with urllib.request.urlopen(req, timeout=10):  # noqa: S310 (loopback)
        pass


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
        result = store.write(points)
        assert result.written == 20
        assert list(result.rejected) == [7]
        assert "conflict" in result.rejected[7]
        got = influxd.query(f"SELECT count(value) FROM readings WHERE time >= {NOW}ms", unique_name)  # noqa: S608
        assert got["results"][0]["series"][0]["values"][0][1] == 20
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


# ----------------------------------------------------------------- 2.x / 3.x against a recording server


@dataclass
class Recorded:
    version_header: str | None = "v2.7.4"
    ping_body: bytes = b""
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(rec: Recorded) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _record(self, body: bytes) -> dict[str, Any]:
            parts = urllib.parse.urlsplit(self.path)
            entry = {
                "method": self.command,
                "path": parts.path,
                "params": dict(urllib.parse.parse_qsl(parts.query)),
                "auth": self.headers.get("Authorization"),
                "body": body.decode(),
            }
            with rec.lock:
                rec.requests.append(entry)
            return entry

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            entry = self._record(b"")
            if entry["path"] == "/ping":
                headers = {"X-Influxdb-Version": rec.version_header} if rec.version_header else {}
                self._reply(200 if rec.ping_body else 204, rec.ping_body, headers)
            elif entry["path"] == "/query":
                self._reply(200, json.dumps({"results": [{"statement_id": 0}]}).encode())
            else:
                self._reply(404)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            entry = self._record(body)
            if entry["path"] == "/api/v2/write":
                bad = [i for i, ln in enumerate(entry["body"].splitlines()) if "bad-" in ln]
                if bad:
                    msg = {"code": "unprocessable entity", "message": "failure writing points: field type conflict"}
                    self._reply(422, json.dumps(msg).encode())
                else:
                    self._reply(204)
            else:
                self._reply(404)

    return Handler


@pytest.fixture
def recorder() -> Iterator[tuple[str, Recorded]]:
    rec = Recorded()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    thread = threading.Thread(target=server.serve_forever, name="fake-influx2", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _v2_settings(url: str) -> StoreSettings:
    return StoreSettings(backend="influxdb", url=url, database="city", org="amiens", token=SecretStr("s3cr3t-token"))


def test_v2_writes_to_api_v2_with_org_bucket_and_token(recorder: tuple[str, Recorded]) -> None:
    url, rec = recorder
    store = open_store(_v2_settings(url))
    try:
        assert isinstance(store, InfluxStore)
        assert store.version == "v2.7.4"
        result = store.write([StoredReading(CTX, "active_power_w", NOW, 3.0)])
        assert result.written == 1
        store.latest()
    finally:
        store.close()
    all_writes = [r for r in rec.requests if r["path"] == "/api/v2/write"]
    # the bucket's durable rollup mark goes first, then the reading
    assert all_writes[0]["body"].startswith("rollup_pending,device=glv-pv-1,")
    writes = [r for r in all_writes if r["body"].startswith("readings,")]
    assert writes[0]["method"] == "POST"
    assert writes[0]["params"] == {"org": "amiens", "bucket": "city", "precision": "ms"}
    assert writes[0]["auth"] == "Token s3cr3t-token"
    assert writes[0]["body"].startswith("readings,device=glv-pv-1,district=gare-la-vallee,quantity=active_power_w")
    assert writes[0]["body"].endswith(f'value=3.0,quality="good" {NOW}')
    queries = [r for r in rec.requests if r["path"] == "/query"]
    assert queries
    assert all(q["params"]["db"] == "city" and q["auth"] == "Token s3cr3t-token" for q in queries)
    assert not any("CREATE" in q["params"].get("q", "") for q in queries)  # 2.x buckets are provisioned, not created
    assert not any(r["path"] == "/write" for r in rec.requests)


def test_v2_unprocessable_points_are_isolated(recorder: tuple[str, Recorded]) -> None:
    url, _ = recorder
    store = open_store(_v2_settings(url))
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


def test_v2_without_a_token_is_refused_at_start(recorder: tuple[str, Recorded]) -> None:
    url, _ = recorder
    with pytest.raises(StoreStartupError, match="token"):
        open_store(StoreSettings(backend="influxdb", url=url, database="city"))


def test_3_core_is_detected_from_the_ping_body(recorder: tuple[str, Recorded]) -> None:
    url, rec = recorder
    rec.version_header = None
    rec.ping_body = json.dumps({"version": "3.0.1", "revision": "x"}).encode()
    store = open_store(_v2_settings(url))
    try:
        assert store.ping() == "influxdb 3.0.1"
        store.write([StoredReading(CTX, "active_power_w", NOW, 3.0)])
    finally:
        store.close()
    assert any(r["path"] == "/api/v2/write" for r in rec.requests)


def _rollup_count(influxd: Influxd, db: str) -> float:
    res = influxd.query('SELECT sum("count") FROM rollup_15m', db)["results"][0]
    return float(res["series"][0]["values"][0][1]) if res.get("series") else 0.0


def test_a_writer_killed_before_its_rollup_refresh_leaves_the_work_to_the_next_start(
    influxd: Influxd, unique_name: str
) -> None:
    settings = StoreSettings(backend="influxdb", url=influxd.url, database=unique_name, rollup_refresh_s=3600)
    crashed = open_store(settings)
    assert isinstance(crashed, InfluxStore)
    history = [StoredReading(CTX, "energy_produced_wh", NOW - 86_400_000 + i * 60_000, float(i)) for i in range(90)]
    assert crashed.write(history).written == 90
    crashed.http.close()  # "kill -9": no close(), so no refresh at exit
    assert _rollup_count(influxd, unique_name) == 0.0

    restarted = open_store(settings)
    try:
        assert restarted.refresh_rollups() == 6  # the six 15-min buckets the dead writer left
        assert _rollup_count(influxd, unique_name) == 90.0
    finally:
        restarted.close()
    again = open_store(settings)  # marks just before the checkpoint are redone, never counted twice
    try:
        again.refresh_rollups()
        assert _rollup_count(influxd, unique_name) == 90.0
    finally:
        again.close()
