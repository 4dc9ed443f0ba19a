"""Routes of the web dashboard: the page and its static assets (see the package docstring).

Static files are a fixed table of names (never a path from the request), so nothing outside the
package and the plotly wheel can be read. Assets are cached for an hour; the page itself is never
cached, so a new release shows at the next load.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import plotly
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

STATIC_DIR = Path(str(resources.files("ville_autonome.dashboard_api.web"))) / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

# URL name → (file, media type)
ASSETS: dict[str, tuple[Path, str]] = {
    "app.js": (STATIC_DIR / "app.js", "text/javascript; charset=utf-8"),
    "i18n.js": (STATIC_DIR / "i18n.js", "text/javascript; charset=utf-8"),
    "style.css": (STATIC_DIR / "style.css", "text/css; charset=utf-8"),
    "favicon.svg": (STATIC_DIR / "favicon.svg", "image/svg+xml"),
    "vendor/plotly.min.js": (PLOTLY_JS, "text/javascript; charset=utf-8"),
}

router = APIRouter(include_in_schema=False)


def _page() -> HTMLResponse:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/")
def city_page() -> HTMLResponse:
    return _page()


@router.get("/districts/{district_id}")
def district_page(district_id: str, request: Request) -> HTMLResponse:
    config = getattr(request.app.state, "config", None)
    if config is not None and not any(d.id == district_id for d in config.districts):
        raise HTTPException(status_code=404, detail=f"unknown district {district_id[:80]!r}")
    return _page()


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=308)


@router.get("/static/{name:path}")
def static_asset(name: str) -> FileResponse:
    found = ASSETS.get(name)
    if found is None or not found[0].is_file():
        raise HTTPException(status_code=404, detail="no such asset")
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})
