"""Child processes in tests: the platform's own commands (``ville-autonome …``) run as real
processes, and the one way every test helper stops a child (``stop_child``, ``kill_child``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CLI = str(Path(sys.executable).with_name("ville-autonome"))


def stop_child(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """SIGTERM, then wait; SIGKILL if it does not stop within ``timeout`` s. Returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


def kill_child(proc: subprocess.Popen[bytes]) -> None:
    """kill -9, and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


class CommandProcess:
    """One ``ville-autonome`` subcommand as a child process, its output in a log file."""

    def __init__(self, name: str, args: Sequence[str], *, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.args = list(args)
        self.workdir = workdir
        self.env = {**os.environ, **(env or {})}
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> CommandProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [CLI, *self.args], stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, env=self.env
        )
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then wait; SIGKILL if it does not stop in time. Returns the exit code."""
        if self.proc is None:
            return None
        code = stop_child(self.proc, timeout)
        self.proc = None
        return code

    def kill(self) -> None:
        """kill -9."""
        if self.proc is not None:
            kill_child(self.proc)
            self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the process is frozen (its sockets stay open, it sends nothing) until :meth:`resume`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def run_command(
    args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a ``ville-autonome`` command to completion, capturing its output."""
    return subprocess.run(
        [CLI, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
