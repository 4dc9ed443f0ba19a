"""Screenshots of the browser tests: always under ``test-artifacts/dashboard/``, and, when
``VA_SCREENSHOTS_DIR`` names a folder (``docs/img/dashboard``), a copy there in 256 colours (a
third of the size: the documentation's copies are committed)."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from tests.dashboard.chromium import Page


def shot(page: Page, folder: Path, name: str, selector: str | None = None) -> Path:
    """The whole page, or only the element ``selector`` (a panel)."""
    path = page.screenshot(folder / f"{name}.png", selector)
    target = os.environ.get("VA_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        with Image.open(path) as img:
            small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            small.save(Path(target) / path.name, optimize=True)
    return path
