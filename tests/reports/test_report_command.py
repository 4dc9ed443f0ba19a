from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import yaml

from tests.reports.pdfcheck import ink_share, pdf_text, render_page
from ville_autonome.autonomy_queries import compute_autonomy
from ville_autonome.commands.main import main
from ville_autonome.configuration import PlatformConfig
from ville_autonome.reports.compute import build_report
from ville_autonome.reports.periods import parse_period
from ville_autonome.storage.base import Store


@pytest.fixture
def config_file(city_store: tuple[PlatformConfig, Path], tmp_path: Path) -> Path:
    config, _ = city_store
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), allow_unicode=True))
    return path


def test_report_equals_the_engine_over_the_store(store: Store, city_store: tuple[PlatformConfig, Path]) -> None:
    config, _ = city_store
    period = parse_period("2026-10-24..2026-10-26")
    data = build_report(store, config, "district:saint-leu", period)
    direct = compute_autonomy(store, config, "district:saint-leu", period.start_ms, period.end_ms, 900)
    assert data.result.metrics == direct.metrics
    assert data.result.sum_of_sites == direct.sum_of_sites
    assert data.result.coverage.complete
    assert data.scope_name == "Saint-Leu"
    assert 0 < data.result.metrics.self_sufficiency < 1
    # the battery's state of charge per interval comes from the store
    soc = data.soc_pct[np.isfinite(data.soc_pct)]
    assert soc.size > 200
    assert ((soc >= 0) & (soc <= 100)).all()
    assert len(data.days) == 3
    assert sum(d.metrics.import_wh for d in data.days) == pytest.approx(direct.metrics.import_wh)


@pytest.mark.parametrize("fmt", ["pdf", "csv", "xlsx"])
def test_command_writes_each_format(
    fmt: str, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"report.{fmt}"
    argv = ["report", "--scope", "district:saint-leu", "--period", "2026-10-25", "--format", fmt, "-o", str(out)]
    assert main([*argv, "--config", str(config_file)]) == 0
    err = capsys.readouterr().err
    assert "report: read 5/5" in err
    assert f"report: wrote {out}" in err
    if fmt == "pdf":
        text = pdf_text(out)
        assert "Saint-Leu" in text
        assert "Quartier" in text
        assert ink_share(render_page(out, 1, tmp_path / "p1")) > 0.002
        # a report prints its progress and the file it wrote, nothing else (no fontTools lines)
        assert all(line.startswith("report: ") for line in err.strip().splitlines()), err
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out.read_text())))
        assert len(rows) == 100  # 25 hours: clocks go back on 25 October
    else:
        wb = openpyxl.load_workbook(out)
        assert wb.sheetnames == ["read_me", "summary", "days", "intervals"]


def test_english_per_day_csv(config_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "days.csv"
    argv = ["report", "--scope", "city", "--period", "2026-10-24..2026-10-26", "--format", "csv", "--table", "days"]
    assert main([*argv, "-o", str(out), "--lang", "en", "--config", str(config_file)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["day_local"] for r in rows] == ["2026-10-24", "2026-10-25", "2026-10-26"]


@pytest.mark.parametrize(
    ("scope", "period", "says"),
    [
        ("district:nowhere", "2026-10", "unknown district 'nowhere' (known: saint-leu, citadelle)"),
        ("street:rue", "2026-10", "must be 'city', 'district:<id>' or 'site:<id>'"),
        ("site:nope", "2026-10", "unknown site 'nope'"),
        ("city", "2026-13", "month must be in 1..12"),
        ("city", "octobre", "is not a day (2026-10-05), month (2026-10)"),
    ],
)
def test_bad_scope_or_period_is_one_clear_line(
    scope: str, period: str, says: str, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never.pdf"
    argv = ["report", "--scope", scope, "--period", period, "-o", str(out), "--config", str(config_file)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ")
    assert says in err[-1]
    assert not out.exists()


def test_a_year_report_shows_its_progress(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "year.csv"
    argv = ["report", "--scope", "city", "--period", "2026", "--format", "csv", "-o", str(out)]
    assert main([*argv, "--config", str(config_file)]) == 0
    err = capsys.readouterr().err.splitlines()
    steps = [line.split()[1] for line in err if line.startswith("report: ")]
    assert steps[0] == "read"
    assert steps[-4:] == ["compute", "render", "wrote", "wrote"]  # the CSV, then its Table Schema
    assert (tmp_path / "year.csv.schema.json").is_file()
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 365 * 96  # a whole year of 15-min intervals (23 + 25 hours on the clock-change days)
    # a year with five days of data says how little of it was measured
    assert float(rows[0]["coverage_share"]) == 0.0
    assert err[-1].startswith("warning: data coverage")


def test_a_report_without_data_fails_clearly_unless_allowed(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "empty.pdf"
    argv = ["report", "--scope", "city", "--period", "2026-03", "-o", str(out), "--config", str(config_file)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: no data for city over 2026-03 in the store sqlite:")
    assert "--allow-empty" in err
    assert not out.exists()
    assert main([*argv, "--allow-empty"]) == 0
    assert out.is_file()


@pytest.mark.parametrize(
    ("period", "says"),
    [("2999-01", "has not begun yet"), ("9999-12-31", "the year must be in 2000..2999")],
)
def test_a_future_or_impossible_period_is_refused(
    period: str, says: str, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "report",
        "--scope",
        "city",
        "--period",
        period,
        "-o",
        str(tmp_path / "x.pdf"),
        "--config",
        str(config_file),
    ]
    assert main(argv) == 2
    assert says in capsys.readouterr().err
