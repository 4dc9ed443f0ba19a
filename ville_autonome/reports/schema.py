"""The CSV tables' columns as a Table Schema (Frictionless Data, https://specs.frictionlessdata.io/table-schema/),
so that an open-data portal can publish a report's CSV with its description.

``ville-autonome report --format csv`` writes it next to the CSV (``FILE.schema.json``);
``GET /api/v1/reports/schema?table=`` serves it; docs/reports.md shows it as a table.
"""

from __future__ import annotations

from typing import Any

from ville_autonome.reports.options import Table

_ENERGY = "Wh, ≥ 0; empty: not measured in that interval (a device of the scope sent no data)"
# name → (type, description)
COLUMNS: dict[str, tuple[str, str]] = {
    "start_utc": ("datetime", "start of the interval, UTC (ISO 8601, Z)"),
    "start_local": ("string", "start of the interval, Europe/Paris local time with its UTC offset (ISO 8601)"),
    "day_local": ("date", "Europe/Paris calendar day"),
    "load_wh": ("number", f"consumption (load); {_ENERGY}"),
    "generation_wh": ("number", f"local generation, every source; {_ENERGY}"),
    "battery_charge_wh": ("number", f"energy into the batteries; {_ENERGY}"),
    "battery_discharge_wh": ("number", f"energy out of the batteries; {_ENERGY}"),
    "grid_import_wh": (
        "number",
        f"energy drawn from the public grid, flows netted across the scope's sites; {_ENERGY}",
    ),
    "grid_export_wh": ("number", f"energy fed into the public grid, netted likewise; {_ENERGY}"),
    "local_supply_wh": ("number", f"load met by local generation and local storage; {_ENERGY}"),
    "grid_supply_wh": ("number", f"load met by the grid, directly or through a battery; {_ENERGY}"),
    "self_sufficiency_ratio": ("number", "local_supply_wh / load_wh, in [0, 1]; empty: no load or not measured"),
    "self_consumption_ratio": ("number", "1 − export / generation, in [0, 1]; empty: no generation or no data"),
    "time_autonomy_ratio": ("number", "share of the day's intervals importing less than 1 Wh, in [0, 1]"),
    "peak_import_w": ("number", "highest mean import power of an interval of the day, W"),
    "soc_pct": (
        "number",
        "capacity-weighted mean state of charge of the scope's batteries, %; empty: no battery reading",
    ),
    "coverage_share": (
        "number",
        "energy-weighted share of the scope's expected energy measured, in [0, 1] (docs/metrics.md)",
    ),
}


def table_schema(table: Table, columns: tuple[str, ...]) -> dict[str, Any]:
    """The Table Schema of the per-``table`` CSV whose header is ``columns``."""
    fields = []
    for name in columns:
        kind, description = COLUMNS[name]
        field: dict[str, Any] = {"name": name, "type": kind, "description": description}
        if kind == "number":
            field["constraints"] = {"minimum": 0}
            if name.endswith("_ratio") or name == "coverage_share":
                field["constraints"]["maximum"] = 1
        fields.append(field)
    return {
        "fields": fields,
        "missingValues": [""],
        "primaryKey": "start_utc" if table == "intervals" else "day_local",
        "description": f"Ville Autonome 2050 autonomy report, one row per {'interval' if table == 'intervals' else 'local day'}",
    }
