"""Small wind where no wind was measured: a rooftop unit's power curve on a documented site wind
profile. Pure numpy.

**The power curve** (:class:`PowerCurve`) is a table of (wind speed [m/s], share of the rated power)
points, the form in which a power curve is published (IEC 61400-12-1 measures it in 0.5 m/s bins;
IEC 61400-2 asks the same of small turbines): zero below the cut-in speed, linear between two
points, the rated power from the rated speed up to the cut-out speed, and zero at and above the
cut-out speed (the unit stops to protect itself).

:data:`ROOFTOP_UNIT` is the platform's reference rooftop unit, the one the lab simulates for the Wind
My Roof unit of the Quai de l'Innovation (``qi-wind-roof``, docs/simulators.md): cut-in 2.5 m/s,
rated 12 m/s, cut-out 25 m/s, and between cut-in and rated the power rising with the cube of the
speed as the wind's kinetic power does, ``P / P_rated = (v³ − v_in³) / (v_rated³ − v_in³)``,
tabulated at every whole m/s (the points below are that formula, rounded to 4 decimals). No
manufacturer's measured curve of a Wind My Roof unit is available to the project: when one is,
its points replace these (data, not code).

**The site wind profile** (:class:`WindSite`): the hub-height speed follows a Weibull distribution
of shape k = 2 (a Rayleigh distribution: the usual assumption for a site without measurements),
mean 5.0 m/s (the lab's ``qi-wind-roof``), windier in winter by the lab's seasonal factor
``1 + 0.2·cos(2π·(day of year − 15) / 365.24)``. For each interval the curve is applied to a
series of speeds — the distribution's quantiles at the middles of :data:`QUANTILES` equal-probability
bins, ``c·(−ln(1 − u))^(1/k)`` with the scale ``c = mean / Γ(1 + 1/k)`` — and averaged: the
**expected** energy of the interval. It is the yield of a typical year, without the calms and
gusts of a real one: smoother in time than real wind, so a scenario on it is optimistic about
self-consumption and storage. It is used only where the city has measured no wind at all, and
flagged ``wind_modelled:<site>`` (docs/planning.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DAY_MS = 86_400_000
YEAR_DAYS = 365.24
QUANTILES = 64  # speeds per interval at which the curve is averaged


@dataclass(frozen=True)
class PowerCurve:
    """(speed [m/s], share of the rated power) points from the cut-in to the rated speed, then a
    plateau up to ``cut_out_m_s``."""

    points: tuple[tuple[float, float], ...]
    cut_out_m_s: float

    def __post_init__(self) -> None:
        speeds = [v for v, _ in self.points]
        shares = [s for _, s in self.points]
        if len(self.points) < 2 or speeds != sorted(set(speeds)):
            raise ValueError("a power curve needs two or more points at increasing speeds")
        if not all(0.0 <= s <= 1.0 for s in shares) or shares[-1] != 1.0:
            raise ValueError("a power curve's shares lie in [0, 1] and end at the rated power (1.0)")
        if self.cut_out_m_s <= speeds[-1]:
            raise ValueError("the cut-out speed is above the rated speed")

    @property
    def cut_in_m_s(self) -> float:
        return self.points[0][0]

    @property
    def rated_m_s(self) -> float:
        return self.points[-1][0]

    def share(self, speed_m_s: npt.ArrayLike) -> FloatArray:
        """Share of the rated power at each speed (module docstring)."""
        v = np.asarray(speed_m_s, dtype=np.float64)
        speeds, shares = zip(*self.points, strict=True)
        out = np.interp(v, speeds, shares)  # 1.0 beyond the rated speed: the plateau
        return np.where((v < self.cut_in_m_s) | (v >= self.cut_out_m_s) | ~np.isfinite(v), 0.0, out)


ROOFTOP_UNIT = PowerCurve(
    points=(
        (2.5, 0.0),
        (3.0, 0.0066),
        (4.0, 0.0283),
        (5.0, 0.0639),
        (6.0, 0.1170),
        (7.0, 0.1912),
        (8.0, 0.2899),
        (9.0, 0.4166),
        (10.0, 0.5749),
        (11.0, 0.7682),
        (12.0, 1.0),
    ),
    cut_out_m_s=25.0,
)


@dataclass(frozen=True)
class WindSite:
    """A hub-height wind climate (module docstring)."""

    mean_speed_m_s: float = 5.0
    weibull_k: float = 2.0
    winter_gain: float = 0.2  # the mean speed's seasonal swing: +20 % in mid-January, −20 % in mid-July


AMIENS_ROOF = WindSite()


def mean_speed_m_s(start_ms: int, n: int, interval_s: int, site: WindSite = AMIENS_ROOF) -> FloatArray:
    """The site's mean hub-height speed at the middle of each interval [m/s]."""
    mid_ms = start_ms + (np.arange(n) + 0.5) * interval_s * 1000
    day_of_year = (mid_ms / DAY_MS) % YEAR_DAYS  # days since 1 January 1970 carry the year's phase to a day
    season = np.cos(2.0 * np.pi * (day_of_year - 15.0) / YEAR_DAYS)
    return site.mean_speed_m_s * (1.0 + site.winter_gain * season)


def expected_share(mean_m_s: npt.ArrayLike, curve: PowerCurve, weibull_k: float = 2.0) -> FloatArray:
    """Expected share of the rated power at each mean speed: the curve averaged over the Weibull
    distribution's quantile speeds (module docstring)."""
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES
    q = (-np.log1p(-u)) ** (1.0 / weibull_k)  # the quantiles of a Weibull of scale 1
    scale = np.asarray(mean_m_s, dtype=np.float64) / math.gamma(1.0 + 1.0 / weibull_k)
    return curve.share(scale[:, None] * q[None, :]).mean(axis=1)


def rooftop_wind_wh_per_kw(
    start_ms: int,
    n: int,
    interval_s: int,
    *,
    curve: PowerCurve = ROOFTOP_UNIT,
    site: WindSite = AMIENS_ROOF,
) -> FloatArray:
    """Expected energy of 1 kW of rooftop wind per interval [Wh/kW], intervals of ``interval_s``
    from ``start_ms`` [UTC ms]."""
    share = expected_share(mean_speed_m_s(start_ms, n, interval_s, site), curve, site.weibull_k)
    return share * 1000.0 * interval_s / 3600.0
