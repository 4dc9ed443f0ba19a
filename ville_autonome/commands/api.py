"""``ville-autonome api --config FILE``: serve the API (and the dashboard) with uvicorn on
``services.api.host``/``port``. A taken port or an unreachable store is one clear line, exit 2.

SIGTERM or Ctrl-C ends every open event stream at once (``/api/v1/stream`` says ``end``) and the
process exits within ``GRACEFUL_S`` seconds, whatever the clients do."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import socket
import threading
from types import FrameType
from typing import Any

from ville_autonome.commands import config_file
from ville_autonome.commands.arguments import add_config_argument
from ville_autonome.configuration.errors import ConfigError, PortInUseError
from ville_autonome.extras import missing

log = logging.getLogger(__name__)

GRACEFUL_S = 3  # requests still running this long after the signal are cancelled


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("api", help="serve the HTTP API and the dashboard")
    add_config_argument(parser)
    parser.set_defaults(handler=run)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or :class:`PortInUseError`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(f"API port {host}:{port} is already in use (services.api.port)") from None
        raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def warm_extras() -> None:
    for exc in missing():
        log.warning("%s", exc)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    class ApiServer(uvicorn.Server):
        """uvicorn, which on SIGTERM/SIGINT also tells the app's event streams to end."""

        def __init__(self, config: uvicorn.Config, stopping: asyncio.Event) -> None:
            super().__init__(config)
            self.stopping = stopping

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            with contextlib.suppress(RuntimeError):  # no loop running yet: nothing is streaming
                asyncio.get_running_loop().call_soon_threadsafe(self.stopping.set)

    from ville_autonome.dashboard_api.main import create_app
    from ville_autonome.storage.factory import open_store

    config = config_file.load(args.config)
    api = config.services.api
    if config.services.environment == "production" and not api.keys:
        raise ConfigError([f"{args.config}: services.api.keys: production needs at least one API key (VA_API_KEYS)"])
    sock = bind_socket(api.host, api.port)
    try:
        store = open_store(config.services.store)  # fails here, in one line, if unreachable
    except BaseException:
        sock.close()
        raise
    try:
        app = create_app(config, store)
        uv: Any = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=GRACEFUL_S)
        server = ApiServer(uv, app.state.shutting_down)
        log.info("API on http://%s:%d/api/v1 (docs: /api/v1/docs)", api.host, api.port)
        # the optional features' packages (matplotlib, typst, pvlib: seconds on a busy machine) are
        # imported beside the serving, so that neither the start-up nor the first report or scenario
        # waits for them all; a missing extra is said once, here
        threading.Thread(target=warm_extras, name="warm-extras", daemon=True).start()
        server.run(sockets=[sock])
    finally:
        store.close()
        sock.close()
    return 0
