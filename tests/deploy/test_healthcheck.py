"""deploy/healthcheck.py (the image's ``va-healthcheck``) on real sockets and a real HTTP server."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.deploy.compose import load_healthcheck
from tests.support.services import Mosquitto

hc = load_healthcheck()

TABLE = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:3ABC 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:075B 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:C351 0100007F:1F90 06 00000000:00000000 03:00000000 00000000     0        0 0 3 0000000000000000
"""


def test_proc_net_tcp_rows_are_decoded() -> None:
    rows = hc.parse_proc_net_tcp(TABLE)
    assert rows == [(15036, 0, "0A"), (50000, 1883, "01"), (50001, 8080, "06")]
    assert hc.missing_listeners([15036, 15040], rows) == [15040]
    assert hc.missing_connections([1883, 8080], rows) == [8080]  # TIME_WAIT is not connected


def test_connected_follows_a_real_broker_connection(mosquitto: Mosquitto) -> None:
    with socket.create_connection((mosquitto.host, mosquitto.port), timeout=5):
        assert hc.main(["connected", str(mosquitto.port)]) == 0
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    unused = listener.getsockname()[1]
    listener.close()
    assert hc.main(["connected", str(unused)]) == 1


def test_listening_sees_a_real_listener() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        assert hc.main(["listening", str(port)]) == 1
        s.listen()
        assert hc.main(["listening", str(port)]) == 0


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/v1/health" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, name="health-http")
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_http_wants_a_2xx(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert hc.main(["http", f"{server}/api/v1/health"]) == 0
    assert hc.main(["http", f"{server}/other"]) == 1
    assert "503" in capsys.readouterr().err
