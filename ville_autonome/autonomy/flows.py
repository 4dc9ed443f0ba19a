"""Site energy flows per interval and their attribution to local or grid supply. Pure numpy.

Per interval, with load L, local generation G, battery charge C and discharge D, grid import I and
export X (all [Wh], ≥ 0) and the balance G + D + I = L + C + X:

- a site without a grid meter gets I and X from its balance (flag ``grid_derived``); a missing
  grid-meter interval likewise (status ``IMPUTED``); a site without a consumption meter gets L
  from its balance (flag ``load_derived``); a missing consumption interval, or the one missing
  producer of an interval, gets its energy from the balance when every other side has data;
- a draw no measured source explains ``U = max(L + C + X − G − D − I, 0)`` (meters out of step
  within the balance tolerance, an open interval) is taken as import, ``I' = I + U``: local supply
  never exceeds what the local sources delivered;
- charge from the grid ``Cg = clip(C − max(G − L, 0), 0, I')``: generation serves the load first,
  then the battery; the rest of the charge came from the grid;
- import serving the load directly ``Id = clip(I' − Cg, 0, L)``;
- discharge serving the load ``Dl = clip(min(D, L − min(G, L) − Id), 0, ·)``;
- ρ, the grid share of each interval's discharge, from the battery's stock by origin
  (:mod:`autonomy.stock`: charge adds to the grid or local pool, discharge takes from both in
  proportion);
- grid supply of the load ``Lg = min(Id + ρ·Dl, L)`` and local supply ``Ll = L − Lg``;
- the storage balance of local origin ``Sl = (C − Cg) − (1 − ρ)·D`` (charge from generation minus
  discharge of the local pool), for the cover factors.

So self-sufficiency ``ΣLl / ΣL`` stays in [0, 1] whatever the battery does, and grid energy that
went through a battery never counts as local.

Netting across sites (district, city): the scope's import is ``max(Σ(I_s − X_s), 0)``; each site's
grid terms are scaled by ``k = I_scope / ΣI_s`` — the community import shared pro rata of the
sites' imports (the default allocation key of French collective self-consumption). Every scaled
term is ≤ its site value, so a scope is never less self-sufficient than the sum of its sites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ville_autonome.autonomy.counters import BoolArray, FloatArray, Status
from ville_autonome.autonomy.inputs import SiteInputs
from ville_autonome.autonomy.stock import grid_share_of_discharge


@dataclass(frozen=True)
class SiteFlows:
    """One site's flows per interval [Wh, ≥ 0] (see the module docstring for the symbols)."""

    site: str
    district: str
    generation_by_source_wh: dict[str, FloatArray]
    generation_wh: FloatArray  # G
    load_wh: FloatArray  # L
    charge_wh: FloatArray  # C
    discharge_wh: FloatArray  # D
    import_wh: FloatArray  # I
    export_wh: FloatArray  # X
    flags: tuple[str, ...]
    counted: BoolArray  # no device of the site is missing in the interval
    metered: BoolArray  # every side of the balance measured by a counter: the residual means something
    has_data: BoolArray  # at least one device of the site has data in the interval
    sides_known: BoolArray  # grid and load both from their meters (measured or imputed), not derived


@dataclass(frozen=True)
class Attribution:
    """Who supplied the load, per interval [Wh], summed over the sites of a scope."""

    grid_supply_wh: FloatArray  # Lg: load met by the grid, directly or through a battery
    local_supply_wh: FloatArray  # Ll = L − Lg
    charge_from_grid_wh: FloatArray  # Cg (after netting)
    discharge_to_load_wh: FloatArray  # Dl
    local_storage_wh: FloatArray  # Sl: storage balance of local origin (Σ over the sites)
    cover_sites_wh: FloatArray  # Σ over the sites of max(min(G − Sl, L), 0): each site alone


