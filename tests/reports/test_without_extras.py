"""The core install without the optional extras (ville_autonome/extras.py): PDF/XLSX reports and
what-if scenarios answer 501 naming the ``pip install`` to run, the ``report`` command exits 2 with
the same sentence and writes nothing, and what needs no extra (CSV) still works.

A missing package is simulated the way the interpreter knows it: ``sys.modules[name] = None`` makes
``import name`` raise ImportError, in the one function that imports it (the seam we own)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.dashboard.server import KEYS, ApiServer, with_keys
from ville_autonome.commands.demo import report_command, report_extra_hint
from ville_autonome.commands.main import main
from ville_autonome.configuration import PlatformConfig
from ville_autonome.configuration.loader import load_config
from ville_autonome.storage.base import Store

PERIOD = "2026-10-24..2026-10-26"
REPORTS = ("typst", "matplotlib", "openpyxl", "lxml")
PLANNING = ("pvlib", "pandas")


@pytest.fixture
def uninstall(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    def block(*names: str) -> None:
        for name in names:
            monkeypatch.setitem(sys.modules, name, None)

    return block


@pytest.fixture
def api(store: Store, city_store: tuple[PlatformConfig, Path]) -> Iterator[httpx.Client]:
    with ApiServer(with_keys(city_store[0]), store) as srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {KEYS['staff']}"
        yield client


@pytest.mark.parametrize(("fmt", "missing"), [("pdf", "typst"), ("xlsx", "openpyxl")])
def test_a_report_without_the_reports_extra_is_a_501_naming_it(
    api: httpx.Client, uninstall: Callable[..., None], fmt: str, missing: str
) -> None:
    uninstall(missing)
    resp = api.get("/api/v1/reports", params={"scope": "city", "period": PERIOD, "format": fmt})
    assert resp.status_code == 501, resp.text
    body = resp.json()
    assert body["error"] == "extra_missing"
    assert "pip install 'ville-autonome[reports]'" in body["detail"]
    assert f"module {missing} is not installed" in body["detail"]


def test_csv_needs_no_extra(api: httpx.Client, uninstall: Callable[..., None]) -> None:
    uninstall(*REPORTS, *PLANNING)
    resp = api.get("/api/v1/reports", params={"scope": "city", "period": PERIOD, "format": "csv"})
    assert resp.status_code == 200, resp.text
    assert resp.text.startswith("start_utc,start_local,load_wh")


def test_a_scenario_without_the_planning_extra_is_a_501_naming_it(
    api: httpx.Client, uninstall: Callable[..., None]
) -> None:
    uninstall(*PLANNING)
    resp = api.post("/api/v1/scenarios", json={"scope": "district:saint-leu", "period": PERIOD})
    assert resp.status_code == 501, resp.text
    assert resp.json()["error"] == "extra_missing"
    assert "pip install 'ville-autonome[planning]'" in resp.json()["detail"]
    # a viewer still learns nothing: the key is checked first
    viewer = api.post("/api/v1/scenarios", json={}, headers={"Authorization": f"Bearer {KEYS['viewer']}"})
    assert viewer.status_code == 403


def test_the_report_command_exits_2_with_the_same_sentence(
    city_store: tuple[PlatformConfig, Path],
    tmp_path: Path,
    uninstall: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_file = tmp_path / "city.yaml"
    config_file.write_text(yaml.safe_dump(city_store[0].model_dump(mode="json", exclude_none=True)))
    uninstall("typst")
    out = tmp_path / "city.pdf"
    argv = ["report", "--scope", "city", "--period", PERIOD, "--format", "pdf", "-o", str(out)]
    assert main([*argv, "--config", str(config_file)]) == 2
    err = capsys.readouterr().err
    assert "error: PDF and XLSX reports need the optional 'reports' dependencies" in err
    assert "pip install 'ville-autonome[reports]'" in err
    assert not out.exists()


def test_the_demo_prints_a_report_command_that_works_without_the_extra(uninstall: Callable[..., None]) -> None:
    args = argparse.Namespace(backfill_days=2, config=None)
    config = load_config(Path(__file__).resolve().parents[2] / "config" / "amiens.yaml", environ={})
    assert report_command(args, config).endswith("-o demo-report.pdf")
    assert report_extra_hint() == ""
    uninstall("typst")
    assert report_command(args, config).endswith("-o demo-report.csv")
    assert report_extra_hint() == "  (PDF and XLSX: pip install 'ville-autonome[reports]')\n"
