"""The engine against hand-computed cases (every expected number is worked out in the comments)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autonomy.builders import device, site
from ville_autonome.autonomy import (
    METHOD_VERSION,
    BatteryState,
    DeviceEnergy,
    ScopeInputs,
    SiteInputs,
    Status,
    compute_scope,
    counter_energy,
)

T0 = 1_767_222_000_000  # 2026-01-01T00:00+01:00


def run(scope: str, *sites: SiteInputs, threshold: float = 0.9):  # type: ignore[no-untyped-def]
    n = len(sites[0].devices[0].status)
    return compute_scope(ScopeInputs(scope, T0, n, list(sites)), interval_s=900, coverage_threshold=threshold)


def test_battery_charged_from_grid_at_night_is_not_local_supply() -> None:
    # night: load 2, battery charges 10, import 12; day: load 9, all from the battery
    r = run("site:a", site("a", load=[2, 9], charge=[10, 0], discharge=[0, 9], imp=[12, 0], exp=[0, 0]))
    m = r.metrics
    assert m.charge_from_grid_wh == 10  # no surplus at night: all the charge came from the grid
    assert m.grid_supply_wh == 11  # 2 directly + 9 through the battery (ρ = 10/10)
    assert m.self_sufficiency == 0.0  # not negative (1 − ΣI/ΣL would say 1 − 12/11)
    assert m.time_autonomy == 0.5  # the day interval imports nothing
    assert m.self_consumption is None  # no generation: undefined, not 0
    assert m.load_cover_factor == 0.0  # Σ min(G − S, L) = min(−10, 2) + min(9, 9) = −1 → clipped
    assert r.sum_of_sites is None  # a site alone has nothing to net
    assert r.method_version == METHOD_VERSION


def test_battery_charged_from_local_surplus_makes_the_night_local() -> None:
    # day: pv 10, load 4, battery charges 6; night: load 5 from the battery
    r = run("site:a", site("a", load=[4, 5], pv=[10, 0], charge=[6, 0], discharge=[0, 5], imp=[0, 0], exp=[0, 0]))
    m = r.metrics
    assert m.self_sufficiency == 1.0
    assert m.self_consumption == 1.0
    assert m.load_cover_factor == pytest.approx((min(10 - 6, 4) + min(0 + 5, 5)) / 9)  # = 1
    assert m.supply_cover_factor == pytest.approx(9 / 10)
    assert m.net_balance_wh == 1.0
    assert m.net_balance_ratio == pytest.approx(10 / 9)
    assert m.generation_by_source_wh == {"pv": 10.0}


def test_export_only_day() -> None:
    r = run("site:a", site("a", load=[0, 0, 0], pv=[3, 8, 2], imp=[0, 0, 0], exp=[3, 8, 2]))
    m = r.metrics
    assert m.self_sufficiency is None  # no load
    assert m.self_consumption == 0.0  # everything exported
    assert m.net_balance_wh == 13
    assert m.net_balance_ratio is None
    assert m.time_autonomy == 1.0
    assert m.peak_import_w == 0
    assert m.peak_import_ms is None
    assert m.grid_interaction_index == pytest.approx(np.std([-3, -8, -2]) / 8)
    assert m.avoided_co2_kg == pytest.approx(13 / 1000 * 52 / 1000)


def test_all_missing_interval_is_counted_as_missing_and_marks_the_result() -> None:
    a = SiteInputs(
        "a",
        "d",
        [
            device("a-load", "consumption", draw=[4, 0, 4, 4], missing=[1]),
            device("a-grid", "grid", supply=[4, 0, 4, 4], draw=[0, 0, 0, 0], missing=[1]),
        ],
    )
    r = run("site:a", a)
    assert r.coverage.missing_share == pytest.approx(2 / 8)
    assert r.coverage.ratio == pytest.approx(0.75)
    assert not r.complete
    assert "below_coverage_threshold" in r.flags
    assert r.coverage.incomplete_devices == ["a-grid", "a-load"]
    assert r.metrics.time_autonomy == 0.0  # the missing interval is not counted as autonomous
    assert r.series.coverage.tolist() == [1, 0, 1, 1]
    assert run("site:a", a, threshold=0.7).complete


def test_counter_reset_mid_interval_through_the_engine() -> None:
    # load counter: before 100 | 105,110,reset,2,7 | 9,13 → 15 Wh then 6 Wh
    load_wh, load_status, load_anomaly = counter_energy([105, 9], [7, 13], [2, 9], [110, 13], [4, 2], prev_last=100)
    grid_wh, grid_status, _ = counter_energy([50, 65], [65, 71], [50, 65], [65, 71], [4, 2], prev_last=50)
    a = SiteInputs(
        "a",
        "d",
        [
            DeviceEnergy("a-load", "consumption", np.zeros(2), load_wh, load_status, None, load_anomaly),
            DeviceEnergy("a-grid", "grid", grid_wh, np.zeros(2), grid_status),
        ],
    )
    r = run("site:a", a)
    assert r.metrics.load_wh == 21
    assert r.metrics.import_wh == 21
    assert r.metrics.self_sufficiency == 0.0
    # the energy between the last reading before the reset and the first after it is unknown
    assert not r.complete
    assert "counter_reset:a-load" in r.flags


def test_district_nets_a_neighbours_surplus_and_reports_the_sum_of_sites() -> None:
    a = site("a", load=[5, 5], pv=[10, 0], imp=[0, 5], exp=[5, 0])
    b = site("b", load=[5, 5], imp=[5, 5], exp=[0, 0])
    r = run("district:d", a, b)
    # interval 0: A exports 5, B imports 5 → the district imports nothing; interval 1: 10 imported
    assert r.metrics.import_wh == 10
    assert r.metrics.export_wh == 0
    assert r.metrics.self_sufficiency == pytest.approx(10 / 20)
    assert r.sum_of_sites is not None
    assert r.sum_of_sites.import_wh == 15
    assert r.sum_of_sites.self_sufficiency == pytest.approx(5 / 20)
    assert r.sharing_gain_wh == 5
    assert r.sites["a"].self_sufficiency == pytest.approx(5 / 10)
    assert r.sites["b"].self_sufficiency == 0.0
    assert r.series.import_wh.tolist() == [0, 10]


def test_site_without_grid_meter_derives_import_and_export_and_says_so() -> None:
    a = site("a", load=[5, 5], pv=[8, 1])
    r = run("site:a", a)
    assert r.metrics.import_wh == 4
    assert r.metrics.export_wh == 3
    assert "grid_derived:a" in r.flags


def test_site_without_load_meter_derives_the_load() -> None:
    a = site("a", pv=[8, 0], imp=[0, 1], exp=[7, 0])
    r = run("site:a", a)
    assert r.metrics.load_wh == 2
    assert "load_derived:a" in r.flags


def test_missing_grid_interval_is_taken_from_the_balance() -> None:
    a = SiteInputs(
        "a",
        "d",
        [
            device("a-load", "consumption", draw=[4, 6]),
            device("a-grid", "grid", supply=[4, 0], draw=[0, 0], missing=[1]),
        ],
    )
    r = run("site:a", a, threshold=0.5)
    assert r.metrics.import_wh == 10


def test_battery_hours_of_autonomy_at_the_current_deficit() -> None:
    a = site("a", load=[1000, 2000], pv=[0, 500], imp=[1000, 1500], exp=[0, 0])
    a = SiteInputs("a", "d", a.devices, [BatteryState("a-bat", capacity_wh=12_000, soc_pct=50.0)])
    r = run("site:a", a)
    assert r.battery is not None
    # last interval: deficit 1500 Wh in 15 min = 6000 W; stored 6000 Wh → 1 h
    assert r.battery.current_deficit_w == 6000
    assert r.battery.stored_wh == 6000
    assert r.battery.hours_at_current_deficit == pytest.approx(1.0)


def test_power_integration_is_flagged() -> None:
    a = SiteInputs(
        "a",
        "d",
        [
            DeviceEnergy(
                "a-load", "consumption", np.zeros(1), np.array([5.0]), np.array([Status.INTEGRATED], dtype=np.int8)
            )
        ],
    )
    r = run("site:a", a)
    assert "power_integrated:a-load" in r.flags
    assert r.coverage.integrated_share == 1.0
    assert r.complete


def test_sum_of_sites_load_cover_is_summed_site_by_site() -> None:
    a = site("a", load=[5], pv=[10], imp=[0], exp=[5])
    b = site("b", load=[5], imp=[5], exp=[0])
    r = run("district:d", a, b)
    assert r.metrics.load_cover_factor == 1.0  # min(10, 10) / 10: the district shares the surplus
    assert r.sum_of_sites is not None
    assert r.sum_of_sites.load_cover_factor == pytest.approx(0.5)  # (min(10, 5) + min(0, 5)) / 10
