"""A district month report and a city year report, made by the command from a real store, every
page rendered to PNG (pdftoppm) and read back (pdftotext): the acceptance of issue 16.

The store holds five days (23–27 October 2026) of the small city: the month and the year around
them are mostly without data, which the reports must show as gaps and say in words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.reports.pdfcheck import broken_words, ink_share, page_texts, pdf_text, render_pages
from ville_autonome.commands.main import main
from ville_autonome.configuration import PlatformConfig

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
ENGLISH = re.compile(r"\b(January|February|March|April|June|July|August|September|October|November|December)\b")
DEVICE_IDS = ("iko-turbine", "iko-grid-meter", "slh-load", "slh-grid-meter", "slh-battery", "cit-load", "cit-pv")


@pytest.fixture
def config_file(city_store: tuple[PlatformConfig, Path], tmp_path: Path) -> Path:
    config, _ = city_store
    data = config.model_dump(mode="json", exclude_none=True)
    data["targets"] = [
        {"scope": "city", "self_sufficiency": {2030: 0.5, 2050: 0.9}},
        {"scope": "district:saint-leu", "self_sufficiency": {2030: 0.8, 2050: 1.0}},
    ]
    # the names a city gives its devices: a report never shows an id where a name exists
    for district in data["districts"]:
        for site in district["sites"]:
            for dev in site["devices"]:
                dev["name"] = f"Compteur {dev['id'].upper().replace('-', ' ')}"
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _report(config_file: Path, out: Path, scope: str, period: str, lang: str = "fr") -> str:
    argv = [
        "report",
        "--scope",
        scope,
        "--period",
        period,
        "-o",
        str(out),
        "--lang",
        lang,
        "--config",
        str(config_file),
    ]
    assert main(argv) == 0
    return pdf_text(out)


def _check_pages(pdf: Path, stem: str, lang: str) -> list[str]:
    pages = render_pages(pdf, ARTIFACTS / stem)
    for png in pages:
        assert ink_share(png) > 0.002, f"{png.name} is blank"
    texts = page_texts(pdf)
    text = "\n".join(texts)
    for ident in DEVICE_IDS:
        assert ident not in text, f"{ident} shown where its name exists"
    if lang == "fr":
        assert not ENGLISH.search(text), ENGLISH.search(text)
    return texts


def test_a_district_month_report_page_by_page(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = tmp_path / "saint-leu-2026-10.pdf"
    _report(config_file, pdf, "district:saint-leu", "2026-10")
    err = capsys.readouterr().err
    assert all(line.startswith(("report: ", "warning: ")) for line in err.strip().splitlines()), err
    texts = _check_pages(pdf, "district-month", "fr")
    cover = texts[0]
    assert "Saint-Leu" in cover
    assert "Octobre 2026" in cover
    assert "vs septembre 2026" in cover  # the comparisons name their periods in French
    assert "n. d." in cover  # September has no data: the change is not available, never 0
    assert len(texts) >= 8
    assert "Méthode 2.1.0" in cover  # the cover's notes stay on the cover
    whole = " ".join(" ".join(texts).split())
    assert "Données manquantes" in whole  # the gaps are shaded and named in the charts' legends
    assert "Compteur SLH LOAD" in whole  # devices by their names in the data-quality section
    assert "Le compteur n'a pas transmis de données" in whole
    assert "1–22 oct., 28–31 oct." in whole  # when: the local days without data
    assert "La trajectoire vers 2050" in whole
    assert "Que faudrait-il" in whole
    charts = [t for t in texts if "Au fil de la période" in t]
    assert charts, "the charts page"
    assert "oct." in charts[0]  # French month names on the axes (text kept in the SVG)


def test_a_city_year_report_page_by_page(config_file: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "city-2026.pdf"
    _report(config_file, pdf, "city", "2026")
    texts = _check_pages(pdf, "city-year", "fr")
    whole = " ".join(" ".join(texts).split())
    assert "Année 2026" in texts[0]
    assert "Production locale par source et consommation, par mois" in whole
    assert "Puissance moyenne" not in whole  # a year is drawn per month: no 35,000-point line
    assert "janv." in whole
    assert "déc." in whole
    assert "ATTENTION" in texts[0]  # five days of data in a year: the cover says the data is incomplete


def test_no_word_is_cut_in_a_table_cell(config_file: Path, tmp_path: Path) -> None:
    from tests.reports.pdfcheck import cell_strings
    from ville_autonome.configuration import load_config
    from ville_autonome.reports.compute import build_report
    from ville_autonome.reports.document import build_document
    from ville_autonome.reports.pdf import render_pdf
    from ville_autonome.storage.factory import open_store

    config = load_config(config_file)
    store = open_store(config.services.store)
    try:
        data = build_report(store, config, "district:saint-leu", "2026-10")
    finally:
        store.close()
    for lang in ("fr", "en"):
        pdf = tmp_path / f"r-{lang}.pdf"
        pdf.write_bytes(render_pdf(data, lang))  # type: ignore[arg-type]
        doc, _ = build_document(data, lang)  # type: ignore[arg-type]
        assert broken_words(pdf, cell_strings(doc)) == [], lang
