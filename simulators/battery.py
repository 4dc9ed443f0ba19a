"""Battery storage: state of charge, efficiencies, tapering power limits and a simple dispatch.

Pure functions. The battery is dispatched per fixed step (the 15-minute schedule of
:data:`simulators.sites.STEP_S`): its power is constant within a step, which is how a site
energy-management system drives a battery. Sign (docs/conventions.md): power + = discharge,
− = charge, on the AC side.

Per step of ``dt`` hours, with AC power P (W), capacity E (Wh), efficiencies η_c and η_d::

    charging  (P < 0):  SoC += −P·dt·η_c / E
    discharging (P > 0): SoC −= P·dt / (η_d·E)

Limits: SoC stays within [soc_min, soc_max]; the power available tapers linearly to 0 within
``taper_pct`` of either limit (constant-voltage phase of a BMS) and the step's energy never
crosses a limit.

Dispatch (automatic mode): charge from the site's local surplus; discharge into the site's deficit
during peak hours (07–23 local); charge from the grid at a modest rate during off-peak nights when
the battery is below 60 %. An external setpoint (Modbus model 124) replaces the dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ville_autonome.simulators.noise import FloatArray


@dataclass(frozen=True, slots=True)
class BatteryParams:
    capacity_wh: float
    rated_power_w: float
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    soc_min_pct: float = 10.0
    soc_max_pct: float = 95.0
    taper_pct: float = 5.0
    initial_soc_pct: float = 50.0
    night_charge_fraction: float = 0.3


def power_limits_w(soc_pct: float, p: BatteryParams) -> tuple[float, float]:
    """(max charge power, max discharge power) [W, both ≥ 0] at ``soc_pct``, tapering near the limits."""
    charge = p.rated_power_w * min(1.0, max(0.0, (p.soc_max_pct - soc_pct) / p.taper_pct))
    discharge = p.rated_power_w * min(1.0, max(0.0, (soc_pct - p.soc_min_pct) / p.taper_pct))
    return charge, discharge


def clamp_power_w(target_w: float, soc_pct: float, dt_h: float, p: BatteryParams) -> float:
    """The AC power [W] the battery really delivers for ``dt_h`` hours when asked ``target_w``."""
    max_charge, max_discharge = power_limits_w(soc_pct, p)
    if dt_h <= 0.0:
        return min(max(target_w, -max_charge), max_discharge)
    room_wh = (p.soc_max_pct - soc_pct) / 100.0 * p.capacity_wh
    stored_wh = (soc_pct - p.soc_min_pct) / 100.0 * p.capacity_wh
    if target_w < 0.0:
        limit = min(max_charge, max(room_wh, 0.0) / (p.charge_efficiency * dt_h))
        return max(target_w, -limit)
    limit = min(max_discharge, max(stored_wh, 0.0) * p.discharge_efficiency / dt_h)
    return min(target_w, limit)


def soc_after(soc_pct: float, power_w: float, dt_h: float, p: BatteryParams) -> float:
    """State of charge [%] after ``dt_h`` hours at AC power ``power_w`` (+ discharge)."""
    delta_wh = -power_w * dt_h * p.charge_efficiency if power_w < 0.0 else -power_w * dt_h / p.discharge_efficiency
    return soc_pct + 100.0 * delta_wh / p.capacity_wh


def dispatch_target_w(net_load_w: float, local_hour: float, soc_pct: float, p: BatteryParams) -> float:
    """Automatic dispatch target [W] from the site's net load (load − local generation, W)."""
    if net_load_w < 0.0:
        return net_load_w  # charge the surplus
    if 7.0 <= local_hour < 23.0:
        return net_load_w  # cover the deficit
    if local_hour < 6.0 and soc_pct < 60.0:
        return -p.night_charge_fraction * p.rated_power_w
    return 0.0


def simulate(
    net_load_w: FloatArray, local_hour: FloatArray, dt_s: float, p: BatteryParams, soc0_pct: float
) -> tuple[FloatArray, FloatArray]:
    """Run the dispatch over consecutive steps: (power per step [W], SoC at the start of each step [%]).

    Also returns implicitly the final SoC as ``soc_after(soc[-1], power[-1], …)``. Sequential by
    nature (the state carries over); about 1 µs per step.
    """
    n = len(net_load_w)
    power = np.zeros(n)
    soc = np.zeros(n)
    dt_h = dt_s / 3600.0
    s = soc0_pct
    nets = net_load_w.tolist()
    hours = local_hour.tolist()
    for i in range(n):
        soc[i] = s
        target = dispatch_target_w(nets[i], hours[i], s, p)
        pw = clamp_power_w(target, s, dt_h, p)
        power[i] = pw
        s = soc_after(s, pw, dt_h, p)
    return power, soc
