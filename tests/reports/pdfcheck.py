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
