"""A local webhook receiver that logs what it receives: ``make demo`` points the evaluator's webhook
at it, so that a newcomer sees a notification leave by HTTP, signed, and arrive. It checks each
message's signature (``alerts.messages.verify``) and answers 401 to a wrong one, as a real
receiver should; it is not meant for production (a real receiver also refuses old timestamps and
dedupes by ``X-VA-Delivery``)."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ville_autonome.alerts import messages
from ville_autonome.configuration.errors import PortInUseError

log = logging.getLogger("ville_autonome.alerts.webhook")
MAX_BODY = 1_000_000


class WebhookLogger:
    def __init__(self, host: str, port: int, secret: bytes) -> None:
        self.secret = secret
        self.host = host
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    self._answer(413)
                    return
                body = self.rfile.read(length)
                ok = messages.verify(
                    outer.secret, self.headers.get("X-VA-Timestamp", ""), body, self.headers.get("X-VA-Signature", "")
                )
                if not ok:
                    log.warning("webhook: a message with a wrong signature was refused")
                    self._answer(401)
                    return
                try:
                    message = json.loads(body)
                    log.warning("webhook received (signature ok): %s", messages.subject_line(message))
                except (ValueError, KeyError, TypeError):
                    log.warning("webhook: a signed body that is not a notification")
                self._answer(204)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise PortInUseError(
                f"the demo's webhook receiver cannot listen on {host}:{port}: {exc.strerror}"
            ) from None
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="demo-webhook", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}/alarms"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(10)
        self.server.server_close()
