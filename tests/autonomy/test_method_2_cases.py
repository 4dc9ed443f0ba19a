"""Method 2.0 against hand-computed cases: the battery stock by origin, the supply cover factor,
boundary readings, balance closure, energy-weighted coverage, per-site masks, battery hours
(every expected number is worked out in the comments)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autonomy.builders import device, site
from ville_autonome.autonomy import (
    BatteryState,
    DeviceEnergy,
    ScopeInputs,
    SiteInputs,
    close_at_boundary,
    compute_scope,
    counter_energy,
)
from ville_autonome.autonomy.stock import grid_share_of_discharge

T0 = 1_767_222_000_000  # 2026-01-01T00:00+01:00, on a 15-min boundary
STEP = 900_000


def run(scope: str, *sites: SiteInputs, warmup: int = 0, **kw: float):  # type: ignore[no-untyped-def]
    window = len(sites[0].devices[0].status)
    inputs = ScopeInputs(scope, T0 + warmup * STEP, window - warmup, list(sites), warmup)
    kw.setdefault("balance_floor_wh", 1.0)
    return compute_scope(inputs, interval_s=900, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the battery stock


def test_grid_charge_then_discharge_stays_grid() -> None:
    # night: load 5, charge 10, import 15 → Cg = 10 (no surplus); day: the battery gives 8 to a load of 8
    # η = ΣD/ΣC = 0.8: the stock holds 8 Wh, all of grid origin; ρ = 1 → Lg = 5 + 8 = 13 = L
    r = run("site:a", site("a", load=[5, 8], charge=[10, 0], discharge=[0, 8], imp=[15, 0], exp=[0, 0]))
    assert r.metrics.grid_supply_wh == 13
    assert r.metrics.self_sufficiency == 0.0


def test_pv_charged_by_day_and_kept_overnight_is_local_in_a_night_period() -> None:
    # warm-up (the day before the period): PV 10, load 2, the surplus 8 charges the battery (local)
    # period (the night): load 6 from the battery, nothing charged in the period
    # method 1 pooled ρ over the period (no charge: ρ = 1, SS = 0); the stock knows it is PV: SS = 1
    a = site("a", load=[2, 6], pv=[10, 0], charge=[8, 0], discharge=[0, 6], imp=[0, 0], exp=[0, 0])
    r = run("site:a", a, warmup=1)
    assert r.metrics.load_wh == 6  # the warm-up is not reported
    assert r.metrics.grid_supply_wh == 0
    assert r.metrics.self_sufficiency == 1.0


def test_no_charge_before_or_in_the_period_counts_the_discharge_as_grid() -> None:
    # the battery gives 6 with no charge seen: unknown origin, never claimed as local
    r = run("site:a", site("a", load=[6], discharge=[6], charge=[0], imp=[0], exp=[0]))
    assert r.metrics.grid_supply_wh == 6
    assert r.metrics.self_sufficiency == 0.0


def test_grid_energy_discharged_in_the_morning_is_not_laundered_by_pv_charged_later() -> None:
    # night: charge 10 from the grid (load 2, import 12); morning: discharge 8 to a load of 8;
    # noon: PV 20, load 4, the surplus charges 16 (local); evening: discharge 12 to a load of 12
    # η = 20/26. Morning: the stock is all grid → 8 grid. Evening: stock = η·10 − 8 + η·16 (grid
    # part η·10 − 8 = −0.31 → the reflected walk: the morning took all of the grid pool, 7.69, and
    # 0.31 of unknown origin); evening stock all local: 0 grid. Pooled over the period (method 1)
    # the morning would have been 10/26 grid.
    a = site(
        "a",
        load=[2, 8, 4, 12],
        pv=[0, 0, 20, 0],
        charge=[10, 0, 16, 0],
        discharge=[0, 8, 0, 12],
        imp=[12, 0, 0, 0],
        exp=[0, 0, 0, 0],
    )
    r = run("site:a", a)
    assert r.series.grid_supply_wh.tolist() == pytest.approx([2, 8, 0, 0])
    assert r.metrics.self_sufficiency == pytest.approx(16 / 26)


def test_losses_are_taken_in_proportion_so_the_grid_share_is_kept() -> None:
    # half the charge from the grid, half local; round-trip efficiency 0.5: whatever comes out is half grid
    rho = grid_share_of_discharge(np.array([10.0, 0.0]), np.array([5.0, 0.0]), np.array([0.0, 5.0]))
    assert rho.tolist() == pytest.approx([0.5, 0.5])


def test_the_stock_recurrence_over_a_year_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(7)
    n = 35_040
    c = rng.uniform(0, 10, n) * (rng.uniform(size=n) < 0.4)
    cg = c * rng.uniform(0, 1, n)
    d = rng.uniform(0, 9, n) * (rng.uniform(size=n) < 0.4)
    rho = grid_share_of_discharge(c, cg, d)
    eta = min(d.sum() / c.sum(), 1.0)
    e = eg = 0.0
    ref = np.empty(n)
    for i in range(n):  # the rule, one interval at a time
        e1, eg1 = e + eta * c[i], eg + eta * cg[i]
        share = eg1 / e1 if e1 > 0 else 1.0
        taken = min(d[i], e1)
        ref[i] = (share * taken + (d[i] - taken)) / d[i] if d[i] > 0 else share
        e = e1 - taken
        eg = eg1 * (e / e1) if e1 > 0 else 0.0
    assert rho == pytest.approx(ref, abs=1e-9)


# ---------------------------------------------------------------- supply cover factor


def test_supply_cover_factor_of_a_site_exporting_nothing_is_its_self_consumption() -> None:
    # night: load 2, charge 10 from the grid (import 12); day: PV 5, load 10, discharge 5 (grid origin)
    # Sl = local charge − local discharge = 0 in both intervals → cover = min(0, 2) + min(5, 10) = 5
    # γ_supply = 5 / 5 = 1 = self-consumption (method 1, with S = C − D: min(−10, 2) + min(10, 10) = 0)
    a = site("a", load=[2, 10], pv=[0, 5], charge=[10, 0], discharge=[0, 5], imp=[12, 0], exp=[0, 0])
    m = run("site:a", a).metrics
    assert m.self_consumption == 1.0
    assert m.supply_cover_factor == 1.0
    assert m.load_cover_factor == pytest.approx(5 / 12)


def test_supply_cover_counts_local_energy_stored_then_used_and_stays_below_self_consumption() -> None:
    # noon: PV 10, load 4, charge 6 (local); evening: load 3, discharge 3 (η = 0.5, all local)
    # cover = min(10 − 6, 4) + min(0 + 3, 3) = 7 → γ_supply = 0.7 ≤ self-consumption 1 (the gap: losses)
    a = site("a", load=[4, 3], pv=[10, 0], charge=[6, 0], discharge=[0, 3], imp=[0, 0], exp=[0, 0])
    m = run("site:a", a).metrics
    assert m.supply_cover_factor == pytest.approx(0.7)
    assert m.self_consumption == 1.0


# ---------------------------------------------------------------- boundary readings


def _cols(rows: list[tuple[int, list[tuple[int, float]]]]) -> dict[str, np.ndarray]:
    """Aggregates of readings [(ts_ms, value)] per interval."""
    out: dict[str, list[float]] = {
        k: [] for k in ("count", "first", "last", "minimum", "maximum", "first_ts_ms", "last_ts_ms")
    }
    for _, readings in rows:
        vals = [v for _, v in readings]
        out["count"].append(len(vals))
        out["first"].append(vals[0] if vals else 0)
        out["last"].append(vals[-1] if vals else 0)
        out["minimum"].append(min(vals) if vals else 0)
        out["maximum"].append(max(vals) if vals else 0)
        out["first_ts_ms"].append(readings[0][0] if readings else 0)
        out["last_ts_ms"].append(readings[-1][0] if readings else 0)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def _energy(cols: dict[str, np.ndarray]) -> list[float]:
    c = close_at_boundary(cols, T0, STEP)
    e = counter_energy(c["first"], c["last"], c["minimum"], c["maximum"], c["count"], last_ts_ms=c["last_ts_ms"])
    return e.energy.tolist()


def test_a_reading_on_a_boundary_closes_the_interval_before_it() -> None:
    # backfill: one reading per boundary, 100 Wh per interval; interval 0 is the one before the period
    cols = _cols([(i, [(T0 + i * STEP, 1000.0 + 100 * i)]) for i in range(4)])
    assert _energy(cols) == pytest.approx([100, 100, 100, 0])  # the last interval waits for its closing reading


def test_the_backfill_to_live_handover_counts_one_interval_of_energy() -> None:
    # boundary readings up to T0 + 2 steps (1200 Wh), then live readings inside interval 2 every 5 min
    # at 100 Wh per 15 min, and the boundary reading that closes interval 2 (1300)
    cols = _cols(
        [
            (0, [(T0, 1000.0)]),
            (1, [(T0 + STEP, 1100.0)]),
            (2, [(T0 + 2 * STEP, 1200.0), (T0 + 2 * STEP + 300_000, 1233.3), (T0 + 2 * STEP + 600_000, 1266.7)]),
            (3, [(T0 + 3 * STEP, 1300.0), (T0 + 3 * STEP + 300_000, 1333.3)]),
        ]
    )
    e = _energy(cols)
    assert e[:3] == pytest.approx([100, 100, 100])  # not 1.6–2× at the handover (method 1 booked 1.67×)
    assert e[3] == pytest.approx(33.3)


# ---------------------------------------------------------------- balance closure


def test_a_stuck_grid_meter_and_its_catch_up_are_unbalanced_not_capped_away() -> None:
    # load 10 Wh per interval, no PV; the grid meter stuck in interval 1, catches up 20 in interval 2
    r = run("site:a", site("a", load=[10, 10, 10], imp=[10, 0, 20], exp=[0, 0, 0]))
    assert not r.complete
    assert "unbalanced:a" in r.flags
    assert r.balance.unbalanced_intervals == 2
    assert r.balance.checked_intervals == 3
    assert r.balance.worst_residual_wh in (-10.0, 10.0)
    assert r.balance.worst_residual_share == 1.0
    assert r.series.unbalanced.tolist() == [False, True, True]


def test_metering_noise_within_the_tolerance_is_balanced() -> None:
    r = run("site:a", site("a", load=[1000, 1000], pv=[300, 0], imp=[720, 1030], exp=[0, 0]))
    assert r.balance.unbalanced_intervals == 0  # residuals 20 and 30 Wh: 2 % and 3 % of the throughput
    assert r.complete


def test_import_beyond_the_load_over_an_imputed_interval_is_unbalanced() -> None:
    load = device("a-load", "consumption", draw=[10, 10, 10])
    load.status[1] = 2  # imputed: the load's split in time is not measured
    grid = device("a-grid", "grid", supply=[10, 30, 0], draw=[0, 0, 0])
    r = run("site:a", SiteInputs("a", "d", [load, grid]))
    assert "unbalanced:a" in r.flags  # 30 imported against a load of 10: 20 the cap would drop


def test_a_draw_no_source_explains_came_from_the_grid_not_from_nowhere() -> None:
    # a site with no local source, its load meter read late at the boundary between two intervals:
    # 1,000 Wh of the load's first interval counted in its second (within a floor of 5 kWh, not flagged)
    r = run("site:a", site("a", load=[1000, 3000], imp=[2000, 2000], exp=[0, 0]), balance_floor_wh=5000.0)
    assert r.balance.unbalanced_intervals == 0
    # method 2.0.0 capped each interval at min(I, L): 1,000 + 2,000 from the grid, 1,000 Wh "local"
    assert r.metrics.grid_supply_wh == 4000.0  # the 1,000 Wh no source explains is import
    assert r.metrics.local_supply_wh == 0.0
    assert r.metrics.self_sufficiency == 0.0
    assert r.metrics.import_wh == 4000.0  # what the meter measured is reported as it is


def test_a_draw_beyond_the_sources_takes_the_local_sources_first() -> None:
    # PV 600 and import 300 against a load of 1,000: 100 Wh unexplained, counted as import, not as local
    r = run("site:a", site("a", load=[1000], pv=[600], imp=[300], exp=[0]), balance_floor_wh=200.0)
    assert r.metrics.local_supply_wh == 600.0
    assert r.metrics.self_sufficiency == pytest.approx(0.6)


# ---------------------------------------------------------------- coverage and masks


def test_coverage_is_energy_weighted() -> None:
    # ten small PV inverters measured (1 Wh each) and one big load meter silent: 10 of 11 devices
    # measured (method 1: 0.909, complete) but almost none of the energy
    pvs = [device(f"pv{i}", "production", supply=[1.0, 1.0], source="pv") for i in range(10)]
    load = device("big-load", "consumption", draw=[0.0, 0.0], missing=[0, 1])
    big = DeviceEnergy(load.device, load.role, load.supply_wh, load.draw_wh, load.status, None, None, 400_000.0)
    r = run("site:a", SiteInputs("a", "d", [*pvs, big]))
    assert r.coverage.device_interval_ratio == pytest.approx(10 / 11)
    expected_big = 400_000 * 0.25 / 4  # never measured: a quarter of its rating over 15 min
    assert r.coverage.ratio == pytest.approx(10 / (10 + expected_big))
    assert not r.complete
    assert "missing_data:big-load" in r.flags


def test_a_sites_time_autonomy_does_not_depend_on_the_scope() -> None:
    a = site("a", load=[5, 5, 5], pv=[10, 10, 0], imp=[0, 0, 5], exp=[5, 5, 0], district="d")
    b_load = device("b-load", "consumption", draw=[0, 0, 0], missing=[0, 1, 2])
    b_grid = device("b-grid", "grid", supply=[0, 0, 0], draw=[0, 0, 0], missing=[0, 1, 2])
    b = SiteInputs("b", "d", [b_load, b_grid])
    district = run("district:d", a, b)
    alone_a, alone_b = run("site:a", a), run("site:b", b)
    assert district.sites["a"].time_autonomy == alone_a.metrics.time_autonomy == pytest.approx(2 / 3)
    assert district.sites["b"].time_autonomy is alone_b.metrics.time_autonomy is None  # no data: undefined
    assert district.metrics.time_autonomy is None  # the district's import is unknown in every interval
    # a fully silent interval is null in the series, never zero
    assert np.isnan(alone_b.series.load_wh).all()


def test_battery_hours_come_from_the_last_closed_interval() -> None:
    # three intervals; "now" is in the middle of the third (open, only 1/10 of its load so far)
    a = site(
        "a", load=[100, 200, 20], pv=[0, 0, 0], charge=[0, 0, 0], discharge=[0, 0, 0], imp=[100, 200, 20], exp=[0, 0, 0]
    )
    a = SiteInputs("a", "d", a.devices, [BatteryState("a-battery", 10_000.0, 50.0)])
    r = run("site:a", a, closed_before_ms=T0 + 2 * STEP + 450_000)
    assert r.battery is not None
    assert r.battery.current_deficit_w == 800.0  # 200 Wh in 15 min
    assert r.battery.hours_at_current_deficit == pytest.approx(5000 / 800)
    assert r.battery.deficit_interval_ms == T0 + STEP


def test_a_device_silent_for_good_is_stale_in_the_interval_of_its_last_reading() -> None:
    from ville_autonome.autonomy.counters import stale_at

    # intervals of 15 min from T0; the last reading at T0 + 20 min; now T0 + 40 min (interval 2 open)
    assert stale_at(T0 + 1_200_000, T0, STEP, 4, T0 + 2_400_000, 60_000) == 1  # silent for 10 min of interval 1
    assert stale_at(T0 + 1_790_000, T0, STEP, 4, T0 + 2_400_000, 60_000) is None  # read 10 s before its end
    assert stale_at(T0 + 1_800_000, T0, STEP, 4, T0 + 2_400_000, 60_000) is None  # on the boundary: closes 1
    assert stale_at(T0 + 2_000_000, T0, STEP, 4, T0 + 2_030_000, 60_000) is None  # open interval, 30 s ago
    assert stale_at(None, T0, STEP, 4, T0 + 2_030_000, 60_000) is None
