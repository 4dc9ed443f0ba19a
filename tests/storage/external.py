"""External InfluxDB servers for the store contract suite, named in ``VA_TEST_INFLUX_URLS``.

CI runs the suite against Debian's influxd 1.6 (started by the tests) and SQLite. Anyone with
another server (1.8, 1.11, 2.x, 3 Core) runs the very same suite against it::

    VA_TEST_INFLUX_URLS='http://127.0.0.1:8087,http://127.0.0.1:8086#org=amiens&token=TOKEN' \\
        .venv/bin/pytest tests/storage/test_store_contract.py

Each entry is a URL, with optional ``#`` parameters ``org``, ``token``, ``username``, ``password``.
Every test gets a database of its own: created by the store on 1.x, created here on 2.x (a bucket
with its DBRP mapping, so that InfluxQL reads it) and by the first write on 3 Core; dropped after.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from ville_autonome.configuration.services import StoreSettings
from ville_autonome.storage.influx_http import InfluxHttp

ENV = "VA_TEST_INFLUX_URLS"


@dataclass(frozen=True)
class ExternalInflux:
    url: str
    org: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def id(self) -> str:
        return "external:" + self.url

    def settings(self, database: str) -> StoreSettings:
        return StoreSettings(
            backend="influxdb",
            url=self.url,
            database=database,
            org=self.org,
            token=SecretStr(self.token) if self.token else None,
            username=self.username,
            password=SecretStr(self.password) if self.password else None,
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        req = urllib.request.Request(  # noqa: S310 (a URL the tester gave)
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
            raw = r.read()
            return json.loads(raw) if raw else None

    @contextmanager
    def database(self, name: str) -> Iterator[StoreSettings]:
        """A database (1.x, 3 Core) or bucket (2.x) of its own for one test."""
        http = InfluxHttp(self.url, timeout_s=30, token=self.token, username=self.username, password=self.password)
        try:
            major = http.ping().major
            bucket_id = None
            if major == 2:
                org_id = self._call("GET", "/api/v2/orgs?" + urllib.parse.urlencode({"org": self.org}))["orgs"][0]["id"]
                bucket_id = self._call("POST", "/api/v2/buckets", {"orgID": org_id, "name": name})["id"]
                mapping = {"bucketID": bucket_id, "database": name, "retention_policy": "autogen", "default": True}
                self._call("POST", "/api/v2/dbrps", {**mapping, "orgID": org_id})
            yield self.settings(name)
            if major == 1:
                http.query(f'DROP DATABASE "{name}"', "", write=True)
            elif bucket_id is not None:
                self._call("DELETE", f"/api/v2/buckets/{bucket_id}")
            elif major >= 3:
                self._call("DELETE", "/api/v3/configure/database?" + urllib.parse.urlencode({"db": name}))
        finally:
            http.close()


def external_servers() -> list[ExternalInflux]:
    """The servers named in ``VA_TEST_INFLUX_URLS``."""
    out = []
    for entry in filter(None, (e.strip() for e in os.environ.get(ENV, "").split(","))):
        url, _, fragment = entry.partition("#")
        params = {k: v[0] for k, v in urllib.parse.parse_qs(fragment).items()}
        out.append(ExternalInflux(url, **{k: params.get(k) for k in ("org", "token", "username", "password")}))
    return out
