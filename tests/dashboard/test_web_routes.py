from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import plotly
import pytest

from tests.dashboard.server import ApiServer, with_keys
from tests.reports.citydata import city_config
from ville_autonome.configuration import PlatformConfig
from ville_autonome.storage.factory import open_store


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    config: PlatformConfig = with_keys(city_config(str(tmp_path / "empty.sqlite")))
    store = open_store(config.services.store)
    try:
        with ApiServer(config, store) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
            yield c
    finally:
        store.close()


def test_pages_and_assets_are_served_locally(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # every script and stylesheet comes from this server: the page works without internet access
    # (links within the page, such as the bell's to the alarm list, are anchors)
    refs = [r for r in re.findall(r'(?:src|href)="([^"]+)"', page.text) if not r.startswith("#")]
    assert refs
    assert all(r.startswith("/static/") for r in refs), refs
    for ref in refs:
        assert client.get(ref).status_code == 200, ref
    js = client.get("/static/vendor/plotly.min.js")
    assert js.content == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert js.headers["content-type"].startswith("text/javascript")
    assert client.get("/districts/saint-leu").text == page.text


@pytest.mark.parametrize("path", ["/districts/atlantis", "/static/../main.py", "/static/nope.js", "/static/"])
def test_unknown_pages_and_assets_are_404(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404
