"""A real SMTP server process for the tests (aiosmtpd): STARTTLS required before AUTH, one user,
each message received saved as ``NNNN.eml`` in a folder (written whole, then renamed).

    python tests/alerts/smtp_server.py --port P --dir D --cert C --key K --user U --password-env VAR
    python tests/alerts/smtp_server.py --port P --dir D --no-tls        (a server without STARTTLS)

Runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import ssl
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
            n = self.count
        tmp = self.folder / f".{n:04d}.tmp"
        tmp.write_bytes(envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode())
        os.replace(tmp, self.folder / f"{n:04d}.eml")
        return "250 OK"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user", default="va-alerts")
    p.add_argument("--password-env", default="SMTP_TEST_PASSWORD")
    p.add_argument("--no-tls", action="store_true")
    args = p.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    password = os.environ.get(args.password_env, "")

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == args.user.encode() and data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    params: dict[str, Any] = {}
    if not args.no_tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        params = {"tls_context": ctx, "require_starttls": True, "authenticator": authenticate, "auth_require_tls": True}
    controller = Controller(Saver(folder), hostname="127.0.0.1", port=args.port, **params)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
