"""What anonymous clients and a stopping server must not be able to do to the API: grow /metrics
without bound, get a 500 from a far-away period, read an internal address, frame or sniff the
pages; and a SIGTERM ends open event streams at once (real uvicorn, real processes)."""

from __future__ import annotations

import hashlib
import http.client
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.dashboard_api.serving import serve_in_thread
from tests.support.ports import free_port
from tests.support.processes import CLI
from tests.support.services import Influxd
from tests.support.waiting import wait_for
from ville_autonome.configuration.loader import load_config_text
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.storage.factory import open_store

KEY = "hardening-test-key"


def _doc(store: dict[str, object], port: int = 0) -> dict[str, object]:
    return {
        "city": {"id": "hardville"},
        "services": {
            "store": store,
            "api": {
                "port": port,
                "keys": [{"name": "k", "role": "admin", "sha256": hashlib.sha256(KEY.encode()).hexdigest()}],
            },
        },
        "gateways": [{"id": "gw-h"}],
        "districts": [
            {
                "id": "d1",
                "sites": [
                    {
                        "id": "s1",
                        "gateway": "gw-h",
                        "devices": [{"id": "m1", "role": "grid", "protocol": "mqtt", "topic": "x/m1"}],
                    }
                ],
            }
        ],
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    config = load_config_text(
        yaml.safe_dump(_doc({"backend": "sqlite", "path": str(tmp_path / "s.sqlite")})), environ={}
    )
    store = open_store(config.services.store)
    try:
        with serve_in_thread(create_app(config, store)) as base:
            yield base
    finally:
        store.close()


AUTH = {"Authorization": f"Bearer {KEY}"}


def test_junk_methods_and_paths_do_not_grow_metrics(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        for i in range(300):
            http.request(f"JUNK{i}", "/api/v1/live")
            http.get(f"/nowhere/{i}")
        text = http.get("/metrics", headers=AUTH).text
    requests = [line for line in text.splitlines() if line.startswith("va_api_requests_total")]
    assert 'method="OTHER"' in text
    assert "JUNK" not in text
    assert "/nowhere" not in text
    assert len(requests) <= 6, requests  # OTHER and GET, on a route or "(unmatched)", with their statuses


@pytest.mark.parametrize("period", ["9999-12-31", "9999", "9999-Q4", "1900-01", "0001-01-01"])
def test_an_out_of_range_period_is_a_400_naming_it(served: str, period: str) -> None:
    r = httpx.get(f"{served}/api/v1/reports", params={"scope": "city", "period": period}, headers=AUTH, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["parameter"] == "period"


def test_pages_carry_security_headers_and_json_is_not_sniffed(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        page = http.get("/")
        docs = http.get("/api/v1/docs")
        health = http.get("/api/v1/health")
    for r in (page, docs):
        assert r.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "object-src 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]  # no inline script, no CDN
    for r in (page, docs, health):
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" not in health.headers


def test_no_internal_address_in_public_or_503_answers(influxd_factory: type[Influxd], unique_name: str) -> None:
    db = influxd_factory()  # type: ignore[call-arg]
    doc = _doc({"backend": "influxdb", "url": db.url, "database": unique_name})
    config = load_config_text(yaml.safe_dump(doc), environ={})
    store = open_store(config.services.store)
    try:
        with serve_in_thread(create_app(config, store)) as base:
            db.stop()
            health = httpx.get(f"{base}/api/v1/health", timeout=30)
            live = httpx.get(f"{base}/api/v1/live", headers=AUTH, timeout=30)
    finally:
        store.close()
    assert (health.status_code, live.status_code) == (503, 503)
    for r in (health, live):
        assert str(db.port) not in r.text
        assert "127.0.0.1" not in r.text
        assert "http" not in r.text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_open_event_streams_and_the_process(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()
    cfg = tmp_path / "api.yaml"
    cfg.write_text(yaml.safe_dump(_doc({"backend": "sqlite", "path": str(tmp_path / "s.sqlite")}, port)))
    log = (tmp_path / "api.log").open("wb")
    proc = subprocess.Popen([CLI, "api", "-c", str(cfg)], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    log.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:

        def listening() -> bool:
            with httpx.Client(timeout=5) as c:
                return c.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200

        wait_for(listening, timeout=90, what="the API", retry_on=(httpx.TransportError,))
        conn.request("GET", f"/api/v1/stream?api_key={KEY}&poll_s=0.2")
        stream = conn.getresponse()
        assert stream.status == 200
        assert stream.readline() == b": ville-autonome stream\n"
        proc.send_signal(sig)
        rest = stream.read()  # returns once the server has ended the stream (the socket's timeout bounds it)
        assert b"event: end" in rest
        proc.wait(timeout=30)
    finally:
        conn.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        print((tmp_path / "api.log").read_text(errors="replace"))
    assert proc.returncode in (0, -sig, 128 + sig, 130)
