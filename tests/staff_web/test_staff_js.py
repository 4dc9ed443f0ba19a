"""The staff pages' pure ES modules under ``node --test`` (Node.js from Debian, /usr/bin/node)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_pure_modules_pass_node_test() -> None:
    node = shutil.which("node")
    assert node, "node is not installed (Debian's nodejs): the staff pages' modules are tested with node --test"
    tests = sorted(str(p) for p in (HERE / "js").glob("*.test.mjs"))
    assert len(tests) >= 3
    run = subprocess.run([node, "--test", *tests], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout
