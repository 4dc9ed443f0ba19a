"""Missing is never zero: an interval without data is null in the API, an empty cell in CSV and
XLSX, a gap in the report's chart — on a real SQLite store and the real API."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import numpy as np
from openpyxl import load_workbook

from tests.autonomy.stored_data import KEYS, T0, make_config, readings
from tests.dashboard.server import ApiServer
from ville_autonome.reports.charts import power_chart
from ville_autonome.reports.compute import build_report
from ville_autonome.reports.tables import to_csv
from ville_autonome.reports.workbook import to_xlsx
from ville_autonome.storage.sqlite_store import SqliteStore

HOUR = 3_600_000


def test_an_interval_without_data_is_null_empty_and_a_gap(tmp_path: Path) -> None:
    config = make_config(f"    backend: sqlite\n    path: {tmp_path / 'city.sqlite'}")
    store = SqliteStore(tmp_path / "city.sqlite")
    # the town site only, with two hours where none of its meters said anything
    points = [
        r
        for r in readings(config, T0 - HOUR, T0 + 6 * HOUR, 450)
        if r.context.site == "town" and not (T0 + 2 * HOUR <= r.ts_ms < T0 + 4 * HOUR)
    ]
    store.write(points)
    store.refresh_rollups()
    auth = {"Authorization": f"Bearer {KEYS['staff']}"}
    try:
        with ApiServer(config, store) as srv, httpx.Client(base_url=srv.url, headers=auth, timeout=30) as http:
            r = http.get(
                "/api/v1/autonomy",
                params={"scope": "site:town", "start": str(T0), "end": str(T0 + 6 * HOUR), "series": "true"},
            )
            # the same period on a scope whose devices never reported: null, never 0
            r2 = http.get(
                "/api/v1/autonomy",
                params={"scope": "site:sun", "start": str(T0), "end": str(T0 + 6 * HOUR), "series": "true"},
            )
        assert r.status_code == 200, r.text
        body = r.json()
        load = body["series"]["load_wh"]
        hole = [i for i, v in enumerate(load) if v is None]
        # the reading at 4:00 closes 3:45–4:00: the counter's rise over the hole is spread over the
        # hole's intervals (imputed), so only those without any later reading could be null; here none
        # is: every interval has a value, and the ones in the hole are imputed, not measured
        assert hole == []
        assert body["coverage"]["imputed_share"] > 0
        assert body["series"]["coverage"][9] == 0.0  # 2:15–2:30 measured by no device
        sun = r2.json()
        assert set(sun["series"]["load_wh"]) == {None}
        assert set(sun["series"]["self_sufficiency"]) == {None}
        assert not sun["complete"]

        report = build_report(store, config, "site:sun", "2026-01-01", interval_s=900)
        rows = list(csv.reader(io.StringIO(to_csv(report).decode())))
        header = rows[0]
        first = dict(zip(header, rows[1], strict=True))
        assert first["load_wh"] == ""  # an empty cell, not 0.0
        assert first["grid_import_wh"] == ""
        sheet = load_workbook(io.BytesIO(to_xlsx(report)))["intervals"]
        col = [c.value for c in sheet[1]].index("load_wh")
        assert sheet.cell(row=2, column=col + 1).value is None
        assert np.isnan(report.result.series.load_wh).all()
        assert power_chart(report, "fr") is None  # nothing measured: the chart is left out, never drawn as 0
    finally:
        store.close()
