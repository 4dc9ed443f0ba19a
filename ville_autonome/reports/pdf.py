"""The report as a PDF: the document (:mod:`reports.document`) laid out by Typst.

Why Typst (docs/reports.md, "PDF"): its compiler ships inside the PyPI wheel (no system library,
nothing else to install in the container), it lays out a report in about 0.1 s, tables get their
column widths and wrap at word boundaries, and the data reaches the template as JSON
(``sys.inputs``), never pasted into markup — a site name cannot break the document. Charts are SVG
from matplotlib; the font is DejaVu Sans from matplotlib's installed package (its licence: the
Bitstream Vera and DejaVu terms, shipped with matplotlib), so ``−``, ``Σ``, ``CO₂`` and the
narrow no-break space print. Typst prints nothing while it works.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import matplotlib
import typst

from ville_autonome.reports.document import build_document
from ville_autonome.reports.labels import Lang
from ville_autonome.reports.model import ReportData

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
TEMPLATE = Path(str(resources.files("ville_autonome.reports"))) / "templates" / "report.typ"


class PdfError(RuntimeError):
    """Typst refused the document (a bug in the template or the document: never the user's input)."""


def render_pdf(data: ReportData, lang: Lang = "fr") -> bytes:
    """The whole report as PDF bytes."""
    doc, charts = build_document(data, lang)
    inputs = {"data": json.dumps(doc, ensure_ascii=False), **charts}
    try:
        out = typst.compile(
            str(TEMPLATE),
            font_paths=[str(FONT_DIR)],
            ignore_system_fonts=True,
            sys_inputs=inputs,
            timestamp=int(data.generated_at.timestamp()),  # the document's date: the same report, the same bytes
        )
    except typst.TypstError as exc:
        raise PdfError(f"typst: {exc}") from exc
    assert isinstance(out, bytes)
    return out
