"""Routes of the web dashboard: its pages, their static assets, and the API docs page.

Pages: ``/`` (the city), ``/districts/{id}``, ``/sites/{id}``, ``/devices/{id}`` (404 for an id
the configuration does not know) — one HTML shell whose ES modules read the path — and
``/api/v1/docs`` (Swagger UI). Static files are a table made once at import from this package's
``static/`` folder, plotly's wheel and the ``swagger-ui-bundle`` wheel: a request path is a key of
that table and never reaches the file system. Assets are cached for an hour; pages never are, so a
new release shows at the next load.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import plotly
import swagger_ui_bundle
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

STATIC_DIR = Path(str(resources.files("ville_autonome.dashboard_api.web"))) / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
SWAGGER_DIR = Path(str(swagger_ui_bundle.swagger_ui_path))
PAGES = ("index.html", "docs.html")
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def _assets() -> dict[str, Path]:
    """URL name under /static/ → file: this package's static files, plotly and Swagger UI."""
    found = {
        p.relative_to(STATIC_DIR).as_posix(): p
        for p in sorted(STATIC_DIR.rglob("*"))
        if p.is_file() and p.suffix in MEDIA_TYPES and p.name not in PAGES
    }
    found["vendor/plotly.min.js"] = PLOTLY_JS
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        found[f"vendor/swagger-ui/{name}"] = SWAGGER_DIR / name
    return found


ASSETS: dict[str, Path] = _assets()

router = APIRouter(include_in_schema=False)


def _page(name: str = "index.html") -> HTMLResponse:
    html = (STATIC_DIR / name).read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def _known(request: Request, kind: str, ident: str) -> None:
    config = getattr(request.app.state, "config", None)
    if config is None:
        return
    ids = {
        "district": {d.id for d in config.districts},
        "site": {s.id for _, s in config.sites()},
        "device": {dev.id for _, _, dev in config.devices()},
    }[kind]
    if ident not in ids:
        raise HTTPException(status_code=404, detail=f"unknown {kind} {ident[:80]!r}")


@router.get("/")
def city_page() -> HTMLResponse:
    return _page()


@router.get("/districts/{district_id}")
def district_page(district_id: str, request: Request) -> HTMLResponse:
    _known(request, "district", district_id)
    return _page()


@router.get("/sites/{site_id}")
def site_page(site_id: str, request: Request) -> HTMLResponse:
    _known(request, "site", site_id)
    return _page()


@router.get("/devices/{device_id}")
def device_page(device_id: str, request: Request) -> HTMLResponse:
    _known(request, "device", device_id)
    return _page()


@router.get("/api/v1/docs")
def api_docs() -> HTMLResponse:
    """Swagger UI from the installed ``swagger-ui-bundle`` wheel: works without internet access."""
    return _page("docs.html")


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=308)


@router.get("/static/{name:path}")
def static_asset(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None or not path.is_file():
        raise HTTPException(status_code=404, detail="no such asset")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "public, max-age=3600"})
