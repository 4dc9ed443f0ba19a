"""The links of the flow diagram follow the engine's order of attribution and keep every flow."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ville_autonome.dashboard_api.flow_links import flow_links


def _by(links: list, side: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for link in links:
        key = getattr(link, side)
        out[key] = out.get(key, 0.0) + link.value
    return out


def test_the_district_of_the_docs_now() -> None:
    # hydro 30 kW, load 42 kW, battery discharging 8 kW, import 4 kW (docs/api.md)
    links = flow_links({"hydro": 30_000.0}, 42_000.0, 0.0, 8_000.0, 4_000.0, 0.0)
    assert {(x.source, x.target): x.value for x in links} == {
        ("battery", "load"): 8_000.0,
        ("grid", "load"): 4_000.0,
        ("hydro", "load"): 30_000.0,
    }


def test_generation_serves_the_load_then_the_battery_then_the_grid() -> None:
    # PV 10, load 4, charge 3 from the surplus, export 3; split across two sources by their share
    links = flow_links({"pv": 7.5, "wind": 2.5}, 4.0, 3.0, 0.0, 0.0, 3.0)
    got = {(x.source, x.target): x.value for x in links}
    assert got[("pv", "load")] == pytest.approx(3.0)
    assert got[("wind", "battery")] == pytest.approx(0.75)
    assert got[("pv", "grid")] == pytest.approx(2.25)
    assert ("grid", "battery") not in got


def test_the_engine_s_charge_from_the_grid_is_used_when_given() -> None:
    links = flow_links({"pv": 5.0}, 5.0, 4.0, 0.0, 4.0, 0.0, charge_from_grid=4.0)
    assert {(x.source, x.target): x.value for x in links} == {("grid", "battery"): 4.0, ("pv", "load"): 5.0}


flow = st.floats(min_value=0, max_value=1e7, allow_nan=False)


@given(pv=flow, hydro=flow, load=flow, charge=flow, discharge=flow)
def test_balanced_flows_are_kept_whole(pv: float, hydro: float, load: float, charge: float, discharge: float) -> None:
    net = load + charge - pv - hydro - discharge
    imported, exported = max(net, 0.0), max(-net, 0.0)
    links = flow_links({"pv": pv, "hydro": hydro}, load, charge, discharge, imported, exported)
    into, out = _by(links, "target"), _by(links, "source")
    scale = max(pv + hydro, load, charge, discharge, imported, exported, 1.0)
    tol = 2e-3 * scale * 4  # links below MIN_SHARE of the largest flow are not drawn
    assert into.get("load", 0.0) == pytest.approx(load, abs=tol)
    assert out.get("grid", 0.0) == pytest.approx(imported, abs=tol)
    assert out.get("battery", 0.0) <= discharge + tol
    assert all(x.value >= 0 for x in links)
