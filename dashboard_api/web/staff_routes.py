"""The staff pages: a standalone page (``/staff/``) with its own ES modules — the scenario builder
compared with today, the road to 2050, the monthly reports for download (docs/dashboard.md,
"Staff pages"; docs/planning.md).

The page holds no data and computes nothing: it reads ``/api/v1`` with a staff key. Static files
are a fixed table of names (never a path from the request); ``plotly.min.js`` comes from the
installed ``plotly`` wheel (no CDN). Assets are cached for an hour, the page never.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import plotly
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

STAFF_DIR = Path(str(resources.files("ville_autonome.dashboard_api.web"))) / "static" / "staff"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
JS = "text/javascript; charset=utf-8"
MODULES = (
    "main.js",
    "api.js",
    "flags.js",
    "format.js",
    "i18n.js",
    "metrics.js",
    "reports.js",
    "scenario.js",
    "trajectory.js",
)

# URL name → (file, media type)
ASSETS: dict[str, tuple[Path, str]] = {
    **{name: (STAFF_DIR / name, JS) for name in MODULES},
    "staff.css": (STAFF_DIR / "staff.css", "text/css; charset=utf-8"),
    "vendor/plotly.min.js": (PLOTLY_JS, JS),
}

router = APIRouter(include_in_schema=False)


@router.get("/staff")
def staff_redirect() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=308)


@router.get("/staff/")
def staff_page() -> HTMLResponse:
    html = (STAFF_DIR / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/staff/static/{name:path}")
def staff_asset(name: str) -> FileResponse:
    found = ASSETS.get(name)
    if found is None or not found[0].is_file():
        raise HTTPException(status_code=404, detail="no such asset")
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})
