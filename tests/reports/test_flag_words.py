"""A trajectory year's flags in the report: each kind in plain words, with the names it concerns."""

from __future__ import annotations

from ville_autonome.reports.sections import year_flags

NAMES = {"slh-meter": "Compteur des logements", "slh-pv": "Toiture des logements", "slh": "Logements"}


def test_a_years_flags_name_devices_grouped_by_kind() -> None:
    flags = ("missing_data:slh-meter", "missing_data:slh-pv", "grid_derived:slh", "below_coverage_threshold")
    line = year_flags("2025", flags, NAMES, "en")
    assert line.startswith(
        "2025: The meter sent no data for part of the period (Compteur des logements, Toiture des logements); "
    )
    assert "No grid meter: import and export come from the site's balance (Logements)" in line
    assert "slh" not in line  # names, never ids
    assert line.endswith("Less than the threshold of the expected energy was measured.")


def test_french_punctuation_in_a_years_flags() -> None:
    line = year_flags("2025", ("missing_data:slh-meter", "grid_derived:slh"), NAMES, "fr")
    assert line.startswith("2025\u00a0: Le compteur n'a pas transmis")
    assert "\u202f; Pas de compteur réseau" in line
