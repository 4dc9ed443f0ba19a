"""A synthetic :class:`ReportData` for layout tests (the numbers' correctness is tested against
the engine and the API in test_report_matches_api.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from reports.days import daily_rows
from reports.model import Coverage, DeviceCoverage, Flows, Headline, ReportData
from reports.periods import parse_period


def headline(load: float, gen: float, imp: float, exp: float, ss: float | None = 0.4) -> Headline:
    return Headline(
        self_sufficiency=ss,
        self_consumption=0.9,
        load_cover_factor=0.4,
        supply_cover_factor=0.85,
        time_autonomy=0.2,
        grid_interaction_index=0.5,
        load_wh=load,
        generation_wh=gen,
        grid_import_wh=imp,
        grid_export_wh=exp,
        net_balance_wh=gen - load,
        balance_ratio=gen / load,
        peak_import_w=123_000.0,
        avoided_co2_kg=42.0,
        energy_by_source_wh={"hydro": gen * 0.7, "pv": gen * 0.3},
    )


def sample_report(period: str = "2026-10-24..2026-10-26", *, battery: bool = True, site: bool = False) -> ReportData:
    p = parse_period(period)
    step = 900_000
    start = np.arange(p.start_ms, p.end_ms, step, dtype=np.int64)
    n = len(start)
    hour = (start // 3_600_000) % 24
    gen = np.where((hour > 6) & (hour < 18), 20_000.0, 5_000.0)
    load = np.full(n, 12_000.0)
    imp = np.clip(load - gen, 0, None)
    exp = np.clip(gen - load, 0, None)
    soc = 50 + 30 * np.sin(np.arange(n) / 20) if battery else np.full(n, np.nan)
    measured = np.ones(n)
    measured[10:20] = 0.5
    flows = Flows(
        start_ms=start,
        load_wh=load,
        generation_wh=gen,
        generation_by_source_wh={"hydro": gen * 0.7, "pv": gen * 0.3},
        battery_charge_wh=np.zeros(n),
        battery_discharge_wh=np.zeros(n),
        grid_import_wh=imp,
        grid_export_wh=exp,
        soc_pct=soc,
        measured=measured,
    )
    h = headline(float(load.sum()), float(gen.sum()), float(imp.sum()), float(exp.sum()))
    return ReportData(
        scope="site:iko-hydro" if site else "district:saint-leu",
        scope_name="IKO" if site else "Saint-Leu",
        period=p,
        generated_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        interval_s=900,
        method_version="autonomy-1.0",
        headline=h,
        sum_of_sites=None
        if site
        else headline(h.load_wh, h.generation_wh, h.grid_import_wh * 1.2, h.grid_export_wh * 1.1, 0.3),
        flows=flows,
        days=daily_rows(flows, p),
        coverage=Coverage(
            measured=0.97,
            imputed=0.01,
            missing=0.02,
            threshold=0.9,
            devices=[DeviceCoverage("slh-load", 0.9, 0.0, 0.1), DeviceCoverage("iko-turbine", 1.0, 0.0, 0.0)],
        ),
        battery_hours=3.5 if battery else None,
        emission_factor_g_per_kwh=52.0,
        sites=["iko-hydro", "saint-leu-housing"],
    )
