"""The staff pages: a standalone page (``/staff/``) with its own ES modules — the scenario builder
compared with today, the road to 2050, the monthly reports for download (docs/dashboard.md,
"Staff pages"; docs/planning.md).

The page holds no data and computes nothing: it reads ``/api/v1`` with a staff key. Its modules
and style are served with the dashboard's static files (``/static/staff/…``, the fixed table of
``web/routes.py``), so that they share its modules (``/static/js/labels.js``, the words of both);
plotly is ``/static/vendor/plotly.min.js``, from the installed wheel (no CDN). The page itself is
never cached.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

STAFF_DIR = Path(str(resources.files("ville_autonome.dashboard_api.web"))) / "static" / "staff"

router = APIRouter(include_in_schema=False)


@router.get("/staff")
def staff_redirect() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=308)


@router.get("/staff/")
def staff_page() -> HTMLResponse:
    html = (STAFF_DIR / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
