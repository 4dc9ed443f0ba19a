"""Invariants of the engine, property-tested: ratios in [0, 1], sharing never hurts, a site never
supplies more locally than its sources gave, energy is conserved, and the order of sites and
devices does not matter."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.autonomy.builders import site
from ville_autonome.autonomy import AutonomyResult, ScopeInputs, SiteInputs, compute_scope

N = 12
energy = st.floats(min_value=0, max_value=1e5, allow_nan=False)
row = st.lists(energy, min_size=N, max_size=N)


@st.composite
def a_site(draw: st.DrawFn, name: str, balanced: bool = False) -> SiteInputs:
    load, pv, charge, discharge = draw(row), draw(row), draw(row), draw(row)
    metered = draw(st.sampled_from(["balanced", "none"] if balanced else ["balanced", "measured", "none"]))
    if metered == "measured":  # meters that disagree with each other, as real ones do
        return site(name, load=load, pv=pv, charge=charge, discharge=discharge, imp=draw(row), exp=draw(row))
    if metered == "balanced":  # a grid meter consistent with the balance (up to what it measured)
        net = np.array(load) + np.array(charge) - np.array(pv) - np.array(discharge)
        imp, exp = np.maximum(net, 0).tolist(), np.maximum(-net, 0).tolist()
        return site(name, load=load, pv=pv, charge=charge, discharge=discharge, imp=imp, exp=exp)
    return site(name, load=load, pv=pv, charge=charge, discharge=discharge)


@st.composite
def a_district(draw: st.DrawFn, balanced: bool = False) -> list[SiteInputs]:
    """1 to 4 sites; unless ``balanced``, some with meters that disagree (measurement error)."""
    n = draw(st.integers(1, 4))
    return [draw(a_site(f"s{i}", balanced)) for i in range(n)]


def compute(scope: str, sites: list[SiteInputs]) -> AutonomyResult:
    return compute_scope(ScopeInputs(scope, 0, N, sites), interval_s=900)


def ratios(m: object) -> list[float]:
    names = ("self_sufficiency", "self_consumption", "load_cover_factor", "supply_cover_factor", "time_autonomy")
    return [v for k in names if (v := getattr(m, k)) is not None] + [m.grid_interaction_index or 0.0]  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None)
@given(a_district())
def test_ratios_stay_in_unit_interval(sites: list[SiteInputs]) -> None:
    r = compute("district:d", sites)
    for m in [r.metrics, r.sum_of_sites, *r.sites.values()]:
        assert all(0.0 <= v <= 1.0 for v in ratios(m)), m
    ss = r.series.self_sufficiency
    assert np.all((ss[~np.isnan(ss)] >= -1e-9) & (ss[~np.isnan(ss)] <= 1 + 1e-9))


@settings(max_examples=60, deadline=None)
@given(a_district())
def test_sharing_never_lowers_self_sufficiency(sites: list[SiteInputs]) -> None:
    r = compute("district:d", sites)
    assert r.sum_of_sites is not None
    if r.metrics.self_sufficiency is not None:
        assert r.metrics.self_sufficiency >= (r.sum_of_sites.self_sufficiency or 0.0) - 1e-9
    assert r.metrics.import_wh <= r.sum_of_sites.import_wh + 1e-6
    assert r.sharing_gain_wh >= -1e-6


@settings(max_examples=60, deadline=None)
@given(a_district())
def test_a_site_alone_never_supplies_more_locally_than_its_sources_gave(sites: list[SiteInputs]) -> None:
    # meters that disagree included: a draw no source explains is never counted as local supply
    for one in sites:
        s = compute(f"site:{one.site}", [one]).series
        sources = s.generation_wh + s.discharge_wh
        assert np.all(s.local_supply_wh <= sources + 1e-9 * np.maximum(s.load_wh, 1.0)), (s.local_supply_wh, sources)


@settings(max_examples=60, deadline=None)
@given(a_district(balanced=True))
def test_energy_is_conserved(sites: list[SiteInputs]) -> None:
    r = compute("district:d", sites)
    s, m = r.series, r.metrics
    assert np.allclose(s.local_supply_wh + s.grid_supply_wh, s.load_wh)
    # the scope's balance per interval: G + D + I = L + C + X
    assert np.allclose(
        s.generation_wh + s.discharge_wh + s.import_wh,
        s.load_wh + s.charge_wh + s.export_wh,
        rtol=1e-9,
        atol=1e-6,
    )
    assert m.import_wh - m.export_wh == pytest.approx(
        sum(x.import_wh - x.export_wh for x in r.sites.values()), rel=1e-9, abs=1e-6
    )
    assert m.load_wh == pytest.approx(sum(x.load_wh for x in r.sites.values()))


@settings(max_examples=40, deadline=None)
@given(a_district())
def test_order_of_sites_and_devices_does_not_matter(sites: list[SiteInputs]) -> None:
    shuffled = [dataclasses.replace(s, devices=list(reversed(s.devices))) for s in reversed(sites)]
    a, b = compute("city", sites), compute("city", shuffled)
    for x, y in zip(ratios(a.metrics), ratios(b.metrics), strict=True):
        assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    assert a.metrics.import_wh == pytest.approx(b.metrics.import_wh)
    assert a.coverage == b.coverage
