"""Screenshots of the browser tests: always under ``test-artifacts/`` (git-ignored), so that a test
run leaves the tree clean; and, when ``VA_SCREENSHOTS_DIR`` names the documentation's image folder
(``make screenshots`` sets it to ``docs/img``), a copy there in 256 colours (a third of the size:
the documentation's copies are committed), under ``docs`` — its sub-folder (``dashboard``) or
``""`` for the folder itself."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from tests.dashboard.chromium import Page


def shot(page: Page, folder: Path, name: str, selector: str | None = None, docs: str = "dashboard") -> Path:
    """The whole page, or only the element ``selector`` (a panel), as ``folder/name.png``."""
    path = page.screenshot(folder / f"{name}.png", selector)
    target = os.environ.get("VA_SCREENSHOTS_DIR")
    if target:
        out = Path(target) / docs
        out.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as img:
            small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            small.save(out / path.name, optimize=True)
    return path
