from __future__ import annotations

from pathlib import Path

import pytest

from tests.reports.pdfcheck import ink_share, page_count, pdf_text, render_page
from tests.reports.sample import sample_report
from ville_autonome.reports.labels import Lang
from ville_autonome.reports.pdf import render_pdf

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"

EXPECTED: dict[str, list[str]] = {
    "fr": [
        "Rapport d'autonomie énergétique",
        "Quartier : Saint-Leu",
        "2026-10-24..2026-10-26",
        "Indicateurs clés",
        "Taux d'autoproduction",
        "Gain du partage local",
        "Somme des sites",
        "Couverture des données",
        "slh-load",
        "Annexe : méthode de calcul",
        "ΣLl / ΣL",
        "Salom et al.",
        "52,0 gCO₂/kWh",
    ],
    "en": [
        "Energy autonomy report",
        "District: Saint-Leu",
        "Headline metrics",
        "Self-sufficiency",
        "Gain from local sharing",
        "Data coverage",
        "Devices with missing data",
        "Annex: method",
        "1 − ΣX / ΣG",
    ],
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pdf_renders_every_section(lang: Lang, tmp_path: Path) -> None:
    data = sample_report()
    pdf = tmp_path / f"report-{lang}.pdf"
    pdf.write_bytes(render_pdf(data, lang))
    assert page_count(pdf) >= 5
    text = pdf_text(pdf)
    for words in [*EXPECTED[lang], data.method_version]:
        assert words in text, words
    assert "2026-11-02 10:30 CET" in text  # generation time on the cover, in Paris time
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for page in (1, 3):
        png = render_page(pdf, page, ARTIFACTS / f"report-{lang}-p{page}")
        assert ink_share(png) > 0.002, f"page {page} is blank"
    # the chart page carries drawings: far more ink than a page of text
    assert ink_share(ARTIFACTS / f"report-{lang}-p3.png") > 0.03


def test_single_site_says_there_is_no_sharing(tmp_path: Path) -> None:
    pdf = tmp_path / "site.pdf"
    pdf.write_bytes(render_pdf(sample_report(site=True), "en"))
    text = pdf_text(pdf)
    assert "A single site: no sharing to measure." in text
    assert "Site: IKO" in text
    assert "No device missing." in text


def test_incomplete_coverage_is_flagged_on_the_cover(tmp_path: Path) -> None:
    pdf = tmp_path / "low.pdf"
    pdf.write_bytes(render_pdf(sample_report(missing=150), "fr"))
    assert "ATTENTION : couverture inférieure au seuil" in pdf_text(pdf)
