"""The staff pages' pure ES modules under ``node --test`` (Node.js from Debian, /usr/bin/node)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from ville_autonome.reports.flag_text import KINDS

HERE = Path(__file__).resolve().parent


def test_pure_modules_pass_node_test() -> None:
    node = shutil.which("node")
    assert node, "node is not installed (Debian's nodejs): the staff pages' modules are tested with node --test"
    tests = sorted(str(p) for p in (HERE / "js").glob("*.test.mjs"))
    assert len(tests) >= 3
    run = subprocess.run([node, "--test", *tests], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout


def test_the_pages_have_words_for_every_flag_the_reports_explain() -> None:
    """flags.js and reports/flag_text.py explain the same flag kinds (the engine's, docs/metrics.md)."""
    source = (HERE.parents[1] / "dashboard_api" / "web" / "static" / "staff" / "flags.js").read_text(encoding="utf-8")
    block = source.split("const TEXT = {", 1)[1].split("\n};", 1)[0]
    kinds = set(re.findall(r"^  (\w+): \{$", block, re.MULTILINE))
    assert kinds == KINDS
