"""A scenario's answer as JSON: each metric today, under the scenario, and the change."""

from __future__ import annotations

import dataclasses
from typing import Any

from ville_autonome.autonomy import Metrics
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.dashboard_api.params import iso
from ville_autonome.dashboard_api.serialize import metrics_dict
from ville_autonome.planning.run import ScenarioResult
from ville_autonome.planning.sizing import SizingResult
from ville_autonome.reports.compute import scope_name
from ville_autonome.reports.periods import Period

COMPARED = (
    "self_sufficiency",
    "self_consumption",
    "load_cover_factor",
    "supply_cover_factor",
    "time_autonomy",
    "grid_interaction_index",
    "load_wh",
    "generation_wh",
    "import_wh",
    "export_wh",
    "charge_wh",
    "discharge_wh",
    "net_balance_wh",
    "peak_import_w",
    "avoided_co2_kg",
)
DISTRICT_FIELDS = ("self_sufficiency", "self_consumption", "load_wh", "generation_wh", "import_wh", "export_wh")


def _change(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def compare(before: Metrics, after: Metrics, fields: tuple[str, ...] = COMPARED) -> list[dict[str, Any]]:
    return [
        {
            "metric": f,
            "before": getattr(before, f),
            "after": getattr(after, f),
            "change": _change(getattr(before, f), getattr(after, f)),
        }
        for f in fields
    ]


def scenario_dict(
    r: ScenarioResult, sizing: SizingResult | None, period: Period, config: PlatformConfig, names: dict[str, str]
) -> dict[str, Any]:
    before, after = r.scope.before, r.scope.after
    return {
        "scope": r.scope.scope,
        "scope_name": scope_name(config, r.scope.scope),
        "period": period.label,
        "start": iso(period.start_ms),
        "end": iso(period.end_ms),
        "method_version": r.after.method_version,
        "complete": r.before.complete,
        "flags": list(r.before.flags),
        "assumptions": list(r.flags),
        "comparison": compare(before, after),
        "before": metrics_dict(before),
        "after": metrics_dict(after),
        "exported_surplus_wh": after.export_wh,
        "districts": [
            {
                "scope": d.scope,
                "name": names.get(d.scope.split(":", 1)[1], d.scope),
                "comparison": compare(d.before, d.after, DISTRICT_FIELDS),
            }
            for d in r.districts
        ],
        "batteries": [dataclasses.asdict(b) for b in r.batteries],
        "sizing": dataclasses.asdict(sizing) if sizing is not None else None,
        "coverage": r.before.coverage.ratio,
    }
