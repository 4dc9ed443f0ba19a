"""A report built by the real engine from synthetic per-interval energies, for layout tests.

(The numbers' agreement with the API over stored data is tested in test_report_matches_api.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from ville_autonome.autonomy import BatteryState, DeviceEnergy, ScopeInputs, SiteInputs, Status, compute_scope
from ville_autonome.planning.trajectory import by_source
from ville_autonome.reports.days import daily_rows
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.periods import parse_period

STEP_S = 900
NAMES = {
    "__city__": "Amiens Métropole",
    "saint-leu": "Saint-Leu",
    "iko-hydro": "Micro-centrale IKO",
    "saint-leu-housing": "Logements Saint-Leu",
    "iko-turbine": "Turbine au fil de l'eau",
    "iko-grid-meter": "Compteur d'injection",
    "iko-aux": "Auxiliaires de la centrale",
    "slh-load": "Logements (compteur général)",
    "slh-grid-meter": "Compteur collectif",
}


def silenced(d: DeviceEnergy, mask: np.ndarray) -> DeviceEnergy:
    status = np.where(mask, Status.MISSING, d.status).astype(np.int8)
    return DeviceEnergy(
        d.device, d.role, np.where(mask, 0.0, d.supply_wh), np.where(mask, 0.0, d.draw_wh), status, d.source
    )


def sample_report(
    period: str = "2026-10-24..2026-10-26",
    *,
    site: bool = False,
    battery: bool = True,
    missing: int = 10,
    data_days: tuple[str, str] | None = None,
) -> ReportData:
    """A district (or a site) over ``period``; the housing's load meter silent for the first
    ``missing`` intervals; with ``data_days`` (first, last), no device has data outside those days."""
    p = parse_period(period)
    start = np.arange(p.start_ms, p.end_ms, STEP_S * 1000, dtype=np.int64)
    n = len(start)
    hour = (start // 3_600_000) % 24
    zeros = np.zeros(n)
    ok = np.full(n, Status.MEASURED, dtype=np.int8)
    gen = np.where((hour > 6) & (hour < 18), 8_000.0, 1_000.0)
    hydro = DeviceEnergy("iko-turbine", "production", gen, zeros, ok, "hydro")
    hydro_net = gen - 300.0
    hydro_grid = DeviceEnergy("iko-grid-meter", "grid", np.clip(-hydro_net, 0, None), np.clip(hydro_net, 0, None), ok)
    load = np.full(n, 4_000.0)
    status = ok.copy()
    status[:missing] = Status.MISSING
    housing = DeviceEnergy("slh-load", "consumption", zeros, np.where(status == Status.MISSING, 0.0, load), status)
    housing_grid = DeviceEnergy("slh-grid-meter", "grid", load, zeros, ok)
    iko_aux = DeviceEnergy("iko-aux", "consumption", zeros, np.full(n, 300.0), ok)
    sites = [SiteInputs("iko-hydro", "saint-leu", [hydro, hydro_grid, iko_aux])]
    if data_days is not None:
        a, b = (parse_period(d).start_ms for d in data_days)
        outside = (start < a) | (start >= b + 86_400_000)
        hydro, hydro_grid, iko_aux, housing, housing_grid = (
            silenced(d, outside) for d in (hydro, hydro_grid, iko_aux, housing, housing_grid)
        )
        sites = [SiteInputs("iko-hydro", "saint-leu", [hydro, hydro_grid, iko_aux])]
    if not site:
        batteries = [BatteryState("slh-battery", 50_000.0, 60.0)] if battery else []
        sites.append(SiteInputs("saint-leu-housing", "saint-leu", [housing, housing_grid], batteries))
    scope = "site:iko-hydro" if site else "district:saint-leu"
    inputs = ScopeInputs(scope, int(start[0]), n, sites)
    result = compute_scope(inputs, interval_s=STEP_S, emission_factor_g_per_kwh=52.0)
    sources = by_source(inputs)
    soc = 50 + 30 * np.sin(np.arange(n) / 20) if battery and not site else np.full(n, np.nan)
    return ReportData(
        result=result,
        scope_name="IKO" if site else "Saint-Leu",
        period=p,
        generated_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        days=daily_rows(result, p, 52.0, sources),
        soc_pct=soc,
        emission_factor_g_per_kwh=52.0,
        names=NAMES,
        inputs=inputs,
        sources_wh=sources,
    )
