"""The rooftop unit's power curve and the site wind profile, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ville_autonome.planning.wind_curve import (
    QUANTILES,
    ROOFTOP_UNIT,
    PowerCurve,
    WindSite,
    expected_share,
    mean_speed_m_s,
    rooftop_wind_wh_per_kw,
)

SIMPLE = PowerCurve(points=((3.0, 0.0), (5.0, 0.5), (10.0, 1.0)), cut_out_m_s=20.0)
T0 = 1_767_222_000_000  # 2026-01-01T00:00+01:00


def test_below_cut_in_and_from_cut_out_nothing() -> None:
    assert SIMPLE.share([0.0, 1.0, 2.99, 20.0, 30.0, math.nan]).tolist() == [0, 0, 0, 0, 0, 0]
    assert ROOFTOP_UNIT.share([2.4, 25.0, 40.0]).tolist() == [0, 0, 0]


def test_rated_plateau_from_rated_to_cut_out() -> None:
    assert SIMPLE.share([10.0, 15.0, 19.99]).tolist() == [1, 1, 1]
    assert ROOFTOP_UNIT.share([12.0, 18.0, 24.9]).tolist() == [1, 1, 1]


def test_linear_between_points() -> None:
    # 4 m/s: half-way from (3, 0) to (5, 0.5) → 0.25; 7.5 m/s: half-way from (5, 0.5) to (10, 1) → 0.75
    assert SIMPLE.share([4.0, 7.5]).tolist() == pytest.approx([0.25, 0.75])
    # the rooftop unit, 5.5 m/s: half-way from 0.0639 to 0.1170
    assert ROOFTOP_UNIT.share(5.5).item() == pytest.approx((0.0639 + 0.1170) / 2)


def test_the_rooftop_points_follow_the_documented_cubic_law() -> None:
    # (v³ − 2.5³) / (12³ − 2.5³) at each point, to the 4 decimals of the table
    for v, share in ROOFTOP_UNIT.points:
        assert share == pytest.approx((v**3 - 2.5**3) / (12.0**3 - 2.5**3), abs=5e-5)
    assert (ROOFTOP_UNIT.cut_in_m_s, ROOFTOP_UNIT.rated_m_s, ROOFTOP_UNIT.cut_out_m_s) == (2.5, 12.0, 25.0)


def test_bad_curves_are_refused() -> None:
    with pytest.raises(ValueError, match="increasing"):
        PowerCurve(points=((5.0, 0.0), (3.0, 1.0)), cut_out_m_s=20.0)
    with pytest.raises(ValueError, match="rated"):
        PowerCurve(points=((3.0, 0.0), (5.0, 0.9)), cut_out_m_s=20.0)
    with pytest.raises(ValueError, match="cut-out"):
        PowerCurve(points=((3.0, 0.0), (5.0, 1.0)), cut_out_m_s=5.0)


def test_the_season_swings_the_mean_speed() -> None:
    # mid-January (day 15 since a 1 January): +20 %; mid-July, half a year later: −20 %
    jan15 = T0 + 14 * 86_400_000 + 3_600_000  # 2026-01-15T00:00Z, the middle of a day-long interval
    assert mean_speed_m_s(jan15, 1, 86_400).item() == pytest.approx(6.0, rel=1e-3)
    july = jan15 + int(365.24 / 2 * 86_400_000)
    assert mean_speed_m_s(july, 1, 86_400).item() == pytest.approx(4.0, rel=1e-3)


def test_expected_share_is_the_curve_averaged_over_the_quantile_speeds() -> None:
    # by hand for one mean speed: the Weibull (k = 2) quantiles at the middles of equal bins, then the curve
    mean = 5.0
    scale = mean / math.gamma(1.5)
    speeds = [scale * math.sqrt(-math.log(1 - (j + 0.5) / QUANTILES)) for j in range(QUANTILES)]
    by_hand = sum(SIMPLE.share(v).item() for v in speeds) / QUANTILES
    assert expected_share([mean], SIMPLE).tolist() == pytest.approx([by_hand])
    # the quantile speeds average to the mean speed (to the bins' resolution)
    assert sum(speeds) / QUANTILES == pytest.approx(mean, rel=0.01)


def test_a_year_of_the_rooftop_unit() -> None:
    # 1 kW over a year of hours: between 0 and 8 760 kWh, a small-wind capacity factor (mean 5 m/s)
    wh = rooftop_wind_wh_per_kw(T0, 8760, 3600)
    capacity_factor = wh.sum() / 8_760_000
    assert 0.05 < capacity_factor < 0.2
    assert wh.min() > 0  # an expected value: some wind in every hour of a year
    calm = rooftop_wind_wh_per_kw(T0, 24, 3600, site=WindSite(mean_speed_m_s=0.0))
    assert not calm.any()
    assert np.all(wh <= 1000.0)
