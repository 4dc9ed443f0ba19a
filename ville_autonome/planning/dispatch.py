"""A battery dispatched for self-consumption, interval by interval. Pure numpy (no Python loop).

The rule every home and community battery controller starts from ("maximise self-consumption",
Luthander et al. 2015, section 4.1; the dispatch of Weniger, Tjaden, Quaschning 2014): with the
*residual* ``r`` of an interval — what the grid would have to deliver without the new battery
(``r > 0``: a deficit; ``r < 0``: a surplus that would be exported) [Wh]:

- a surplus charges the battery: ``c = min(−r, P·Δt, (E_max − E) / η_c)``, and ``E += η_c·c``;
- a deficit is met from the battery: ``d = min(r, P·Δt, η_d·E)``, and ``E −= d / η_d``;

then **the energy never given back is not taken**: a backward pass computes, for each interval, the
energy the battery still has to deliver afterwards (``R_{t−1} = max(0, R_t + d_t/η_d − η_c·c_t)``,
``R = 0`` at the end), the stored energy becomes ``min(E, R)`` and each charge what that needs
(never more than the forward pass took, never negative). The battery ends the window empty and
what it would have held unused is exported instead: so ``ΣD = η_rt·ΣC``, and the engine's stock by
origin (``autonomy.stock``, whose efficiency is ``ΣD / ΣC``) follows it exactly — none of its
discharge is taken for energy of unknown (grid) origin. With the round-trip efficiency split evenly, ``η_c = η_d = √η_rt``, ``P`` the power limit [W],
``Δt`` the interval [s], ``E_max`` the usable capacity [Wh]. The battery never charges from the
grid and never discharges into it: what it cycles is local energy by construction. It starts
empty (``initial_wh``) at the start of the window it is given (the reading layer's warm-up, so
that it has cycled before the reported period).

Properties (tests/planning): a zero-capacity battery changes nothing; a battery that never reaches
its capacity gives exactly what an unlimited one gives; a larger capacity never discharges less in
any interval (by induction on the forward pass's stored energy, which the larger battery never
holds less of), so it never lowers self-sufficiency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Dispatch:
    """What the battery did, per interval [Wh, ≥ 0]."""

    charge_wh: FloatArray  # taken from the site (the surplus), before losses
    discharge_wh: FloatArray  # delivered to the site (the deficit), after losses
    stored_wh: FloatArray  # energy held at the end of each interval
    peak_stored_wh: float = 0.0  # the most the forward pass held: a battery this large is never full


def dispatch_self_consumption(
    residual_wh: npt.ArrayLike,
    *,
    capacity_wh: float,
    power_w: float,
    interval_s: int,
    round_trip_efficiency: float = 0.9,
    initial_wh: float = 0.0,
) -> Dispatch:
    """Charge from the surplus and discharge into the deficit of ``residual_wh`` (module docstring).

    ``capacity_wh`` [Wh] and ``power_w`` [W] may be ``math.inf`` (an unlimited battery);
    ``round_trip_efficiency`` in (0, 1]; intervals with a NaN residual (no data) are left alone.
    """
    if capacity_wh < 0 or power_w < 0:
        raise ValueError("capacity and power must be ≥ 0")
    if not 0 < round_trip_efficiency <= 1:
        raise ValueError("round-trip efficiency must be in (0, 1]")
    r = np.asarray(residual_wh, dtype=np.float64)
    n = r.shape[0]
    charge, discharge, stored = np.zeros(n), np.zeros(n), np.zeros(n)
    if n == 0 or capacity_wh == 0 or power_w == 0:
        stored[:] = min(initial_wh, capacity_wh)
        return Dispatch(charge, discharge, stored, float(stored.max()) if n else 0.0)
    eta = math.sqrt(round_trip_efficiency)
    step = power_w * interval_s / 3600.0  # the most one interval can move [Wh]
    e0 = min(float(initial_wh), float(capacity_wh))
    surplus = np.where(r < 0, np.minimum(-r, step), 0.0)  # NaN compares False: left alone
    deficit = np.where(r > 0, np.minimum(r, step), 0.0)
    e = clamped_walk(eta * surplus - deficit / eta, 0.0, float(capacity_wh), e0)  # the forward pass
    e_prev = np.concatenate(([e0], e[:-1]))
    # what moved, by the module docstring's formulas (the capacity or the stock binds where the walk was clamped)
    c_out = np.where(surplus > 0, np.minimum(surplus, (capacity_wh - e_prev) / eta), 0.0)
    d_out = np.where(deficit > 0, np.minimum(deficit, eta * e_prev), 0.0)
    # backward: what must still be stored after each interval to deliver the later discharges
    back = clamped_walk((d_out / eta - eta * c_out)[::-1], 0.0, math.inf, 0.0)
    need = np.concatenate(([0.0], back[:-1]))[::-1]
    r_after = float(back[-1])
    kept = np.minimum(e, need)
    before = np.concatenate(([min(float(initial_wh), r_after)], kept[:-1]))
    charge = np.clip((kept - before + d_out / eta) / eta, 0.0, c_out)
    return Dispatch(charge, d_out, kept, float(e.max()))


def clamped_walk(step_wh: FloatArray, low: float, high: float, start: float) -> FloatArray:
    """``x_t = clip(x_{t−1} + step_t, low, high)`` for every t, from ``x_{−1} = start``, without a
    Python loop: each step is a clamp ``x ↦ clip(x + a, l, h)``, and two clamps compose into one,
    ``g∘f = clip(x + a_f + a_g, clip(l_f + a_g, l_g, h_g), clip(h_f + a_g, l_g, h_g))``, so
    ⌈log₂ n⌉ doubling passes compose every prefix (a Hillis–Steele scan)."""
    a = np.asarray(step_wh, dtype=np.float64).copy()
    n = a.shape[0]
    lo, hi = np.full(n, low), np.full(n, high)
    k = 1
    while k < n:
        pa, plo, phi = a[:-k], lo[:-k], hi[:-k]  # the prefixes ending k steps earlier, applied first
        ca, clo, chi = a[k:], lo[k:], hi[k:]
        new_lo = np.clip(plo + ca, clo, chi)
        new_hi = np.clip(phi + ca, clo, chi)
        a[k:], lo[k:], hi[k:] = pa + ca, new_lo, new_hi
        k *= 2
    return np.clip(start + a, lo, hi)


def equivalent_full_cycles_per_year(discharge_wh: float, capacity_wh: float, days: float) -> float | None:
    """Equivalent full cycles per year: ``ΣD / E_max`` over the period, scaled to 365 days."""
    if capacity_wh <= 0 or days <= 0 or math.isinf(capacity_wh):
        return None
    return discharge_wh / capacity_wh * 365.0 / days
