"""Real Mosquitto and InfluxDB 1.x processes for tests, each on free loopback ports in a temp dir.

A missing binary is a failure (``ServiceBinaryMissing``), never a skip: the README's ``make test``
installs them. Each process can be stopped, killed (-9) and started again on the same ports and
data directory, for the fault tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from tests.support.ports import free_port, port_open
from tests.support.processes import kill_child, stop_child
from tests.support.waiting import wait_for


class ServiceBinaryMissingError(RuntimeError):
    pass


def find_binary(name: str, *extra_dirs: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for d in (*extra_dirs, "/usr/sbin", "/usr/bin", "/usr/local/sbin"):
        candidate = Path(d) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ServiceBinaryMissingError(
        f"{name} is not installed: run `make test` (it installs Debian's mosquitto and influxdb)"
    )


class _Process:
    name = "service"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{self.name}.log"

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self._argv(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        log.close()
        try:
            wait_for(lambda: self._check_alive() and self._ready(), timeout=timeout, what=f"{self.name} to answer")
        except AssertionError:
            self.kill()
            raise AssertionError(f"{self.name} did not start; its log:\n{self.log_tail()}") from None

    def _check_alive(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
        return True

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """Clean stop (SIGTERM), waiting for the process to exit."""
        if self.proc is None:
            return
        stop_child(self.proc, timeout)
        self.proc = None

    def kill(self) -> None:
        """kill -9: no chance to save state."""
        if self.proc is None:
            return
        kill_child(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


ServiceT = TypeVar("ServiceT", bound=_Process)


@contextlib.contextmanager
def private_services(kind: type[ServiceT], directory: Path) -> Iterator[Callable[..., ServiceT]]:
    """A maker of started ``kind`` processes (its keyword arguments go to ``kind``), each in its own
    folder ``NAME-N`` of ``directory``, all killed on exit: the private broker or database of a test
    that stops, kills or restarts it."""
    made: list[ServiceT] = []

    def make(**kwargs: Any) -> ServiceT:
        service = kind(directory / f"{kind.name}-{len(made)}", **kwargs)
        made.append(service)
        service.start()
        return service

    yield make
    for service in made:
        service.kill()


SHIPPED_BROKER_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"


def shipped_queue_settings() -> list[str]:
    """The ``max_queued_*``, ``max_inflight_*`` and ``max_packet_size`` lines of the broker
    configuration the platform ships, so that tests run the broker as it is deployed."""
    prefixes = ("max_queued", "max_inflight", "max_packet")
    found = [ln.strip() for ln in SHIPPED_BROKER_CONF.read_text().splitlines() if ln.startswith(prefixes)]
    if len(found) < 3:
        raise RuntimeError(f"{SHIPPED_BROKER_CONF}: queue settings not found")
    return found


class Mosquitto(_Process):
    """A real Mosquitto broker; ``url`` is ``mqtt://127.0.0.1:PORT``."""

    name = "mosquitto"

    def __init__(self, workdir: Path, *, persistence: bool = True, extra_conf: str = "") -> None:
        super().__init__(workdir)
        self.binary = find_binary("mosquitto")
        self.host = "127.0.0.1"
        self.port = free_port()
        self.persistence = persistence
        self.extra_conf = extra_conf
        self.conf_path = workdir / "mosquitto.conf"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _write_conf(self) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            # the queue and packet limits of the shipped broker configuration (docs/broker.md)
            *shipped_queue_settings(),
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1800",
            f"pid_file {self.workdir}/mosquitto.pid",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # started as root it would switch to user mosquitto otherwise
        self.conf_path.write_text("\n".join(lines) + "\n" + self.extra_conf + "\n")

    def _argv(self) -> list[str]:
        self._write_conf()
        return [self.binary, "-c", str(self.conf_path)]

    def _ready(self) -> bool:
        return port_open(self.host, self.port)


class Influxd(_Process):
    """A real InfluxDB 1.x ``influxd`` with its own meta/data/wal dirs; ``url`` is its HTTP API."""

    name = "influxd"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.binary = find_binary("influxd")
        self.host = "127.0.0.1"
        self.port = free_port()
        self.rpc_port = free_port()
        self.conf_path = workdir / "influxdb.conf"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _argv(self) -> list[str]:
        d = self.workdir
        self.conf_path.write_text(
            f"""reporting-disabled = true
bind-address = "{self.host}:{self.rpc_port}"

[meta]
  dir = "{d}/meta"

[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  enabled = true
  bind-address = "{self.host}:{self.port}"
  log-enabled = false
  max-body-size = 25000000

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
"""
        )
        return [self.binary, "run", "-config", str(self.conf_path)]

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=0.5) as r:  # noqa: S310 (loopback)
                return bool(r.status == 204)
        except OSError:
            return False

    def query(self, q: str, db: str | None = None) -> dict:  # type: ignore[type-arg]
        """Run an InfluxQL query over HTTP, independent of the code under test."""
        import json
        import urllib.parse

        params = {"q": q, "epoch": "ms"}
        if db:
            params["db"] = db
        url = f"{self.url}/query?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (loopback)
            return json.loads(r.read())  # type: ignore[no-any-return]


class AuthInfluxd(Influxd):
    """influxd 1.6 with ``auth-enabled = true``."""

    def _argv(self) -> list[str]:
        argv = super()._argv()
        text = self.conf_path.read_text().replace(
            "[http]\n  enabled = true", "[http]\n  enabled = true\n  auth-enabled = true"
        )
        self.conf_path.write_text(text)
        return argv
