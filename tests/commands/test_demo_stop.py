"""Ctrl-C during the demo's backfill stops it at once (before: the backfill ran to 100 % first)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.processes import CommandProcess
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)


def test_ctrl_c_during_the_backfill_stops_the_demo(tmp_path: Path) -> None:
    demo = CommandProcess(
        "demo",
        [
            "demo",
            "-c",
            str(REPO / "config" / "amiens.yaml"),
            "--port",
            str(free_port()),
            "--mqtt-port",
            str(free_port()),
            "--backfill-days",
            "365",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        workdir=tmp_path,
    ).start()
    try:
        wait_for(lambda: "backfill [" in demo.log(), timeout=90, what="the backfill under way")
        assert demo.proc is not None
        demo.proc.send_signal(signal.SIGINT)
        assert demo.proc.wait(timeout=60) == 0  # a year of history would take minutes
        log = demo.log()
        assert "backfill interrupted:" in log
        assert "readings acknowledged" in log
        assert "Traceback" not in log
        assert "demo stopped" in log
    finally:
        demo.stop()
