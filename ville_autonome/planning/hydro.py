"""A run-of-river hydro upgrade seen on the measured production. Pure numpy.

The power of a hydro turbine is ``P = ρ·g·Q·H·η`` — water density ρ [kg/m³], gravity g [m/s²],
turbine flow Q [m³/s], net head H [m], efficiency η (ESHA, *Guide on how to develop a small
hydropower plant*, 2004, ch. 1 and 6; the same formula the simulators' plant runs on,
docs/simulators.md). An upgrade changes H, η or the design flow Q_d; on the measured power P of
each interval:

- more head or a better turbine: the same water gives ``P' = P × (H'/H) × (η'/η)``;
- a larger design flow helps only where the plant ran at its design flow (``P ≥ RUNNING_AT_DESIGN
  × P_design``, ``P_design = ρ·g·Q_d·H·η``): the river had at least ``Q_d`` there, and the
  upgrade assumes it also had ``Q_d'`` — an **upper bound** (the result carries the flag
  ``hydro_flow_assumed:<device>``). Elsewhere the river, not the turbine, limited the flow.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

RHO_WATER_KG_M3 = 1000.0
G_M_S2 = 9.81
RUNNING_AT_DESIGN = 0.98  # at or above this share of its design power, the plant took its design flow


def hydro_power_w(flow_m3_s: npt.ArrayLike, head_m: npt.ArrayLike, efficiency: npt.ArrayLike) -> FloatArray:
    """``P = ρ·g·Q·H·η`` [W] from the flow [m³/s], the net head [m] and the efficiency [0, 1]."""
    return np.asarray(RHO_WATER_KG_M3 * G_M_S2 * np.asarray(flow_m3_s) * np.asarray(head_m) * np.asarray(efficiency))


def upgraded_energy_wh(
    energy_wh: npt.ArrayLike,
    *,
    interval_s: int,
    design_power_w: float,
    head_factor: float = 1.0,
    efficiency_factor: float = 1.0,
    design_flow_factor: float = 1.0,
) -> FloatArray:
    """The production per interval [Wh] after the upgrade (module docstring). ``design_power_w``:
    the plant's power at its design flow today [W] (its rating); factors are new / today."""
    if min(head_factor, efficiency_factor, design_flow_factor) <= 0:
        raise ValueError("upgrade factors must be positive")
    e = np.asarray(energy_wh, dtype=np.float64)
    at_design = e * 3600.0 / interval_s >= RUNNING_AT_DESIGN * design_power_w
    flow = np.where(at_design, design_flow_factor, 1.0) if design_flow_factor > 1.0 else 1.0
    return e * head_factor * efficiency_factor * flow
