"""Period metrics of one scope from its per-interval flows. Pure numpy; units in the names.

Definitions (docs/metrics.md has the references):

- self-sufficiency = ΣLl / ΣL (= 1 − ΣLg / ΣL, autarky);
- self-consumption = 1 − ΣX / ΣG;
- load cover factor γ_load = Σ max(min(G − Sl, L), 0) / ΣL and supply cover factor
  γ_supply = Σ max(min(G − Sl, L), 0) / ΣG, with Sl the storage balance *of local origin*
  (charge from generation minus discharge of the local pool, :mod:`autonomy.flows`): after Salom
  et al. 2011, 2014, whose S is the whole storage balance; grid energy cycled through a battery
  is neither generation nor cover, so γ_supply ≤ self-consumption (the gap: storage losses);
- time autonomy = share of the intervals with data (``counted``) whose import is below
  ``IMPORT_TOLERANCE_WH`` (1 − loss-of-load probability);
- grid interaction index = σ(e) / max|e| with e = I − X per interval (Salom et al. 2011);
- net balance = ΣG − ΣL [Wh] and ratio ΣG / ΣL;
- peak import [W] = max I × 3600 / interval;
- avoided CO2 [kg] = ΣG [kWh] × factor [g/kWh] / 1000.

A ratio whose denominator is zero is ``None`` (undefined), never 0 or 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy.counters import FloatArray

IMPORT_TOLERANCE_WH = 1.0  # an interval importing less than this counts as autonomous


@dataclass(frozen=True)
class Metrics:
    """Headline metrics of one scope over one period. Energies [Wh], ratios in [0, 1]."""

    load_wh: float
    generation_wh: float
    generation_by_source_wh: dict[str, float]
    import_wh: float
    export_wh: float
    charge_wh: float
    discharge_wh: float
    charge_from_grid_wh: float
    local_supply_wh: float
    grid_supply_wh: float
    self_sufficiency: float | None
    self_consumption: float | None
    load_cover_factor: float | None
    supply_cover_factor: float | None
    time_autonomy: float | None
    grid_interaction_index: float | None
    net_balance_wh: float
    net_balance_ratio: float | None
    peak_import_w: float
    peak_import_ms: int | None  # start of the interval of the peak [UTC ms]
    avoided_co2_kg: float


def _ratio(num: float, den: float) -> float | None:
    if den <= 0:
        return None
    return float(min(max(num / den, 0.0), 1.0))


def period_metrics(
    *,
    generation_by_source_wh: dict[str, FloatArray],
    load_wh: FloatArray,
    charge_wh: FloatArray,
    discharge_wh: FloatArray,
    import_wh: FloatArray,
    export_wh: FloatArray,
    grid_supply_wh: FloatArray,
    charge_from_grid_wh: FloatArray,
    start_ms: int,
    interval_s: int,
    emission_factor_g_per_kwh: float,
    counted: npt.NDArray[np.bool_] | None = None,
    cover_wh: FloatArray | None = None,
    local_storage_wh: FloatArray | None = None,
) -> Metrics:
    """Metrics from per-interval flows [Wh]; ``counted`` (bool per interval) limits time autonomy
    to the intervals that have data; ``cover_wh`` is max(min(G − Sl, L), 0) per interval when it
    must be summed site by site (the sum of sites alone), else it is taken from the totals with
    ``local_storage_wh`` (Sl; without it, the whole storage balance C − D)."""
    n = load_wh.shape[0]
    g = np.sum(list(generation_by_source_wh.values()), axis=0) if generation_by_source_wh else np.zeros(n)
    sum_l, sum_g = float(load_wh.sum()), float(np.sum(g))
    sum_i, sum_x = float(import_wh.sum()), float(export_wh.sum())
    sum_lg = float(min(grid_supply_wh.sum(), sum_l))
    if cover_wh is None:
        sl = local_storage_wh if local_storage_wh is not None else charge_wh - discharge_wh
        cover_wh = np.maximum(np.minimum(g - sl, load_wh), 0.0)
    cover = float(np.sum(cover_wh))
    e = import_wh - export_wh
    peak_e = float(np.max(np.abs(e))) if n else 0.0
    gii = float(np.std(e) / peak_e) if peak_e > 0 else (0.0 if n else None)
    mask = np.ones(n, dtype=bool) if counted is None else counted.astype(bool)
    n_counted = int(mask.sum())
    autonomous = int(((import_wh < IMPORT_TOLERANCE_WH) & mask).sum())
    peak_idx = int(np.argmax(import_wh)) if n else 0
    peak_wh = float(import_wh[peak_idx]) if n else 0.0
    return Metrics(
        load_wh=sum_l,
        generation_wh=sum_g,
        generation_by_source_wh={k: float(v.sum()) for k, v in sorted(generation_by_source_wh.items())},
        import_wh=sum_i,
        export_wh=sum_x,
        charge_wh=float(charge_wh.sum()),
        discharge_wh=float(discharge_wh.sum()),
        charge_from_grid_wh=float(charge_from_grid_wh.sum()),
        local_supply_wh=sum_l - sum_lg,
        grid_supply_wh=sum_lg,
        self_sufficiency=_ratio(sum_l - sum_lg, sum_l),
        self_consumption=_ratio(sum_g - min(sum_x, sum_g), sum_g),
        load_cover_factor=_ratio(cover, sum_l),
        supply_cover_factor=_ratio(cover, sum_g),
        time_autonomy=(autonomous / n_counted) if n_counted else None,
        grid_interaction_index=gii,
        net_balance_wh=sum_g - sum_l,
        net_balance_ratio=(sum_g / sum_l) if sum_l > 0 else None,
        peak_import_w=peak_wh * 3600.0 / interval_s,
        peak_import_ms=(start_ms + peak_idx * interval_s * 1000) if peak_wh > 0 else None,
        avoided_co2_kg=sum_g / 1000.0 * emission_factor_g_per_kwh / 1000.0,
    )
