"""The operator web dashboard: one HTML page per city and per district, served by the API.

``routes.router`` serves ``/`` (the city), ``/districts/{id}`` and ``/static/...``: the page's
own ``app.js`` and ``style.css`` from this package, and ``plotly.min.js`` from the installed
``plotly`` wheel (no CDN; the page works without internet access). The page holds no data: it
reads the API with the operator's key (docs/dashboard.md).
"""
