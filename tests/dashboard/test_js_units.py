"""The dashboard's pure ES modules (format, state in the URL, pickers, health, setpoint, chart
builders) under their own unit tests, with Node.js's test runner (``node --test``): a missing
``node`` is a failure (``make test`` installs Debian's ``nodejs``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JS_TESTS = Path(__file__).parent / "js"


def test_the_front_end_s_pure_modules_pass_node_s_tests() -> None:
    node = shutil.which("node")
    assert node is not None, "node is not installed: run `make test` (it installs Debian's nodejs)"
    tests = sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))
    assert tests
    r = subprocess.run([node, "--test", *tests], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout
