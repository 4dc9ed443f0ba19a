"""Engine results as JSON-ready dicts: NaN becomes null, arrays become lists, times keep ``_ms``."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ville_autonome.autonomy import AutonomyResult, Metrics
from ville_autonome.dashboard_api.params import iso


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def array_list(a: np.ndarray[Any, Any]) -> list[Any]:
    """A numpy array as a list with NaN → None (fast path when there is no NaN)."""
    if a.dtype.kind == "f" and np.isnan(a).any():
        return [None if math.isnan(x) else x for x in a.tolist()]
    return list(a.tolist())


def metrics_dict(m: Metrics) -> dict[str, Any]:
    return dict(_clean(dataclasses.asdict(m)))


def autonomy_dict(r: AutonomyResult, *, with_series: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "scope": r.scope,
        "start": iso(r.start_ms),
        "end": iso(r.end_ms),
        "start_ms": r.start_ms,
        "end_ms": r.end_ms,
        "interval_s": r.interval_s,
        "method_version": r.method_version,
        "complete": r.complete,
        "flags": list(r.flags),
        "metrics": metrics_dict(r.metrics),
        "sum_of_sites": metrics_dict(r.sum_of_sites) if r.sum_of_sites is not None else None,
        "sharing_gain_wh": r.sharing_gain_wh,
        "sites": {k: metrics_dict(v) for k, v in sorted(r.sites.items())},
        "coverage": _clean(dataclasses.asdict(r.coverage)),
        "balance": _clean(dataclasses.asdict(r.balance)),
        "battery": _clean(dataclasses.asdict(r.battery)) if r.battery is not None else None,
    }
    if with_series:
        out["series"] = {f.name: array_list(getattr(r.series, f.name)) for f in dataclasses.fields(r.series)}
    return out
