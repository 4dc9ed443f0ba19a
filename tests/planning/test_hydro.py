from __future__ import annotations

import pytest

from ville_autonome.planning.hydro import hydro_power_w, upgraded_energy_wh


def test_power_formula() -> None:
    # 1000 kg/m³ × 9.81 m/s² × 2 m³/s × 3 m × 0.85 = 50 031 W
    assert hydro_power_w(2.0, 3.0, 0.85) == pytest.approx(50_031.0)


def test_head_and_efficiency_scale_every_interval_flow_only_at_design() -> None:
    # 1-h intervals, design power 100 kW: 100 kWh is at design, 50 kWh is river-limited
    e = upgraded_energy_wh([100_000, 50_000], interval_s=3600, design_power_w=100_000, head_factor=1.2)
    assert e.tolist() == pytest.approx([120_000, 60_000])
    e = upgraded_energy_wh([100_000, 50_000], interval_s=3600, design_power_w=100_000, design_flow_factor=1.5)
    assert e.tolist() == pytest.approx([150_000, 50_000])
    e = upgraded_energy_wh([100_000, 50_000], interval_s=3600, design_power_w=100_000)
    assert e.tolist() == [100_000, 50_000]
