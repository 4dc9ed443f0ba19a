"""The real API (``create_app``) served by uvicorn in a thread on a free loopback port, or the real
``ville-autonome api`` command in a child process."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

import uvicorn
import yaml

from tests.support.ports import free_port, port_open
from tests.support.processes import CommandProcess
from tests.support.waiting import wait_for
from ville_autonome.configuration import PlatformConfig
from ville_autonome.dashboard_api.deps import digest
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.storage.base import Store

KEYS = {
    "viewer": "viewer-key-0001",
    "operator": "operator-key-0001",
    "staff": "staff-key-0001",
    "admin": "admin-key-0001",
}


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


class ApiProcess:
    """``ville-autonome api`` as a real child process (its configuration written to a YAML file), for
    module-wide servers: its threads are not the test process's (the leak check looks at those)."""

    def __init__(self, config: PlatformConfig, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data = config.model_dump(mode="json", exclude_none=True)
        data["services"]["api"]["port"] = self.port
        self.config_path = workdir / "api.yaml"
        self.config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        self.process = CommandProcess("api", ["api", "-c", str(self.config_path)], workdir=workdir)

    def __enter__(self) -> ApiProcess:
        self.process.start()
        wait_for(
            lambda: self._alive() and port_open("127.0.0.1", self.port),
            timeout=90,  # the API imports its whole stack (reports, planning): slow on a loaded machine
            interval=0.1,
            what="the api process",
        )
        return self

    def _alive(self) -> bool:
        if not self.process.running:
            raise AssertionError(f"the api process ended: {self.process.log_path.read_text()[-2000:]}")
        return True

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.process.stop()
