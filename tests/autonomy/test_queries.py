"""autonomy_queries against both real backends: stored counters become the engine's inputs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autonomy.conftest import CityData
from tests.autonomy.stored_data import T0, make_config, readings
from ville_autonome.autonomy import Status, compute_scope
from ville_autonome.autonomy_queries import ScopeError, compute_autonomy, parse_scope, scope_inputs, scope_sites


def counter_at(device: str, quantity: str, t_ms: int) -> float:
    """The generator's counter value of the last reading at or before ``t_ms``."""
    cfg = make_config()
    value = 0.0
    for r in readings(cfg, T0 - 86_400_000, t_ms, 450):
        if r.device == device and r.quantity == quantity:
            value = float(r.value or 0.0)
    return value


def test_device_energies_are_the_counter_rises(city: CityData) -> None:
    end = city.start_ms + 86_400_000
    inputs = scope_inputs(city.store, city.config, "site:town", city.start_ms, end, 900)
    assert inputs.n_intervals == 96
    load = next(d for d in inputs.sites[0].devices if d.device == "town-load")
    day = slice(inputs.warmup, None)
    assert np.all(load.status[day] == Status.MEASURED)
    # readings every 450 s from a boundary: the reading stamped on the day's end closes its last
    # interval, the one on its start closed the interval before (docs/metrics.md, "Interval boundaries")
    expected = counter_at("town-load", "energy_consumed_wh", end) - counter_at(
        "town-load", "energy_consumed_wh", city.start_ms
    )
    assert float(load.draw_wh[day].sum()) == pytest.approx(expected, rel=1e-9)


def test_city_result_is_the_engine_on_the_stored_inputs(city: CityData) -> None:
    r = compute_autonomy(city.store, city.config, "city", city.start_ms, city.end_ms, 900)
    inputs = scope_inputs(city.store, city.config, "city", city.start_ms, city.end_ms, 900)
    direct = compute_scope(inputs, interval_s=900, emission_factor_g_per_kwh=52.0, coverage_threshold=0.9)
    assert r.metrics == direct.metrics
    assert r.complete
    assert r.coverage.ratio == 1.0
    assert set(r.sites) == {"sun", "town", "river"}
    assert r.sum_of_sites is not None
    assert r.metrics.self_sufficiency is not None
    assert r.metrics.self_sufficiency >= (r.sum_of_sites.self_sufficiency or 0.0)
    assert r.sharing_gain_wh > 0  # the river's export covers the town at every hour
    assert r.metrics.generation_by_source_wh.keys() == {"hydro", "pv"}
    assert r.battery is not None
    assert r.battery.soc_pct is not None
    assert "load_derived:river" in r.flags


def test_missing_data_lowers_coverage(city: CityData) -> None:
    # a period after the stored week: nothing measured
    later = city.end_ms + 30 * 86_400_000
    r = compute_autonomy(city.store, city.config, "district:north", later, later + 86_400_000, 900)
    assert r.coverage.missing_share == 1.0
    assert not r.complete
    assert "below_coverage_threshold" in r.flags


def test_thirty_minute_intervals_give_the_same_totals(city: CityData) -> None:
    a = compute_autonomy(city.store, city.config, "district:north", city.start_ms, city.end_ms, 900)
    b = compute_autonomy(city.store, city.config, "district:north", city.start_ms, city.end_ms, 1800)
    assert b.series.load_wh.shape[0] * 2 == a.series.load_wh.shape[0]
    assert b.metrics.load_wh == pytest.approx(a.metrics.load_wh, rel=1e-9)
    assert b.metrics.generation_wh == pytest.approx(a.metrics.generation_wh, rel=1e-9)


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("town", "must be 'city', 'district:<id>' or 'site:<id>'"),
        ("district:", "must be"),
        ("region:x", "must be"),
        ("district:atlantis", "unknown district 'atlantis'"),
        ("site:nowhere", "unknown site 'nowhere'"),
    ],
)
def test_bad_scopes_are_refused_with_a_clear_message(scope: str, message: str) -> None:
    with pytest.raises(ScopeError, match="scope") as info:
        scope_sites(make_config(), scope)
    assert message in str(info.value)


def test_parse_scope() -> None:
    assert parse_scope("city") == ("city", None)
    assert parse_scope("site:sun") == ("site", "sun")