def site_flows(site: SiteInputs, n: int) -> SiteFlows:
    """Sum a site's devices by role into its flows; derive what no meter measured."""
    zeros = np.zeros(n)
    by_source: dict[str, FloatArray] = {}
    g, load, c, d, imp, exp = (zeros.copy() for _ in range(6))
    grid_present = np.zeros(n, dtype=bool)
    load_present = np.zeros(n, dtype=bool)
    counted = np.ones(n, dtype=bool)
    metered = np.ones(n, dtype=bool)
    has_data = np.zeros(n, dtype=bool)
    has_grid = has_load = False
    flags: list[str] = []
    producers_missing = np.zeros(n, dtype=np.int64)
    others_present = np.ones(n, dtype=bool)  # storage devices all have data
    for dev in sorted(site.devices, key=lambda x: x.device):
        ok = dev.status != Status.MISSING
        counted &= ok
        has_data |= ok
        metered &= dev.status == Status.MEASURED
        if dev.role == "storage":
            others_present &= ok
        if dev.role == "production":
            key = dev.source or "other"
            by_source[key] = by_source.get(key, zeros) + dev.supply_wh
            g += dev.supply_wh
            producers_missing += ~ok
        elif dev.role == "consumption":
            load += dev.draw_wh
            has_load = True
            load_present |= ok
        elif dev.role == "storage":
            d += dev.supply_wh
            c += dev.draw_wh
        else:
            imp += dev.supply_wh
            exp += dev.draw_wh
            has_grid = True
            grid_present |= ok
    if not site.devices:
        counted[:] = False
    if not (has_load and has_grid):
        metered[:] = False  # the balance closes by construction: nothing to check
    if not has_load:
        flags.append(f"load_derived:{site.site}")
        load = np.maximum(g + d + imp - c - exp, 0.0)
    elif has_grid:
        # a missing consumption interval with a grid reading: take the load from the balance
        fill = ~load_present & grid_present & (producers_missing == 0) & others_present
        load = np.where(fill, np.maximum(g + d + imp - c - exp, 0.0), load)
        # the one missing producer of an interval whose other sides all have data: from the balance
        one = (producers_missing == 1) & load_present & grid_present & others_present
        if one.any():
            gap = np.where(one, np.maximum(load + c + exp - d - imp - g, 0.0), 0.0)
            for dev in site.devices:
                if dev.role == "production":
                    key = dev.source or "other"
                    by_source[key] = by_source[key] + np.where(dev.status == Status.MISSING, gap, 0.0)
            g = g + gap
    net = load + c - g - d  # what the grid must have delivered (+) or taken (−)
    if not has_grid:
        flags.append(f"grid_derived:{site.site}")
        derive = np.ones(n, dtype=bool)
    else:
        derive = ~grid_present
    imp = np.where(derive, np.maximum(net, 0.0), imp)
    exp = np.where(derive, np.maximum(-net, 0.0), exp)
    sides_known = (grid_present & load_present) if (has_grid and has_load) else np.zeros(n, dtype=bool)
    return SiteFlows(
        site.site,
        site.district,
        by_source,
        g,
        load,
        c,
        d,
        imp,
        exp,
        tuple(flags),
        counted,
        metered,
        has_data,
        sides_known,
    )


def unexplained_draw(f: SiteFlows) -> FloatArray:
    """The draw no measured source explains, ``max(L + C + X − G − D − I, 0)`` per interval [Wh]:
    meters out of step within the balance tolerance, an open interval whose meters were last read
    at different instants, a source missing from the data. The attribution takes it as import, so
    local supply never exceeds what the local sources delivered."""
    supply = f.generation_wh + f.discharge_wh + f.import_wh
    return np.maximum(f.load_wh + f.charge_wh + f.export_wh - supply, 0.0)


def _site_terms(f: SiteFlows) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Charge from grid Cg, direct import to load Id, discharge to load Dl of one site [Wh]."""
    surplus = np.maximum(f.generation_wh - f.load_wh, 0.0)
    imp = f.import_wh + unexplained_draw(f)
    cg = np.clip(f.charge_wh - surplus, 0.0, imp)
    idirect = np.clip(imp - cg, 0.0, f.load_wh)
    room = np.maximum(f.load_wh - np.minimum(f.generation_wh, f.load_wh) - idirect, 0.0)
    dl = np.minimum(f.discharge_wh, room)
    return cg, idirect, dl


def import_share(sites: list[SiteFlows]) -> FloatArray:
    """k per interval: the scope's netted import over the sum of the sites' imports (1 when none)."""
    total_import = np.sum([s.import_wh for s in sites], axis=0)
    net = np.sum([s.import_wh - s.export_wh for s in sites], axis=0)
    scope_import = np.maximum(net, 0.0)
    safe = np.where(total_import > 0, total_import, 1.0)
    return np.where(total_import > 0, np.minimum(scope_import / safe, 1.0), 1.0)


def attribute(sites: list[SiteFlows], k: FloatArray) -> Attribution:
    """Attribute the load of ``sites`` to local or grid supply with the import share ``k``
    (``k = 1`` everywhere: each site alone; :func:`import_share`: netted across the sites)."""
    n = k.shape[0]
    grid, load, cg_sum, dl_sum, sl_sum, cover = (np.zeros(n) for _ in range(6))
    for f in sites:
        cg, idirect, dl = _site_terms(f)
        cg, idirect = cg * k, idirect * k
        # ρ: grid share of each interval's discharge, from the stock by origin (1: nothing discharged)
        rho = grid_share_of_discharge(f.charge_wh, cg, f.discharge_wh) if f.discharge_wh.any() else np.ones(n)
        grid += np.minimum(idirect + rho * dl, f.load_wh)
        load += f.load_wh
        cg_sum += cg
        dl_sum += dl
        sl = (f.charge_wh - cg) - (1.0 - rho) * f.discharge_wh
        sl_sum += sl
        cover += np.maximum(np.minimum(f.generation_wh - sl, f.load_wh), 0.0)
    return Attribution(grid, load - grid, cg_sum, dl_sum, sl_sum, cover)
