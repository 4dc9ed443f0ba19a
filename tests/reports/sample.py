"""A report built by the real engine from synthetic per-interval energies, for layout tests.

(The numbers' agreement with the API over stored data is tested in test_report_matches_api.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from ville_autonome.autonomy import BatteryState, DeviceEnergy, ScopeInputs, SiteInputs, Status, compute_scope
from ville_autonome.reports.days import daily_rows
from ville_autonome.reports.model import ReportData
from ville_autonome.reports.periods import parse_period

STEP_S = 900


def sample_report(
    period: str = "2026-10-24..2026-10-26", *, site: bool = False, battery: bool = True, missing: int = 10
) -> ReportData:
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
    if not site:
        batteries = [BatteryState("slh-battery", 50_000.0, 60.0)] if battery else []
        sites.append(SiteInputs("saint-leu-housing", "saint-leu", [housing, housing_grid], batteries))
    scope = "site:iko-hydro" if site else "district:saint-leu"
    result = compute_scope(
        ScopeInputs(scope, int(start[0]), n, sites), interval_s=STEP_S, emission_factor_g_per_kwh=52.0
    )
    soc = 50 + 30 * np.sin(np.arange(n) / 20) if battery and not site else np.full(n, np.nan)
    return ReportData(
        result=result,
        scope_name="IKO" if site else "Saint-Leu",
        period=p,
        generated_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        days=daily_rows(result, p, 52.0),
        soc_pct=soc,
        emission_factor_g_per_kwh=52.0,
    )
