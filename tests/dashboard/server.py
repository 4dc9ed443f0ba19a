"""The real API (``create_app``) served by uvicorn in a thread on a free loopback port."""

from __future__ import annotations

import threading
from types import TracebackType

import uvicorn

from tests.support.ports import free_port, port_open
from tests.support.waiting import wait_for
from ville_autonome.configuration import PlatformConfig
from ville_autonome.dashboard_api.deps import digest
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.storage.base import Store

KEYS = {"viewer": "viewer-key-0001", "operator": "operator-key-0001", "staff": "staff-key-0001"}


def with_keys(config: PlatformConfig) -> PlatformConfig:
    """``config`` with one API key per role (the plain keys are :data:`KEYS`)."""
    keys = [{"name": f"test-{role}", "role": role, "sha256": digest(key)} for role, key in KEYS.items()]
    data = config.model_dump(mode="python")
    data["services"]["api"]["keys"] = keys
    data["services"]["api"]["rate_limit_per_minute"] = 100_000
    return PlatformConfig.model_validate(data)


class ApiServer:
    """``with ApiServer(config, store) as srv: srv.url`` — started and stopped with a deadline."""

    def __init__(self, config: PlatformConfig, store: Store, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(config, store)
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="on",
                timeout_graceful_shutdown=2,  # open event streams are cut after 2 s
            )
        )
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    def __enter__(self) -> ApiServer:
        self.thread.start()
        wait_for(lambda: self.server.started and port_open("127.0.0.1", self.port), timeout=20, what="uvicorn")
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "uvicorn did not stop"
