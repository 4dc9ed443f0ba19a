"""Real receivers of notifications for the tests: an HTTP server (the webhook's far end) and an
SMTP server process (``tests/alerts/smtp_server.py``, aiosmtpd), with a test PKI for STARTTLS."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.ports import free_port, port_open
from tests.support.processes import stop_child
from tests.support.waiting import wait_for

SMTP_SERVER = Path(__file__).with_name("smtp_server.py")


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A real HTTP server on a free loopback port. Each POST is recorded; it is answered with the
    next status of ``plan`` (then 200). ``hold`` makes it wait (until released) before answering."""

    plan: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if outer.hold is not None:
                    outer.hold.wait(30)
                status = outer.plan.pop(0) if outer.plan else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alarms"

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def make_pki(d: Path) -> Pki:
    """A CA and a certificate for 127.0.0.1 signed by it (openssl)."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=smtp", "-keyout", "smtp.key", "-out", "smtp.csr")
    (d / "smtp.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "smtp.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-out", "smtp.crt", "-extfile", "smtp.ext")  # fmt: skip
    return Pki(d / "ca.crt", d / "smtp.crt", d / "smtp.key")


class SmtpServer:
    """``tests/alerts/smtp_server.py`` as a child process on a free port; ``messages()`` reads what it received."""

    def __init__(self, workdir: Path, pki: Pki | None, *, user: str = "va-alerts", password: str = "") -> None:
        self.port = free_port()
        self.dir = workdir / "mail"
        self.log_path = workdir / "smtp.log"
        argv = [sys.executable, str(SMTP_SERVER), "--port", str(self.port), "--dir", str(self.dir), "--user", user]
        argv += ["--cert", str(pki.cert), "--key", str(pki.key)] if pki else ["--no-tls"]
        env = {"SMTP_TEST_PASSWORD": password, "PATH": "/usr/bin:/bin"}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_for(lambda: self._alive() and port_open("127.0.0.1", self.port), timeout=30, what="SMTP server up")

    def _alive(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the SMTP server exited: {self.log_path.read_text(errors='replace')}")
        return True

    def messages(self) -> list[EmailMessage]:
        if not self.dir.is_dir():
            return []
        found = [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(self.dir.glob("*.eml"))
        ]
        return [m for m in found if isinstance(m, EmailMessage)]

    def stop(self) -> None:
        stop_child(self.proc, timeout=15)
