"""The PDF, every page rendered (pdftoppm) and read back (pdftotext), as a reader would see it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.reports.pdfcheck import broken_words, cell_strings, ink_share, page_texts, pdf_text, render_pages
from tests.reports.sample import NAMES, sample_report
from ville_autonome.reports.document import build_document
from ville_autonome.reports.labels import Lang
from ville_autonome.reports.pdf import render_pdf

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
ENGLISH_MONTHS = re.compile(
    r"\b(January|February|March|April|June|July|August|September|October|November|December|Oct|Nov|Dec)\b"
)

EXPECTED: dict[str, list[str]] = {
    "fr": [
        "Rapport d'autonomie énergétique",
        "Saint-Leu",
        "Quartier",
        "Du 24 au 26 octobre 2026",
        "Taux d'autoproduction",
        "Gain du partage local",
        "Somme des sites",
        "Qualité des données",
        "Logements (compteur général)",
        "Annexe : méthode de calcul",
        "ΣLl / ΣL",
        "Salom et al.",
        "52,0 gCO₂/kWh",  # pdftotext writes the narrow no-break space as a space
        "Généré le 2 novembre 2026 à 10 h 30",
    ],
    "en": [
        "Energy autonomy report",
        "District",
        "24 to 26 October 2026",
        "Self-sufficiency",
        "Gain from local sharing",
        "Data quality",
        "Devices with missing or estimated data",
        "Annex: method",
        "1 − ΣX / ΣG",
        "Generated on 2 November 2026, 10:30",
    ],
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_renders_and_reads_right(lang: Lang, tmp_path: Path) -> None:
    data = sample_report()
    pdf = tmp_path / f"report-{lang}.pdf"
    pdf.write_bytes(render_pdf(data, lang))
    text = pdf_text(pdf)
    for words in [*EXPECTED[lang], data.method_version]:
        assert words in text, words
    pages = render_pages(pdf, ARTIFACTS / f"sample-{lang}")
    assert len(pages) >= 5
    for png in pages:
        assert ink_share(png) > 0.002, f"{png.name} is blank"
    # no word cut inside a table cell; ids never stand where a name exists
    doc, _ = build_document(data, lang)
    assert broken_words(pdf, cell_strings(doc)) == []
    for ident in ("slh-load", "iko-turbine", "iko-grid-meter", "saint-leu-housing"):
        assert ident not in text, ident
    if lang == "fr":
        assert not ENGLISH_MONTHS.search(text), ENGLISH_MONTHS.search(text)
        assert "#intervals" not in text
        assert "pt" not in text.split()


def test_the_cover_has_the_figures_and_a_summary(tmp_path: Path) -> None:
    pdf = tmp_path / "cover.pdf"
    pdf.write_bytes(render_pdf(sample_report(), "fr"))
    cover = page_texts(pdf)[0]
    for words in (
        "Taux d'autoproduction",
        "Taux d'autoconsommation",
        "Production locale",
        "CO₂ évité",
        "Sur la période, Saint-Leu a couvert",
    ):
        assert words in cover, words
    assert "district:saint-leu" not in cover  # the scope by its name, never its id
    assert re.search(r"\d+,\d %", cover)  # 57,9 % : a decimal comma …
    doc, _ = build_document(sample_report(), "fr")
    assert re.fullmatch(r"\d+,\d\u202f%", doc["cover"]["tiles"][0]["value"])  # … and a narrow no-break space


def test_a_chart_with_nothing_to_show_is_left_out(tmp_path: Path) -> None:
    with_battery = build_document(sample_report(), "fr")[0]
    without = build_document(sample_report(battery=False), "fr")[0]

    def titles(doc: dict[str, object]) -> list[str]:
        return [b["title"] for s in doc["sections"] for b in s["blocks"] if b["type"] == "chart"]  # type: ignore[attr-defined]

    assert "État de charge des batteries" in titles(with_battery)
    assert "État de charge des batteries" not in titles(without)


def test_single_site_says_there_is_no_sharing(tmp_path: Path) -> None:
    pdf = tmp_path / "site.pdf"
    pdf.write_bytes(render_pdf(sample_report(site=True), "en"))
    text = pdf_text(pdf)
    assert "A single site: no sharing to measure." in text
    assert "IKO" in text
    assert "Every device was measured over the whole period." in text


def test_incomplete_coverage_is_flagged_on_the_cover_and_explained(tmp_path: Path) -> None:
    pdf = tmp_path / "low.pdf"
    pdf.write_bytes(render_pdf(sample_report(missing=150), "fr"))
    pages = page_texts(pdf)
    assert "ATTENTION : couverture inférieure au seuil" in pages[0]
    quality = " ".join(next(p for p in pages if "Signalements" in p).split())  # table cells wrap over lines
    assert "Le compteur n'a pas transmis de données" in quality
    assert "Logements (compteur général)" in quality
    assert "24–25 oct." in quality  # when: the local days of the silent intervals


def test_names_come_from_the_configuration() -> None:
    assert sample_report().name("slh-load") == NAMES["slh-load"]
