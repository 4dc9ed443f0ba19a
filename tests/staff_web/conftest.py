from __future__ import annotations

from tests.reports.conftest import city_store, store

__all__ = ["city_store", "store"]
