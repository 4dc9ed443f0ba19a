from __future__ import annotations

from pathlib import Path

import pytest

from reports.labels import Lang
from reports.pdf import render_pdf
from tests.reports.pdfcheck import ink_share, page_count, pdf_text, render_page
from tests.reports.sample import sample_report

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pdf_renders_every_section(lang: Lang, tmp_path: Path) -> None:
    pdf = tmp_path / f"report-{lang}.pdf"
    pdf.write_bytes(render_pdf(sample_report(), lang))
    assert page_count(pdf) >= 5
    text = pdf_text(pdf)
    expected = {
        "fr": [
            "Rapport d'autonomie énergétique",
            "Quartier : Saint-Leu",
            "2026-10-24..2026-10-26",
            "Indicateurs clés",
            "Taux d'autoproduction",
            "40,0 %",
            "Gain du partage local",
            "+10.0 pt",
            "Couverture des données",
            "slh-load",
            "Annexe",
            "1 − ΣI / ΣL",
            "Salom et al.",
            "autonomy-1.0",
            "52,0 gCO₂/kWh",
        ],
        "en": [
            "Energy autonomy report",
            "District: Saint-Leu",
            "Headline metrics",
            "Self-sufficiency",
            "40.0%",
            "Gain from local sharing",
            "Data coverage",
            "Annex: method",
            "1 − ΣL".replace("ΣL", "ΣX / ΣG"),
        ],
    }[lang]
    for words in expected:
        assert words in text, words
    # generation time on the cover, in Paris time
    assert "2026-11-02 10:30 CET" in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for page in (1, 3):
        png = render_page(pdf, page, ARTIFACTS / f"report-{lang}-p{page}")
        assert ink_share(png) > 0.002, f"page {page} is blank"
    # the chart page carries the drawings: far more ink than text alone
    assert ink_share(ARTIFACTS / f"report-{lang}-p3.png") > 0.03


def test_single_site_without_battery_says_so(tmp_path: Path) -> None:
    pdf = tmp_path / "site.pdf"
    pdf.write_bytes(render_pdf(sample_report(site=True, battery=False), "en"))
    text = pdf_text(pdf)
    assert "A single site: no sharing to measure." in text
    assert "No battery in this scope" not in text  # drawn inside the chart image, not as text
    assert "Site: IKO" in text


def test_incomplete_coverage_is_flagged_on_the_cover(tmp_path: Path) -> None:
    from dataclasses import replace

    data = sample_report()
    data = replace(data, coverage=replace(data.coverage, measured=0.5, imputed=0.0, missing=0.5))
    pdf = tmp_path / "low.pdf"
    pdf.write_bytes(render_pdf(data, "fr"))
    assert "ATTENTION : couverture inférieure au seuil" in pdf_text(pdf)
