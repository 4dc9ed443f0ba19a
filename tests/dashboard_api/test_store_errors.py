"""The API tells a passing store fault from a store that refuses it (real influxd 1.6 with
authentication, and the pure mapping for each kind of store error); the health route names the
kind as every other route does."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

from tests.dashboard_api.serving import serve_in_thread
from tests.dashboard_api.test_hardening import AUTH, _doc
from tests.support.services import AuthInfluxd
from ville_autonome.configuration.loader import load_config_text
from ville_autonome.dashboard_api.errors import store_error_answer
from ville_autonome.dashboard_api.main import create_app
from ville_autonome.storage.base import StoreAuthError, StoreRejectedError, StoreTransientError
from ville_autonome.storage.factory import open_store


def test_each_kind_of_store_error_has_its_answer() -> None:
    assert store_error_answer(StoreTransientError("down")) == (
        503,
        {"error": "store_unavailable", "detail": "the store did not answer"},
        {"Retry-After": "5"},
    )
    status, body, headers = store_error_answer(StoreAuthError("401"))
    assert (status, body["error"], headers) == (503, "store_refused_credentials", {})
    status, body, headers = store_error_answer(StoreRejectedError("400"))
    assert (status, body["error"], headers) == (500, "store_rejected_query", {})


def test_revoked_store_credentials_are_named_and_not_retried(tmp_path: Path) -> None:
    db = AuthInfluxd(tmp_path / "influxd")
    db.start()
    try:
        db.query("CREATE USER admin WITH PASSWORD 'first' WITH ALL PRIVILEGES")
        store_doc = {"backend": "influxdb", "url": db.url, "database": "city", "username": "admin"}
        config = load_config_text(yaml.safe_dump(_doc(store_doc)), environ={"VA_STORE_PASSWORD": "first"})
        store = open_store(config.services.store)
        try:
            with serve_in_thread(create_app(config, store)) as base:
                assert httpx.get(f"{base}/api/v1/live", headers=AUTH, timeout=30).status_code == 200
                healthy = httpx.get(f"{base}/api/v1/health", timeout=30)
                store.http.query("DROP DATABASE city", "", write=True)  # type: ignore[attr-defined]
                rejected = httpx.get(f"{base}/api/v1/health", timeout=30)
                store.http.query("SET PASSWORD FOR admin = 'second'", "", write=True)  # type: ignore[attr-defined]
                live = httpx.get(f"{base}/api/v1/live", headers=AUTH, timeout=30)
                refused = httpx.get(f"{base}/api/v1/health", timeout=30)  # /ping alone would still answer
                db.kill()
                down = httpx.get(f"{base}/api/v1/health", timeout=30)
        finally:
            store.close()
    finally:
        db.kill()
    assert live.status_code == 503
    assert live.json()["error"] == "store_refused_credentials"
    assert "retry-after" not in live.headers
    assert (healthy.status_code, healthy.json()["status"]) == (200, "ok")
    answers = {"rejected": rejected, "refused": refused, "down": down}
    seen = {
        name: (r.status_code, r.json()["status"], r.json()["store"], r.json()["error"]) for name, r in answers.items()
    }
    assert seen == {
        "rejected": (500, "degraded", "rejected_query", "store_rejected_query"),
        "refused": (503, "degraded", "refused_credentials", "store_refused_credentials"),
        "down": (503, "degraded", "unreachable", "store_unavailable"),
    }
    assert [r.headers.get("retry-after") for r in answers.values()] == [None, None, "5"]
    for r in (live, *answers.values()):
        assert "first" not in r.text
        assert "second" not in r.text
        assert str(db.port) not in r.text
