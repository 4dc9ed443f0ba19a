"""``va-healthcheck status FILE``: a service's own status file (an ingest worker's), fresh and healthy."""

from __future__ import annotations

import json
from pathlib import Path

from tests.deploy.compose import load_healthcheck

hc = load_healthcheck()
NOW = 1_763_762_400_000


def _file(tmp_path: Path, **doc: object) -> str:
    path = tmp_path / "status.json"
    path.write_text(json.dumps({"healthy": True, "problems": [], "updated_ms": NOW, **doc}))
    return str(path)


def test_a_fresh_healthy_status_passes(tmp_path: Path) -> None:
    assert hc.check_status(_file(tmp_path), 60, NOW + 5_000) is None


def test_problems_are_reported(tmp_path: Path) -> None:
    problem = "the store refuses the ingest's credentials (HTTP 401/403): nothing is written"
    assert hc.check_status(_file(tmp_path, healthy=False, problems=[problem]), 60, NOW) == problem


def test_a_stale_or_missing_status_fails(tmp_path: Path) -> None:
    assert "old" in str(hc.check_status(_file(tmp_path), 60, NOW + 120_000))
    assert "no readable status" in str(hc.check_status(str(tmp_path / "none.json"), 60, NOW))
    assert hc.main(["status", str(tmp_path / "none.json")]) == 1
