"""`ville-autonome demo` (what `make demo` runs): every part in one process on embedded defaults,
history backfilled, live values flowing, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.processes import CLI, CommandProcess
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # scheduled first (tests/conftest.py)


def test_demo_runs_the_platform_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    api_port, mqtt_port, control_port, webhook_port = free_port(), free_port(), free_port(), free_port()
    demo = CommandProcess(
        "demo",
        [
            "demo",
            "-c",
            str(REPO / "config" / "amiens.yaml"),
            "--port",
            str(api_port),
            "--mqtt-port",
            str(mqtt_port),
            "--backfill-days",
            "1",
            "--data-dir",
            str(tmp_path / "data"),
            "--control-port",
            str(control_port),
            "--webhook-port",
            str(webhook_port),
        ],
        workdir=tmp_path,
        env={"VA_SIMULATOR_SPEED": "1"},
    ).start()
    try:
        wait_for(lambda: "Press Ctrl-C" in demo.log(), timeout=90, what="the demo to print its URL")
        log = demo.log()
        assert f"http://127.0.0.1:{api_port}/?key=" in log
        key = re.search(r"staff key : (\S+)", log)
        assert key is not None, log
        headers = {"Authorization": f"Bearer {key.group(1)}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers=headers, timeout=5) as api:
            assert api.get("/api/v1/health").json()["status"] == "ok"

            # backfilled history is there, and live readings from every gateway arrive
            def live_devices() -> set[str]:
                return {row["device"] for row in api.get("/api/v1/live").json()["values"]}

            wanted = {"chu-grid-meter", "cit-grid-meter", "iko-turbine", "hub-energie-battery"}
            wait_for(lambda: wanted <= live_devices(), timeout=60, what="live values from every district")
            assert api.get("/").status_code == 200  # the dashboard page
            # the alarms: their evaluator runs, and the fault control a newcomer trips them with answers
            assert f"fault control  : http://127.0.0.1:{control_port}/faults" in log
            assert api.get("/api/v1/alarms").status_code == 200
            assert httpx.get(f"http://127.0.0.1:{control_port}/devices", timeout=5).json()["qi-grid-meter"]
        assert demo.proc is not None
        demo.proc.send_signal(signal.SIGINT)
        assert demo.proc.wait(timeout=60) == 0
        assert "Traceback" not in demo.log()
        assert "demo stopped" in demo.log()
    finally:
        demo.stop()
    # the report command the demo printed reads the demo's data: a report with data, exit 0
    printed = re.search(r"Report on this demo's data.*\n  (.+)\n", log)
    assert printed is not None, log
    words = shlex.split(printed.group(1))
    env = dict(os.environ, **dict(w.split("=", 1) for w in words[:2]))
    assert words[2] == ".venv/bin/ville-autonome"
    done = subprocess.run([CLI, *words[3:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "demo-report.pdf").read_bytes().startswith(b"%PDF")
