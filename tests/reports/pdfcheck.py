"""Render a PDF page with poppler's ``pdftoppm`` and say whether it shows anything."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from matplotlib.image import imread


def render_page(pdf: Path, page: int, out_stem: Path) -> Path:
    """PNG of page ``page`` (1-based) at 50 dpi; fails clearly when pdftoppm is missing."""
    exe = shutil.which("pdftoppm")
    assert exe, "pdftoppm is not installed: run `make test` (it installs poppler-utils)"
    subprocess.run(
        [exe, "-png", "-r", "50", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(out_stem)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out_stem.with_suffix(".png")


def ink_share(png: Path) -> float:
    """Share of pixels that are not (near) white."""
    img = np.asarray(imread(str(png)), dtype=np.float64)
    rgb = img[..., :3]
    if rgb.max() > 1.0:
        rgb = rgb / 255.0
    return float((rgb.min(axis=-1) < 0.9).mean())


def page_count(pdf: Path) -> int:
    exe = shutil.which("pdfinfo")
    assert exe, "pdfinfo is not installed: run `make test` (it installs poppler-utils)"
    out = subprocess.run([exe, str(pdf)], check=True, capture_output=True, text=True, timeout=30).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def pdf_text(pdf: Path) -> str:
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext is not installed: run `make test` (it installs poppler-utils)"
    return subprocess.run(
        [exe, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=30
    ).stdout


def render_pages(pdf: Path, out_stem: Path, dpi: int = 50) -> list[Path]:
    """Every page of ``pdf`` as PNG (``out_stem-1.png``, …), in page order."""
    exe = shutil.which("pdftoppm")
    assert exe, "pdftoppm is not installed: run `make test` (it installs poppler-utils)"
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    for old in out_stem.parent.glob(f"{out_stem.name}-*.png"):
        old.unlink()
    subprocess.run([exe, "-png", "-r", str(dpi), str(pdf), str(out_stem)], check=True, capture_output=True, timeout=120)
    pages = sorted(out_stem.parent.glob(f"{out_stem.name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(pages) == page_count(pdf)
    return pages


def page_texts(pdf: Path) -> list[str]:
    """The text of each page (pdftotext, reading order)."""
    text = subprocess.run(
        [shutil.which("pdftotext") or "pdftotext", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return text.split("\f")[: page_count(pdf)]


def cell_strings(doc: dict[str, object]) -> list[str]:
    """Every table cell and header of a report document (reports.document)."""
    out: list[str] = []
    for section in doc["sections"]:  # type: ignore[attr-defined]
        for block in section["blocks"]:
            if block["type"] == "table":
                out += block["header"]
                out += [c for row in block["rows"] for c in row]
    return out


def broken_words(pdf: Path, strings: list[str]) -> list[str]:
    """The words of ``strings`` that the PDF's text does not hold whole (a word cut by a line break
    inside a table cell shows up as two pieces)."""
    tokens = set(" ".join(page_texts(pdf)).split())
    return sorted({w for s in strings for w in s.split() if w not in tokens})
