"""The battery dispatch against hand-computed cases and its properties (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ville_autonome.planning.dispatch import clamped_walk, dispatch_self_consumption, equivalent_full_cycles_per_year

HOUR = 3600


def test_surplus_charges_then_deficit_discharges_with_losses() -> None:
    # η_rt = 0.81 → η = 0.9 each way. Interval 1: surplus 10 → charge 10, store 9.
    # Interval 2: deficit 5 → discharge 5, take 5 / 0.9 = 5.5556 from the store → 3.4444 left.
    # Interval 3: deficit 5 → at most 0.9 × 3.4444 = 3.1 can come out; store empty.
    d = dispatch_self_consumption(
        [-10, 5, 5], capacity_wh=100, power_w=math.inf, interval_s=HOUR, round_trip_efficiency=0.81
    )
    assert d.charge_wh.tolist() == pytest.approx([10, 0, 0])
    assert d.discharge_wh.tolist() == pytest.approx([0, 5, 3.1])
    assert d.stored_wh.tolist() == pytest.approx([9, 9 - 5 / 0.9, 0], abs=1e-12)


def test_capacity_and_power_limit_what_moves() -> None:
    # capacity 4 Wh, 2 W over 1 h intervals, lossless: charge 2 (power), 2 (capacity), 0 (full)
    d = dispatch_self_consumption(
        [-5, -5, -5, 3, 3, 3], capacity_wh=4, power_w=2, interval_s=HOUR, round_trip_efficiency=1.0
    )
    assert d.charge_wh.tolist() == [2, 2, 0, 0, 0, 0]
    assert d.discharge_wh.tolist() == [0, 0, 0, 2, 2, 0]
    assert d.stored_wh.tolist() == [2, 4, 4, 2, 0, 0]


def test_energy_never_given_back_is_not_taken() -> None:
    # lossless: 5 in, 2 out, 5 in — only the 2 that are given back are charged; the rest is exported
    d = dispatch_self_consumption(
        [-5, 2, -5], capacity_wh=100, power_w=math.inf, interval_s=HOUR, round_trip_efficiency=1.0
    )
    assert d.charge_wh.tolist() == [2, 0, 0]
    assert d.discharge_wh.tolist() == [0, 2, 0]
    assert d.stored_wh.tolist() == [2, 0, 0]


def test_zero_capacity_and_nan_residuals_do_nothing() -> None:
    d = dispatch_self_consumption([-5, 5], capacity_wh=0, power_w=10, interval_s=900)
    assert not d.charge_wh.any()
    assert not d.discharge_wh.any()
    d = dispatch_self_consumption(
        [-5, math.nan, 5], capacity_wh=10, power_w=math.inf, interval_s=HOUR, round_trip_efficiency=1.0
    )
    assert d.charge_wh.tolist() == [5, 0, 0]
    assert d.discharge_wh.tolist() == [0, 0, 5]


def test_cycles_per_year() -> None:
    # 10 kWh discharged from a 5 kWh battery in 73 days: 2 cycles → 10 a year
    assert equivalent_full_cycles_per_year(10_000, 5_000, 73) == pytest.approx(10)
    assert equivalent_full_cycles_per_year(10_000, math.inf, 73) is None


residuals = st.lists(st.floats(-5_000, 5_000, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(residuals, st.floats(0, 20_000), st.floats(0, 20_000), st.floats(0.5, 1.0))
def test_more_capacity_never_delivers_less(r: list[float], cap: float, extra: float, eta: float) -> None:
    small = dispatch_self_consumption(r, capacity_wh=cap, power_w=2_000, interval_s=900, round_trip_efficiency=eta)
    big = dispatch_self_consumption(
        r, capacity_wh=cap + extra, power_w=2_000, interval_s=900, round_trip_efficiency=eta
    )
    assert big.peak_stored_wh >= small.peak_stored_wh - 1e-6
    assert (big.discharge_wh >= small.discharge_wh - 1e-6).all()


@settings(max_examples=200, deadline=None)
@given(residuals, st.floats(0.5, 1.0))
def test_a_never_full_battery_equals_an_unlimited_one(r: list[float], eta: float) -> None:
    unlimited = dispatch_self_consumption(
        r, capacity_wh=math.inf, power_w=3_000, interval_s=900, round_trip_efficiency=eta
    )
    roomy = dispatch_self_consumption(
        r, capacity_wh=unlimited.peak_stored_wh * 1.01 + 1.0, power_w=3_000, interval_s=900, round_trip_efficiency=eta
    )
    assert np.array_equal(roomy.charge_wh, unlimited.charge_wh)
    assert np.array_equal(roomy.discharge_wh, unlimited.discharge_wh)


@settings(max_examples=200, deadline=None)
@given(residuals, st.floats(1, 20_000), st.floats(0.5, 1.0))
def test_energy_is_conserved_in_the_battery(r: list[float], cap: float, eta: float) -> None:
    d = dispatch_self_consumption(r, capacity_wh=cap, power_w=4_000, interval_s=900, round_trip_efficiency=eta)
    a = np.asarray(r)
    # what goes in after the charge losses = what comes out before the discharge losses + what is left
    assert math.sqrt(eta) * d.charge_wh.sum() == pytest.approx(
        d.discharge_wh.sum() / math.sqrt(eta) + d.stored_wh[-1], abs=1e-6
    )
    assert (d.charge_wh <= np.maximum(-a, 0) + 1e-9).all()  # only the surplus charges
    assert (d.discharge_wh <= np.maximum(a, 0) + 1e-9).all()  # only into a deficit, never exported
    assert (d.stored_wh <= cap + 1e-9).all()
    assert (d.stored_wh >= -1e-9).all()
    assert d.stored_wh[-1] == pytest.approx(0, abs=1e-6)  # what is never given back is not taken


def _loop_reference(r: list[float], cap: float, power_w: float, eta_rt: float) -> tuple[list[float], list[float]]:
    """The module docstring's rule, interval by interval in plain Python (15-min intervals)."""
    eta, step, e = math.sqrt(eta_rt), power_w / 4, 0.0
    c_out, d_out, e_out = [0.0] * len(r), [0.0] * len(r), [0.0] * len(r)
    for i, x in enumerate(r):
        if x < 0 and (c := min(-x, step, (cap - e) / eta)) > 0:
            e, c_out[i] = e + eta * c, c
        elif x > 0 and (d := min(x, step, eta * e)) > 0:
            e, d_out[i] = e - d / eta, d
        e_out[i] = e
    need, after = [0.0] * len(r), 0.0
    for i in range(len(r) - 1, -1, -1):
        need[i], after = after, max(0.0, after + d_out[i] / eta - eta * c_out[i])
    kept = [min(a, b) for a, b in zip(e_out, need, strict=True)]
    before = [min(0.0, after), *kept[:-1]]
    charge = [min(max((k - b + d / eta) / eta, 0.0), c) for k, b, d, c in zip(kept, before, d_out, c_out, strict=True)]
    return charge, d_out


@settings(max_examples=200, deadline=None)
@given(residuals, st.floats(0, 20_000), st.floats(1, 10_000), st.floats(0.5, 1.0))
def test_the_scan_equals_the_interval_by_interval_rule(r: list[float], cap: float, power: float, eta: float) -> None:
    d = dispatch_self_consumption(r, capacity_wh=cap, power_w=power, interval_s=900, round_trip_efficiency=eta)
    charge, discharge = _loop_reference(r, cap, power, eta)
    assert d.charge_wh.tolist() == pytest.approx(charge, rel=1e-9, abs=1e-6)
    assert d.discharge_wh.tolist() == pytest.approx(discharge, rel=1e-9, abs=1e-6)


def test_clamped_walk_by_hand() -> None:
    # steps +3, +3, −5, +1 in [0, 4] from 1: 4 (clamped), 4 (full), 0 (clamped at empty), 1
    assert clamped_walk(np.array([3.0, 3.0, -5.0, 1.0]), 0.0, 4.0, 1.0).tolist() == [4, 4, 0, 1]
