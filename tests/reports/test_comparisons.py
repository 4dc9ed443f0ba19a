"""The cover compares with earlier periods only where they were measured enough (docs/reports.md)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.reports.sample import sample_report
from ville_autonome.reports.document import build_document
from ville_autonome.reports.model import Comparison
from ville_autonome.reports.periods import parse_period

PERIOD = "2026-10-24..2026-10-26"
BEFORE = "2026-10-21..2026-10-23"


def _with_previous(data_days: tuple[str, str] | None) -> dict[str, Any]:
    before = sample_report(BEFORE, missing=0, data_days=data_days)
    data = replace(sample_report(PERIOD), previous=Comparison(parse_period(BEFORE), before.result))
    doc, _ = build_document(data, "en")
    return doc


def _changes(doc: dict[str, Any]) -> list[str]:
    values = [c["value"] for tile in doc["cover"]["tiles"] for c in tile["changes"]]
    assert len(values) == 4  # four headline figures, one earlier period each
    return values


def test_a_change_against_a_period_measured_in_full_is_shown() -> None:
    doc = _with_previous(None)
    assert all("incomplete" not in v and v != "n/a" for v in _changes(doc))


def test_a_period_measured_below_the_threshold_gives_no_change_and_says_why() -> None:
    doc = _with_previous(("2026-10-23", "2026-10-23"))  # one day of three: about a third measured
    for value in _changes(doc):
        assert value.startswith("n/a (incomplete data then: ")
        assert value.endswith("% measured)")
    assert "points on" not in " ".join(doc["cover"]["summary"])
    # the figures table keeps that period's column, marked, with a note saying how much was measured
    texts = str(doc["sections"])
    assert " *'" in texts
    assert "incomplete data (" in texts
