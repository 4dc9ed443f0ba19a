"""The battery's energy content by origin (grid or local), interval by interval. Pure numpy.

A battery holds energy of two origins: charged from the grid (``Cg``) or from local generation
(``Cl = C − Cg``). Per interval *i* (docs/metrics.md, "Battery origin as a stock"):

- the charge enters the stock first, with the battery's losses taken in proportion:
  ``E'ᵢ = Eᵢ₋₁ + η·Cᵢ`` and ``E'gᵢ = Egᵢ₋₁ + η·Cgᵢ``, with ``η = ΣD / ΣC`` over the window (the
  round-trip efficiency the counters show, ≤ 1), so the stock neither drifts up nor down;
- the discharge takes from both origins in proportion: ``ρᵢ = E'gᵢ / E'ᵢ`` is the grid share of
  what leaves; ``Eᵢ = max(E'ᵢ − Dᵢ, 0)`` and ``Egᵢ = E'gᵢ · Eᵢ / E'ᵢ``;
- energy discharged beyond the stock (``Dᵢ > E'ᵢ``: its charge came before the window, or was
  missed) has an unknown origin and counts as grid: an unknown origin is never claimed as local.

The initial state is an empty stock at the start of the window; the reading layer starts the
window ``WARMUP`` before the period, so the battery has cycled before the first interval counted.

Vectorised: the total stock is a walk reflected at zero (``S − min(0, running min S)``), and the
grid pool is the linear recurrence ``xᵢ = aᵢ·xᵢ₋₁ + bᵢ``, solved in blocks of ``BLOCK`` intervals
(vector steps across blocks, then one scalar step per block): no Python loop over intervals.
"""

from __future__ import annotations

import numpy as np

from ville_autonome.autonomy.counters import FloatArray

BLOCK = 96  # intervals per block of the recurrence (a day at 15 min)


def _linear_recurrence(a: FloatArray, b: FloatArray, x0: float = 0.0) -> FloatArray:
    """``x[i] = a[i]·x[i−1] + b[i]`` with ``x[−1] = x0``, for ``0 ≤ a ≤ 1``."""
    n = a.shape[0]
    if n == 0:
        return np.zeros(0)
    nb = -(-n // BLOCK)
    pad = nb * BLOCK - n
    aa = np.concatenate((a, np.ones(pad))).reshape(nb, BLOCK)
    bb = np.concatenate((b, np.zeros(pad))).reshape(nb, BLOCK)
    prod = np.empty_like(aa)  # Π a within the block up to k
    part = np.empty_like(bb)  # the recurrence within the block from 0
    prod[:, 0], part[:, 0] = aa[:, 0], bb[:, 0]
    for k in range(1, BLOCK):
        prod[:, k] = prod[:, k - 1] * aa[:, k]
        part[:, k] = aa[:, k] * part[:, k - 1] + bb[:, k]
    carry = np.empty(nb)  # x just before each block
    x = x0
    for blk in range(nb):
        carry[blk] = x
        x = prod[blk, -1] * x + part[blk, -1]
    return (prod * carry[:, None] + part).reshape(-1)[:n]


def grid_share_of_discharge(
    charge_wh: FloatArray, charge_from_grid_wh: FloatArray, discharge_wh: FloatArray
) -> FloatArray:
    """ρ per interval: the share of the discharge that came from the grid [0, 1] (module docstring).

    ``charge_wh`` C, ``charge_from_grid_wh`` Cg ≤ C and ``discharge_wh`` D per interval [Wh, ≥ 0].
    Intervals without discharge get the stock's grid share at that moment (1 when empty).
    """
    c = np.asarray(charge_wh, dtype=np.float64)
    cg = np.minimum(np.asarray(charge_from_grid_wh, dtype=np.float64), c)
    d = np.asarray(discharge_wh, dtype=np.float64)
    total_c, total_d = float(c.sum()), float(d.sum())
    eta = min(total_d / total_c, 1.0) if total_c > 0 else 1.0
    walk = np.cumsum(eta * c - d)
    stock = walk - np.minimum(np.minimum.accumulate(walk), 0.0)  # E after each interval, reflected at 0
    before = np.concatenate(([0.0], stock[:-1])) + eta * c  # E' (after the charge, before the discharge)
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = np.where(before > 0, stock / np.where(before > 0, before, 1.0), 0.0)  # E / E'
    grid_after = _linear_recurrence(keep, eta * cg * keep)  # Eg after each interval
    grid_before = np.concatenate(([0.0], grid_after[:-1])) + eta * cg  # E'g
    with np.errstate(invalid="ignore", divide="ignore"):
        pool_share = np.where(before > 0, grid_before / np.where(before > 0, before, 1.0), 1.0)
    from_pool = np.minimum(d, before)
    unknown = d - from_pool  # discharged beyond the stock: origin unknown, counted as grid
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(d > 0, (pool_share * from_pool + unknown) / np.where(d > 0, d, 1.0), pool_share)
    return np.clip(rho, 0.0, 1.0)
