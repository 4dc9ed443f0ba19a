"""Scheduled monthly reports: what is due, made once, stored atomically, listed and served."""

from __future__ import annotations

import fcntl
import io
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.dashboard.server import KEYS, ApiServer, with_keys
from ville_autonome.configuration import PlatformConfig
from ville_autonome.configuration.schedule import ReportSettings
from ville_autonome.reports.scheduled import due_months, listing, run_due, stored_file
from ville_autonome.storage.base import Store

NOV_3 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "catch_up", "due"),
    [
        (datetime(2026, 11, 2, 4, 59, tzinfo=UTC), 1, []),  # 05:59 in Paris: October is due at 06:00
        (datetime(2026, 11, 2, 5, 0, tzinfo=UTC), 1, ["2026-10"]),
        (datetime(2026, 11, 2, 5, 0, tzinfo=UTC), 2, ["2026-09", "2026-10"]),
        (datetime(2027, 1, 15, tzinfo=UTC), 2, ["2026-11", "2026-12"]),
    ],
)
def test_due_months(now: datetime, catch_up: int, due: list[str]) -> None:
    settings = ReportSettings(catch_up_months=catch_up)
    assert due_months(settings, now) == due


@pytest.fixture
def scheduled_config(city_store: tuple[PlatformConfig, Path], tmp_path: Path) -> PlatformConfig:
    data = city_store[0].model_dump(mode="python")
    data["services"]["reports"] = {
        "dir": str(tmp_path / "reports"),
        "scopes": ["city", "district:saint-leu"],
        "languages": ["fr", "en"],
        "formats": ["pdf", "csv"],
        "catch_up_months": 2,
    }
    return with_keys(PlatformConfig.model_validate(data))


def test_reports_are_made_once_and_listed(store: Store, scheduled_config: PlatformConfig, tmp_path: Path) -> None:
    out = io.StringIO()
    written = run_due(store, scheduled_config, now=NOV_3, out=out)
    # October (with data) for two scopes × two languages × two formats; September has no data: skipped
    assert len(written) == 8
    assert "2026-09 city: no data, skipped" in out.getvalue()
    assert all(p.parent.name == "2026-10" for p in written)
    assert not list((tmp_path / "reports").rglob("*.tmp"))  # written under a temporary name, then renamed
    assert run_due(store, scheduled_config, now=NOV_3, out=io.StringIO()) == []  # never twice
    stored = listing(tmp_path / "reports")
    assert {(r.scope, r.lang, r.fmt) for r in stored} == {
        (s, lang, f) for s in ("city", "district:saint-leu") for lang in ("fr", "en") for f in ("pdf", "csv")
    }
    assert stored_file(tmp_path / "reports", "2026-10", "../../etc/passwd") is None


def test_a_second_run_while_one_holds_the_lock_leaves(
    store: Store, scheduled_config: PlatformConfig, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    with (folder / ".lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        out = io.StringIO()
        assert run_due(store, scheduled_config, now=NOV_3, out=out) == []
        assert "another run holds" in out.getvalue()


def test_the_api_lists_and_serves_them_to_staff(store: Store, scheduled_config: PlatformConfig) -> None:
    run_due(store, scheduled_config, now=NOV_3, out=io.StringIO())
    with ApiServer(scheduled_config, store) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        staff = {"Authorization": f"Bearer {KEYS['staff']}"}
        listed = client.get("/api/v1/reports/scheduled", headers=staff)
        assert listed.status_code == 200
        reports = listed.json()["reports"]
        assert len(reports) == 8
        pdf = next(r for r in reports if r["scope"] == "city" and r["lang"] == "fr" and r["fmt"] == "pdf")
        assert pdf["url"] == "/api/v1/reports/scheduled/2026-10/autonomy-city-2026-10-fr.pdf"
        got = client.get(pdf["url"], headers=staff)
        assert got.status_code == 200
        assert got.content.startswith(b"%PDF")
        assert client.get("/api/v1/reports/scheduled/2026-10/nope.pdf", headers=staff).status_code == 404
        operator = {"Authorization": f"Bearer {KEYS['operator']}"}
        assert client.get("/api/v1/reports/scheduled", headers=operator).status_code == 403
        schema = client.get("/api/v1/reports/schema", params={"table": "days"}, headers=staff).json()
        assert schema["primaryKey"] == "day_local"
