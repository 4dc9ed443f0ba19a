"""Scenarios through the real engine: hand-computed cases and properties (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.autonomy.builders import device, site
from ville_autonome.autonomy import ScopeInputs, SiteInputs
from ville_autonome.planning.run import EngineSettings, compute, run_scenario
from ville_autonome.planning.scenario import (
    GenerationChange,
    HydroChange,
    LoadChange,
    Profiles,
    Scenario,
    ScenarioError,
    StorageChange,
    apply_scenario,
)
from ville_autonome.planning.sizing import size_storage
from ville_autonome.planning.wind_curve import rooftop_wind_wh_per_kw

T0 = 1_767_222_000_000  # 2026-01-01T00:00+01:00
HOUR = EngineSettings(interval_s=3600)
RATINGS = {"a-pv": 10_000.0, "h-turbine": 100_000.0}


def inputs(*sites: SiteInputs, scope: str = "district:d") -> ScopeInputs:
    n = len(sites[0].devices[0].status)
    return ScopeInputs(scope, T0, n, list(sites))


def pv_site() -> SiteInputs:
    # day: PV 6, load 4 → export 2; night: PV 0, load 4 → import 4
    return site("a", load=[4, 4], pv=[6, 0], imp=[0, 4], exp=[2, 0])


def test_doubling_pv_exports_the_extra_and_covers_nothing_at_night() -> None:
    # +10 kWp on a 10 kWp roof doubles the PV: day PV 12 → export 8; the night is unchanged
    res = run_scenario(
        inputs(pv_site()), Scenario(generation=(GenerationChange("a", "pv", 10),)), HOUR, ratings=RATINGS
    )
    assert res.scope.before.self_sufficiency == pytest.approx(0.5)
    assert res.scope.after.generation_wh == 12
    assert res.scope.after.export_wh == 8
    assert res.scope.after.import_wh == 4
    assert res.scope.after.self_sufficiency == pytest.approx(0.5)
    assert res.after.balance.unbalanced_intervals == 0  # the grid meter carries the change: the balance closes


def test_a_battery_moves_the_day_surplus_to_the_night() -> None:
    # a 10 kWh, 10 kW lossless battery: charges 2 by day, gives 2 at night → import 2 of 8: 75 %
    scenario = Scenario(storage=(StorageChange("a", 0.01, 0.01, 1.0),))
    res = run_scenario(inputs(pv_site()), scenario, HOUR, ratings=RATINGS)
    assert res.scope.after.import_wh == pytest.approx(2)
    assert res.scope.after.export_wh == pytest.approx(0)
    assert res.scope.after.self_sufficiency == pytest.approx(0.75)
    [battery] = res.batteries
    assert battery.discharge_wh == pytest.approx(2)
    # 2 Wh through 10 Wh in 2 hours: 0.2 cycles in 1/12 day → 0.2 × 365 × 12 a year
    assert battery.cycles_per_year == pytest.approx(0.2 * 365 * 12)


def test_less_load_and_a_community_battery_with_sharing() -> None:
    # site a exports 2 by day; site b (no PV) imports 3 by day and 3 at night
    b = site("b", load=[3, 3], imp=[3, 3], exp=[0, 0])
    shared = run_scenario(
        inputs(pv_site(), b), Scenario(storage=(StorageChange("b", 1, 1, 1.0),)), HOUR, ratings=RATINGS
    )
    # sharing: a's day surplus already covers 2 of b's day deficit; nothing is left to store
    assert shared.scope.before.import_wh == 8
    assert shared.scope.after.import_wh == pytest.approx(8)
    alone = run_scenario(
        inputs(pv_site(), b), Scenario(storage=(StorageChange("a", 1, 1, 1.0),), sharing=False), HOUR, ratings=RATINGS
    )
    # sharing off: a stores its 2 and uses them at night; b still imports 6
    assert alone.scope.before.import_wh == 10
    assert alone.scope.after.import_wh == pytest.approx(8)
    less = run_scenario(inputs(pv_site(), b), Scenario(load=(LoadChange("b", -50),)), HOUR, ratings=RATINGS)
    assert less.scope.after.load_wh == pytest.approx(11)  # 8 + 3
    assert less.scope.after.import_wh == pytest.approx(5.5)  # day: b 1.5 met by a's 2 (0.5 exported); night 4 + 1.5


def test_a_site_without_pv_gets_the_profile_and_a_flag() -> None:
    b = site("b", load=[3, 3], imp=[3, 3], exp=[0, 0])
    profile = Profiles({"pv": np.array([0.5, 0.0])}, frozenset({"pv"}))
    res = run_scenario(
        inputs(b, scope="site:b"),
        Scenario(generation=(GenerationChange("b", "pv", 4),)),
        HOUR,
        ratings={},
        profiles=profile,
    )
    assert res.scope.after.generation_by_source_wh == {"pv": 2.0}
    assert res.scope.after.import_wh == 4
    assert res.flags == ("pv_modelled:b",)
    with pytest.raises(ScenarioError, match="no wind profile"):
        run_scenario(
            inputs(b, scope="site:b"), Scenario(generation=(GenerationChange("b", "wind", 4),)), HOUR, ratings={}
        )


def test_hydro_upgrade_through_the_plant() -> None:
    h = SiteInputs(
        "h",
        "d",
        [
            device("h-turbine", "production", supply=[100_000, 40_000], source="hydro"),
            device("h-grid", "grid", supply=[0, 0], draw=[100_000, 40_000]),
        ],
    )
    res = run_scenario(
        inputs(h, scope="site:h"), Scenario(hydro=(HydroChange("h-turbine", head_factor=1.1),)), HOUR, ratings=RATINGS
    )
    assert res.scope.after.generation_wh == pytest.approx(154_000)
    assert res.scope.after.export_wh == pytest.approx(154_000)
    with pytest.raises(ScenarioError, match="not a hydro plant"):
        apply_scenario(inputs(h), Scenario(hydro=(HydroChange("nope"),)), interval_s=3600, ratings=RATINGS)


def test_wind_where_none_was_measured_comes_from_the_power_curve() -> None:
    # 3 kW of rooftop wind on a site without wind: 3 × the curve's expected Wh per kW, per interval
    per_kw = rooftop_wind_wh_per_kw(T0, 2, 3600)
    profiles = Profiles({"wind": per_kw}, frozenset({"wind"}))
    scenario = Scenario(generation=(GenerationChange("a", "wind", 3),))
    res = run_scenario(inputs(pv_site()), scenario, HOUR, ratings=RATINGS, profiles=profiles)
    assert res.flags == ("wind_modelled:a",)
    assert res.scope.after.generation_wh == pytest.approx(6 + 3 * per_kw.sum())
    measured = run_scenario(inputs(pv_site()), scenario, HOUR, ratings=RATINGS, profiles=Profiles({"wind": per_kw}))
    assert measured.flags == ("wind_profile_from_city:a",)


def test_sizing_finds_the_smallest_battery() -> None:
    # a lossless battery needs 2 Wh to reach 75 % (the whole day surplus), 1 Wh gives 62.5 %
    res = size_storage(
        inputs(pv_site()),
        Scenario(),
        HOUR,
        site="a",
        target=0.7,
        ratings=RATINGS,
        c_rate_per_h=1.0,
        round_trip_efficiency=1.0,
        tolerance=0.01,
    )
    assert res.reachable
    assert res.best_possible == pytest.approx(0.75)
    assert res.capacity_kwh is not None
    assert 0.0016 <= res.capacity_kwh <= 0.00202
    out = size_storage(inputs(pv_site()), Scenario(), HOUR, site="a", target=0.9, ratings=RATINGS)
    assert not out.reachable
    assert out.capacity_kwh is None


# ------------------------------------------------------------------ properties on random sites

N = 48
energies = st.lists(st.floats(0, 50, allow_nan=False), min_size=N, max_size=N)


def _site(name: str, load: list[float], pv: list[float], missing: list[int]) -> SiteInputs:
    net = np.asarray(load) - np.asarray(pv)
    return SiteInputs(
        name,
        "d",
        [
            device(f"{name}-load", "consumption", draw=load, missing=missing),
            device(f"{name}-pv", "production", supply=pv, source="pv"),
            device(f"{name}-grid", "grid", supply=np.maximum(net, 0).tolist(), draw=np.maximum(-net, 0).tolist()),
        ],
    )


city = st.tuples(energies, energies, energies, energies, st.lists(st.integers(0, N - 1), max_size=4))
Q = EngineSettings(interval_s=900)


def _inputs(c: tuple[list[float], list[float], list[float], list[float], list[int]]) -> ScopeInputs:
    la, pa, lb, pb, missing = c
    return ScopeInputs("district:d", T0, N - 8, [_site("a", la, pa, missing), _site("b", lb, pb, [])], warmup=8)


@settings(max_examples=60, deadline=None)
@given(city, st.booleans())
def test_zero_change_reproduces_today_exactly(c, sharing: bool) -> None:  # type: ignore[no-untyped-def]
    i = _inputs(c)
    zero = Scenario(
        generation=(GenerationChange("a", "pv", 0.0),),
        storage=(StorageChange("b", 0.0, 0.0),),
        load=(LoadChange("a", 0.0),),
        sharing=sharing,
    )
    res = run_scenario(i, zero, Q, ratings={"a-pv": 1000.0, "b-pv": 1000.0})
    assert res.after.metrics == compute(i, Q).metrics
    assert res.after.sum_of_sites == compute(i, Q).sum_of_sites


@settings(max_examples=60, deadline=None)
@given(city, st.floats(0, 0.5), st.floats(0, 0.5), st.booleans())
def test_more_storage_never_lowers_self_sufficiency(c, small: float, extra: float, sharing: bool) -> None:  # type: ignore[no-untyped-def]
    i = _inputs(c)

    def ss(kwh: float) -> float:
        res = run_scenario(i, Scenario(storage=(StorageChange("a", kwh, 0.2, 0.9),), sharing=sharing), Q, ratings={})
        return res.scope.after.self_sufficiency or 0.0

    assert ss(small + extra) >= ss(small) - 1e-9


@settings(max_examples=60, deadline=None)
@given(city, st.floats(0, 0.2), st.floats(-50, 50), st.floats(0, 0.3), st.booleans())
def test_energy_is_conserved(c, kwp: float, pct: float, kwh: float, sharing: bool) -> None:  # type: ignore[no-untyped-def]
    i = _inputs(c)
    scenario = Scenario(
        generation=(GenerationChange("b", "pv", kwp),),
        load=(LoadChange("a", pct),),
        storage=(StorageChange("a", kwh, 0.1, 0.81),),
        sharing=sharing,
    )
    res = run_scenario(i, scenario, Q, ratings={"a-pv": 1000.0, "b-pv": 1000.0})
    for m in (res.after.metrics, res.after.sum_of_sites):
        assert m is not None
        # generation + import + discharge = load + export + charge over the period (the battery's losses aside)
        lhs = m.generation_wh + m.import_wh + m.discharge_wh
        rhs = m.load_wh + m.export_wh + m.charge_wh
        assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-6)
    assert res.after.balance.unbalanced_intervals == 0
    assert all(0 <= (v or 0) <= 1 for v in (res.after.metrics.self_sufficiency, res.after.metrics.self_consumption))
    assert not math.isnan(res.after.metrics.load_wh)


@settings(max_examples=40, deadline=None)
@given(city, st.floats(0.05, 0.95), st.floats(-30, 30), st.booleans())
def test_sizing_from_a_scenario_run_gives_the_same_answer(c, target: float, pct: float, sharing: bool) -> None:  # type: ignore[no-untyped-def]
    # the route hands run_scenario's result to the search (its changed inputs, its zero-capacity trial)
    i = _inputs(c)
    base = Scenario(load=(LoadChange("a", pct),), storage=(StorageChange("b", 0.05, 0.1, 0.9),), sharing=sharing)
    ratings = {"a-pv": 1000.0, "b-pv": 1000.0}
    res = run_scenario(i, base, Q, ratings=ratings)
    reused = size_storage(i, base, Q, site="a", target=target, ratings=ratings, c_rate_per_h=1.0, base_result=res)
    assert reused == size_storage(i, base, Q, site="a", target=target, ratings=ratings, c_rate_per_h=1.0)
