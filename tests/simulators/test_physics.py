"""Physics invariants of the device models and of the site engine (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.simulators.conftest import ConfigFactory
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.simulators import battery as bat
from ville_autonome.simulators import physics as ph
from ville_autonome.simulators.backfill import counter_resolutions, generate
from ville_autonome.simulators.scenario import resolve, scenario_for
from ville_autonome.simulators.sites import EPOCH_S, build_engines

START = int(dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp() * 1000)
DAY_MS = 86_400_000


def _series(config: PlatformConfig, start_ms: int, end_ms: int, step_s: int) -> dict[tuple[str, str], np.ndarray]:
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in generate(config, start_ms, end_ms, step_s):
        assert r.value is not None
        out[(r.device, r.quantity)].append(r.value)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("step_s", [900, 60])
def test_energy_balance_closes_per_site_on_counters(make_config: ConfigFactory, step_s: int) -> None:
    config = make_config()
    days = 20 if step_s == 900 else 2
    s = _series(config, START, START + days * DAY_MS, step_s)
    resolution = counter_resolutions(config)
    for _, site in config.sites():
        load = gen = dis = cha = imp = exp = 0.0
        for dev in site.devices:

            def delta(q: str, d: str = dev.id) -> float:
                return float(s[(d, q)][-1] - s[(d, q)][0])

            if dev.role == "consumption":
                load += delta("energy_consumed_wh")
            elif dev.role == "production":
                gen += delta("energy_produced_wh")
            elif dev.role == "storage":
                dis += delta("energy_discharged_wh")
                cha += delta("energy_charged_wh")
            else:
                imp += delta("energy_import_wh")
                exp += delta("energy_export_wh")
        assert load > 0
        # each counter is floored to its register's resolution: each delta is off by one step at most
        steps = sum((2 if dev.role in ("storage", "grid") else 1) * resolution[dev.id] for dev in site.devices)
        assert load == pytest.approx(gen + dis - cha + imp - exp, rel=1e-9, abs=steps), site.id


def test_instantaneous_balance_closes_and_signs_hold(make_config: ConfigFactory) -> None:
    config = make_config(sites={"quai-innovation", "iko-hydro"})
    s = _series(config, START, START + 3 * DAY_MS, 300)
    load = s[("qi-load", "active_power_w")]
    gen = s[("qi-wind-roof", "active_power_w")] + s[("qi-pv-canopy", "active_power_w")]
    battery = s[("hub-energie-battery", "active_power_w")]
    grid = s[("qi-grid-meter", "active_power_w")]
    np.testing.assert_allclose(load, gen + battery + grid, rtol=1e-9, atol=1e-6)
    assert (load >= 0).all()
    assert (gen >= 0).all()
    assert (s[("iko-turbine", "active_power_w")] >= 0).all()
    assert (grid < 0).any() or (grid > 0).all()  # a grid meter is signed: + import, − export
    assert (s[("iko-grid-meter", "active_power_w")] < 0).any()  # the hydro plant exports


def test_counters_never_decrease(make_config: ConfigFactory) -> None:
    s = _series(make_config(), START, START + 10 * DAY_MS, 900)
    counters = {k: v for k, v in s.items() if k[1].startswith("energy_")}
    assert len(counters) >= 25
    for key, values in counters.items():
        assert (np.diff(values) >= 0).all(), key
        assert values[0] > 0, key  # a real counter never reads 0 (SunSpec acc32 'not implemented')


def test_soc_stays_within_limits_for_a_year(make_config: ConfigFactory) -> None:
    config = make_config(sites={"quai-innovation"})
    year = 365 * DAY_MS
    s = _series(config, START, START + year, 3600)
    soc = s[("hub-energie-battery", "soc_pct")]
    assert soc.min() >= 10.0 - 1e-9
    assert soc.max() <= 95.0 + 1e-9
    assert soc.max() - soc.min() > 30.0  # the battery does work


@settings(max_examples=60, deadline=None)
@given(
    nets=st.lists(st.floats(-500_000, 500_000), min_size=1, max_size=200),
    hours=st.floats(0, 23.99),
    soc0=st.floats(10, 95),
)
def test_battery_dispatch_respects_bounds_for_any_net_load(nets: list[float], hours: float, soc0: float) -> None:
    p = bat.BatteryParams(capacity_wh=200_000, rated_power_w=100_000)
    power, soc = bat.simulate(np.array(nets), np.full(len(nets), hours), 900, p, soc0)
    end = bat.soc_after(float(soc[-1]), float(power[-1]), 0.25, p)
    assert np.all(np.abs(power) <= p.rated_power_w + 1e-6)
    assert soc.min() >= p.soc_min_pct - 1e-9
    assert max(soc.max(), end) <= p.soc_max_pct + 1e-9


def test_hydro_power_never_exceeds_rho_g_q_h_nor_rating() -> None:
    p = ph.HydroParams(150_000, 9.0, 1.9, 8.0, 1.2)
    t = EPOCH_S + np.arange(0, 2 * 365 * 86_400, 1800, dtype=np.float64)
    h = ph.hydro(t, p, 2050, 7)
    bound = ph.RHO_WATER_KG_M3 * ph.G_M_S2 * h.turbine_flow_m3_s * h.head_m
    assert np.all(h.power_w <= bound + 1e-6)
    assert np.all(h.power_w <= p.rated_power_w + 1e-6)
    assert np.all(h.turbine_flow_m3_s <= p.design_flow_m3_s + 1e-9)
    running = h.state == ph.HYDRO_RUNNING
    assert running.mean() > 0.5
    assert (h.state == ph.HYDRO_STOPPED).any()
    assert (h.state == ph.HYDRO_TRIPPED).any()
    # seasonal: more water in February than in September
    doy = ph.day_of_year(t)
    assert h.river_flow_m3_s[(doy > 30) & (doy < 60)].mean() > 1.5 * h.river_flow_m3_s[(doy > 240) & (doy < 270)].mean()


def test_pv_is_zero_at_night_and_bounded() -> None:
    p = ph.PvParams(peak_w=100_000, rated_power_w=90_000)
    t = EPOCH_S + np.arange(0, 365 * 86_400, 600, dtype=np.float64)
    power, _ = ph.pv_power_w(t, p, 1, 2)
    assert power.max() <= 90_000
    assert power.min() >= 0
    night = ph.sun_elevation_sin(t, ph.AMIENS_LAT_DEG, ph.AMIENS_LON_DEG) <= 0
    assert np.all(power[night] == 0)
    assert power.max() > 60_000


def test_wind_power_curve() -> None:
    p = ph.WindParams(rated_power_w=30_000)
    v = np.array([0.0, 2.0, 2.5, 7.0, 12.0, 20.0, 25.0, 30.0])
    w = ph.wind_power_w(v, p)
    assert w[0] == w[1] == w[2] == 0
    assert w[-1] == w[-2] == 0
    assert 0 < w[3] < 30_000
    assert w[4] == w[5] == 30_000


def test_hospital_never_below_its_base() -> None:
    p = ph.LoadParams("hospital", 2_000_000, base_fraction=0.6, winter_gain=0.2)
    t = EPOCH_S + np.arange(0, 365 * 86_400, 900, dtype=np.float64)
    load = ph.load_power_w(t, p, 5, 9)
    assert load.min() > 0.5 * 0.6 * 2_000_000 / 1.2 * 0.9
    assert load.max() <= 2_000_000 * 1.1


def test_generation_is_deterministic_and_seeded(make_config: ConfigFactory) -> None:
    config = make_config(sites={"iko-hydro"})
    a = list(generate(config, START, START + DAY_MS, 900, seed=1))
    b = list(generate(config, START, START + DAY_MS, 900, seed=1))
    c = list(generate(config, START, START + DAY_MS, 900, seed=2))
    assert a == b
    assert a != c


def test_live_engine_agrees_with_backfill_at_any_instant(make_config: ConfigFactory) -> None:
    config = make_config(sites={"quai-innovation"})
    scenario = scenario_for(config)
    t_ms = START + 5 * DAY_MS + 123_456
    backfilled = {(r.device, r.quantity): r.value for r in generate(config, t_ms, t_ms + 999, 1)}  # one instant
    resolution = counter_resolutions(config)
    (engine,) = build_engines([s for _, s in config.sites()], resolve(config, scenario), scenario.seed)
    engine.evaluate(np.array([t_ms / 1000.0 - 7 * 86_400]))  # the live engine has run for a while
    live = engine.evaluate(np.array([t_ms / 1000.0]), detail=True)
    for (device, quantity), value in backfilled.items():
        expected = live[device][quantity][0]
        if quantity.startswith("energy_"):  # what the register shows: floored to its resolution
            step = resolution[device]
            expected = math.floor(expected / step) * step
        assert expected == pytest.approx(value, rel=1e-9), (device, quantity)


def test_the_first_live_register_after_a_backfill_never_reads_below_it(make_config: ConfigFactory) -> None:
    """Backfill counters are floored as the registers floor them: the handover never drops (a drop
    would be booked as a counter reset), even for a device idle across it (PV at night)."""
    config = make_config()
    night = START + 5 * DAY_MS + 2 * 3_600_000  # 02:00 UTC: PV idle
    resolution = counter_resolutions(config)
    for end in (night, night + 12 * 3_600_000):
        last = {(r.device, r.quantity): r.value for r in generate(config, end, end + 999, 1)}
        later = {(r.device, r.quantity): r.value for r in generate(config, end + 60_000, end + 60_999, 1)}
        for key, value in last.items():
            if key[1].startswith("energy_"):
                assert later[key] >= value, key
                assert value % resolution[key[0]] == 0, key


def test_time_before_the_epoch_is_refused(make_config: ConfigFactory) -> None:
    with pytest.raises(ValueError, match="2024-01-01"):
        next(generate(make_config(), (EPOCH_S - 3600) * 1000, EPOCH_S * 1000))


def test_chp_turns_biogas_into_electricity_and_heat() -> None:
    p = ph.ChpParams(rated_power_w=250_000)
    t = EPOCH_S + np.arange(0, 120 * 86_400, 900, dtype=np.float64)
    c = ph.chp(t, p, 3, 4)
    running = c.running == 1.0
    assert running.any()
    assert (~running).any()
    assert np.all(c.power_w[~running] == 0)
    assert np.all(c.heat_power_w[~running] == 0)
    fuel_w = c.gas_flow_m3_h * ph.BIOGAS_LHV_WH_M3
    np.testing.assert_allclose(c.power_w[running], np.minimum(fuel_w * 0.38, 250_000)[running])
    np.testing.assert_allclose(c.heat_power_w, fuel_w * 0.45)
    assert np.all(c.power_w + c.heat_power_w <= fuel_w + 1e-9)  # no more out than the gas brings


def test_scalar_and_vector_noise_paths_are_bit_identical() -> None:
    from ville_autonome.simulators.noise import hash_uniform

    idx = np.random.default_rng(1).integers(-(2**40), 2**40, 500)
    vector = hash_uniform(2050, 123_456_789_123, idx)
    scalar = np.concatenate([hash_uniform(2050, 123_456_789_123, idx[i : i + 1]) for i in range(len(idx))])
    assert np.array_equal(vector, scalar)
    assert vector.min() >= 0.0
    assert vector.max() < 1.0
