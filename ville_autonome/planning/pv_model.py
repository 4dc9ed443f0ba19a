"""PV production per kWp where a site has no PV to scale from: a pvlib clear-sky model. Pure.

``pvlib`` (Holmgren, Hansen, Mikofski 2018, *pvlib python*, JOSS 3(29) 884) computes, at the middle
of each interval: the sun's position (``Location.get_solarposition``: NREL's SPA, 0.3–1.3 s for a year
of 15-min intervals on the bench machine, most of the model's time), the clear-sky global
horizontal irradiance (Haurwitz 1945: no atmospheric data needed), its split into direct and
diffuse parts (Erbs et al. 1982), the irradiance on the modules (isotropic sky model, tilt and
azimuth), and the DC power of 1 kWp (PVWatts, ``pdc0`` = 1 kW at 1000 W/m²) less the system
losses. A clear sky is the most a module can see: the profile is scaled by ``clear_sky_ratio`` —
the measured PV yield of the city over the same period when there is one (the model gives the
shape in time, the city's modules the weather), else ``DEFAULT_CLEAR_SKY_RATIO`` (northern France
receives about 60 % of the clear-sky irradiation over a year: PVGIS gives ≈ 1 100 kWh/m² of
global horizontal irradiation at Amiens, the Haurwitz clear sky ≈ 1 800 kWh/m²). Either way the
result is a model, flagged ``pv_modelled:<site>``. The last few profiles are kept in memory
(:data:`CACHED_PROFILES`): scenarios tried one after another over the same window (the staff
page) compute it once.

pvlib (and pandas) come with the ``planning`` extra: :func:`ville_autonome.extras.planning` imports
them when a profile is computed, :class:`~ville_autonome.extras.MissingExtraError` without them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from ville_autonome.extras import planning

FloatArray = npt.NDArray[np.float64]

DEFAULT_CLEAR_SKY_RATIO = 0.6
SYSTEM_LOSSES = 0.14  # PVWatts' default losses (soiling, wiring, mismatch, availability …)
TILT_DEG = 35.0
AZIMUTH_DEG = 180.0  # facing south
CACHED_PROFILES = 8  # a year of 15-min intervals is 0.3 MB


def clear_sky_pv_wh_per_kwp(
    start_ms: int,
    n: int,
    interval_s: int,
    *,
    latitude: float,
    longitude: float,
    tilt_deg: float = TILT_DEG,
    azimuth_deg: float = AZIMUTH_DEG,
) -> FloatArray:
    """Clear-sky energy of 1 kWp per interval [Wh/kWp] (module docstring), intervals of
    ``interval_s`` from ``start_ms`` [UTC ms]. Read-only (shared by the callers with the same
    arguments)."""
    return _profile(start_ms, n, interval_s, latitude, longitude, tilt_deg, azimuth_deg)


@lru_cache(maxsize=CACHED_PROFILES)
def _profile(
    start_ms: int, n: int, interval_s: int, latitude: float, longitude: float, tilt_deg: float, azimuth_deg: float
) -> FloatArray:
    if n == 0:
        return np.zeros(0)
    engines = planning()
    pd, pvlib = engines.pandas, engines.pvlib
    mid = pd.to_datetime(start_ms + (np.arange(n) + 0.5) * interval_s * 1000, unit="ms", utc=True)
    sun = pvlib.location.Location(latitude, longitude).get_solarposition(mid)
    ghi = pvlib.clearsky.haurwitz(sun["apparent_zenith"])["ghi"]
    split = pvlib.irradiance.erbs(ghi, sun["zenith"], np.asarray(mid.day_of_year))
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, sun["apparent_zenith"], sun["azimuth"], split["dni"], ghi, split["dhi"]
    )["poa_global"]
    dc_w = pvlib.pvsystem.pvwatts_dc(poa.clip(lower=0).fillna(0.0), 25.0, 1000.0, -0.004)
    energy = np.asarray(dc_w, dtype=np.float64) * (1.0 - SYSTEM_LOSSES) * interval_s / 3600.0
    out = np.where(np.isfinite(energy) & (energy > 0), energy, 0.0)
    out.setflags(write=False)
    return out
