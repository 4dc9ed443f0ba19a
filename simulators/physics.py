"""Device physics: pure, vectorised functions of UTC time (epoch seconds), parameters and a seed.

No I/O, no configuration. Arrays in, arrays out; units in names and docstrings. Signs follow
docs/conventions.md: production and consumption powers are ≥ 0.

Models:

- calendar helpers: day of year, local (Europe/Paris) hour and weekday, approximated with the
  EU summer-time rule at day-of-year granularity (good to a day twice a year);
- building loads (housing, office, campus, hospital, station): daily and weekly shapes,
  a seasonal factor, smooth noise;
- PV: sun elevation (Cooper's declination, hour angle), Haurwitz clear-sky irradiance
  (GHI = 1098·cos z·exp(−0.057/cos z) W/m², Haurwitz 1945), clouds as smooth noise,
  P = P_peak·GHI/1000·PR capped at the rated power;
- wind: Weibull-distributed hourly speeds (inverse transform of smooth uniforms, shape k = 2)
  and a cubic power curve between cut-in and rated speed;
- run-of-river hydro: seasonal river flow with day-to-day variation, reserved flow, net head
  falling as tailwater rises at high flow, an efficiency curve η(q/q_design), P = ρ·g·q·H·η capped
  at the rated power, stop below the minimum turbine flow, rare deterministic trips;
- green-gas CHP: biogas flow → electrical and heat output with fixed efficiencies, planned stops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ville_autonome.simulators.noise import FloatArray, centred_noise, hash_uniform, value_noise

RHO_WATER_KG_M3 = 1000.0
G_M_S2 = 9.81
DAY_S = 86_400.0
YEAR_DAYS = 365.2425
AMIENS_LAT_DEG = 49.894
AMIENS_LON_DEG = 2.302


# --- calendar -----------------------------------------------------------------------------


def day_of_year(t_s: FloatArray) -> FloatArray:
    """Fractional day of year (0 = 1 January 00:00 UTC), from epoch seconds."""
    days = t_s / DAY_S
    # 1970-01-01 is day 0 of its year; the Gregorian mean year keeps the phase within a day
    return np.mod(days, YEAR_DAYS)


def local_offset_h(t_s: FloatArray) -> FloatArray:
    """Europe/Paris offset from UTC in hours: +2 from ~31 March to ~27 October, else +1."""
    doy = day_of_year(t_s)
    return np.where((doy >= 89.0) & (doy < 299.0), 2.0, 1.0)


def local_hour(t_s: FloatArray) -> FloatArray:
    """Local (Europe/Paris) hour of day in [0, 24)."""
    return np.mod(t_s / 3600.0 + local_offset_h(t_s), 24.0)


def local_weekday(t_s: FloatArray) -> FloatArray:
    """Local weekday, 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday)."""
    days = np.floor((t_s + local_offset_h(t_s) * 3600.0) / DAY_S)
    return np.mod(days + 3.0, 7.0)


def season(t_s: FloatArray) -> FloatArray:
    """+1 in mid-January, −1 in mid-July: cos(2π·(doy − 15)/365.24)."""
    return np.cos(2.0 * np.pi * (day_of_year(t_s) - 15.0) / YEAR_DAYS)


def _bump(hour: FloatArray, centre: float, width: float) -> FloatArray:
    return np.exp(-0.5 * ((hour - centre) / width) ** 2)


# --- loads ----------------------------------------------------------------------------------

LOAD_PROFILES = ("housing", "office", "campus", "hospital", "station", "auxiliary")


@dataclass(frozen=True, slots=True)
class LoadParams:
    profile: str  # one of LOAD_PROFILES
    peak_w: float
    base_fraction: float = 0.3  # night/weekend floor as a share of the peak
    winter_gain: float = 0.25  # relative increase in mid-winter (electric heating, lighting)
    noise: float = 0.05  # relative amplitude of the smooth noise


def load_shape(profile: str, hour: FloatArray, weekday: FloatArray) -> FloatArray:
    """Relative daily/weekly shape in [0, 1] (before base and season)."""
    weekend = weekday >= 5.0
    if profile == "housing":
        return np.clip(0.9 * _bump(hour, 8.0, 1.3) + 1.0 * _bump(hour, 19.5, 2.0) + 0.25 * _bump(hour, 13.0, 2.5), 0, 1)
    if profile in ("office", "campus"):
        work = np.clip((hour - 7.5) / 1.0, 0, 1) * np.clip((18.5 - hour) / 1.5, 0, 1)
        return np.where(weekend, 0.1 * work, work)
    if profile == "hospital":
        day = np.clip((hour - 7.0) / 2.0, 0, 1) * np.clip((20.0 - hour) / 3.0, 0, 1)
        return np.where(weekend, 0.7 * day, day)
    if profile == "station":
        peaks = _bump(hour, 8.0, 1.2) + _bump(hour, 18.0, 1.5) + 0.5 * _bump(hour, 12.5, 2.5)
        open_hours = np.where((hour > 5.0) & (hour < 23.5), 0.3, 0.0)
        return np.clip(np.where(weekend, 0.7, 1.0) * peaks + open_hours, 0, 1)
    if profile == "auxiliary":
        return np.full_like(hour, 0.5)
    raise ValueError(f"unknown load profile {profile!r} (known: {', '.join(LOAD_PROFILES)})")


def load_power_w(t_s: FloatArray, p: LoadParams, seed: int, key: int) -> FloatArray:
    """Building consumption [W], ≥ base: ``peak·(base + (1−base)·shape)·(1 + winter·season⁺)·(1 + noise)``."""
    shape = load_shape(p.profile, local_hour(t_s), local_weekday(t_s))
    seasonal = 1.0 + p.winter_gain * season(t_s)
    noise = 1.0 + p.noise * (0.7 * centred_noise(seed, key, t_s, 600.0) + 0.3 * centred_noise(seed, key + 1, t_s, 60.0))
    power = p.peak_w * (p.base_fraction + (1.0 - p.base_fraction) * shape) * seasonal * noise
    return np.clip(power, p.peak_w * p.base_fraction * 0.5, None) / (1.0 + p.winter_gain)


# --- PV -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PvParams:
    peak_w: float  # DC peak power under standard test conditions
    rated_power_w: float  # AC (inverter) limit
    performance_ratio: float = 0.85
    lat_deg: float = AMIENS_LAT_DEG
    lon_deg: float = AMIENS_LON_DEG


def sun_elevation_sin(t_s: FloatArray, lat_deg: float, lon_deg: float) -> FloatArray:
    """sin of the solar elevation: sin φ·sin δ + cos φ·cos δ·cos ω (Cooper 1969 declination)."""
    doy = day_of_year(t_s)
    decl = np.radians(23.44) * np.sin(2.0 * np.pi * (284.0 + doy) / 365.0)
    solar_hour = np.mod(t_s / 3600.0 + lon_deg / 15.0, 24.0)
    omega = np.radians(15.0 * (solar_hour - 12.0))
    lat = np.radians(lat_deg)
    return np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(omega)


def clear_sky_ghi_w_m2(sin_elev: FloatArray) -> FloatArray:
    """Haurwitz (1945) clear-sky global horizontal irradiance [W/m²]."""
    cz = np.clip(sin_elev, 1e-3, 1.0)
    return np.where(sin_elev > 0.0, 1098.0 * cz * np.exp(-0.057 / cz), 0.0)


def cloud_clearness(t_s: FloatArray, seed: int, key: int) -> FloatArray:
    """Share of clear-sky irradiance that reaches the panels, 0.15–1: cloudier in winter."""
    daily = value_noise(seed, key, t_s, DAY_S)
    hourly = value_noise(seed, key + 7, t_s, 3600.0)
    cloudiness = np.clip(0.45 + 0.15 * season(t_s) + 0.5 * (daily - 0.5) + 0.35 * (hourly - 0.5), 0.0, 1.0)
    return 1.0 - 0.85 * cloudiness


def pv_power_w(t_s: FloatArray, p: PvParams, seed: int, key: int) -> tuple[FloatArray, FloatArray]:
    """(AC power [W] ≥ 0, plane irradiance [W/m²]): P = P_peak·G/1000·PR, capped at the AC rating."""
    ghi = clear_sky_ghi_w_m2(sun_elevation_sin(t_s, p.lat_deg, p.lon_deg)) * cloud_clearness(t_s, seed, key)
    power = np.minimum(p.peak_w * ghi / 1000.0 * p.performance_ratio, p.rated_power_w)
    return power, ghi


# --- wind -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindParams:
    rated_power_w: float
    mean_speed_m_s: float = 4.8
    cut_in_m_s: float = 2.5
    rated_speed_m_s: float = 12.0
    cut_out_m_s: float = 25.0
    weibull_k: float = 2.0


def wind_speed_m_s(t_s: FloatArray, p: WindParams, seed: int, key: int) -> FloatArray:
    """Hub-height wind speed [m/s]: Weibull(k) by inverse transform of smooth uniforms, windier in winter."""
    u = 0.8 * value_noise(seed, key, t_s, 3600.0) + 0.2 * value_noise(seed, key + 3, t_s, 300.0)
    u = np.clip(u, 1e-6, 1.0 - 1e-6)
    mean = p.mean_speed_m_s * (1.0 + 0.2 * season(t_s))
    # Weibull scale from the mean: mean = c·Γ(1 + 1/k); Γ(1.5) = 0.8862 for k = 2
    scale = mean / 0.8862
    return scale * (-np.log(1.0 - u)) ** (1.0 / p.weibull_k)


def wind_power_w(speed_m_s: FloatArray, p: WindParams) -> FloatArray:
    """Power curve [W]: 0 below cut-in and above cut-out, cubic rise to the rated power."""
    v = speed_m_s
    frac = (v**3 - p.cut_in_m_s**3) / (p.rated_speed_m_s**3 - p.cut_in_m_s**3)
    power = p.rated_power_w * np.clip(frac, 0.0, 1.0)
    return np.where((v < p.cut_in_m_s) | (v >= p.cut_out_m_s), 0.0, power)


# --- run-of-river hydro ---------------------------------------------------------------------

HYDRO_STOPPED, HYDRO_RUNNING, HYDRO_TRIPPED = 0, 1, 2
ALARM_LOW_FLOW, ALARM_TRIP, ALARM_HIGH_WATER = 1, 2, 4


@dataclass(frozen=True, slots=True)
class HydroParams:
    rated_power_w: float
    design_flow_m3_s: float
    nominal_head_m: float
    mean_river_flow_m3_s: float
    reserved_flow_m3_s: float  # "débit réservé" left to the river
    min_flow_fraction: float = 0.25  # below q/q_design = this the turbine stops
    peak_efficiency: float = 0.88
    trip_probability_per_day: float = 0.03


def river_flow_m3_s(t_s: FloatArray, p: HydroParams, seed: int, key: int) -> FloatArray:
    """River flow [m³/s]: seasonal (high in winter, low in late summer) × day-to-day log-normal variation."""
    doy = day_of_year(t_s)
    seasonal = 1.0 + 0.55 * np.cos(2.0 * np.pi * (doy - 35.0) / YEAR_DAYS)
    weekly = centred_noise(seed, key, t_s, 7 * DAY_S)
    daily = centred_noise(seed, key + 1, t_s, DAY_S)
    return p.mean_river_flow_m3_s * seasonal * np.exp(0.35 * weekly + 0.15 * daily)


def turbine_efficiency(x: FloatArray, peak: float) -> FloatArray:
    """η(q/q_design): a Kaplan-like curve, flat near the design point, falling at part load; 0 at q = 0."""
    x = np.clip(x, 0.0, 1.2)
    return np.clip(peak * (1.0 - 0.9 * (1.0 - np.minimum(x, 1.0)) ** 2.5 - 0.1 * np.maximum(x - 1.0, 0.0)), 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class HydroState:
    river_flow_m3_s: FloatArray
    turbine_flow_m3_s: FloatArray
    head_m: FloatArray
    water_level_m: FloatArray
    efficiency: FloatArray
    power_w: FloatArray
    state: FloatArray
    alarms: FloatArray
    temperature_c: FloatArray


def hydro(t_s: FloatArray, p: HydroParams, seed: int, key: int) -> HydroState:
    """Run-of-river plant: P = ρ·g·q·H·η [W], capped at the rated power (IEC 60193 notation)."""
    river = river_flow_m3_s(t_s, p, seed, key)
    available = np.maximum(river - p.reserved_flow_m3_s, 0.0)
    q = np.minimum(available, p.design_flow_m3_s)
    ratio = river / p.mean_river_flow_m3_s
    # tailwater rises faster than the upstream level at high flow: the net head shrinks
    head = p.nominal_head_m * np.clip(1.0 - 0.25 * np.maximum(ratio - 1.0, 0.0), 0.3, 1.05)
    low_flow = q < p.min_flow_fraction * p.design_flow_m3_s
    day = np.floor(t_s / DAY_S).astype(np.int64)
    trip_day = hash_uniform(seed, key + 11, day) < p.trip_probability_per_day
    trip_start_h = 6.0 + 12.0 * hash_uniform(seed, key + 12, day)
    hour = np.mod(t_s / 3600.0, 24.0)
    tripped = trip_day & (hour >= trip_start_h) & (hour < trip_start_h + 3.0)
    eta = turbine_efficiency(q / p.design_flow_m3_s, p.peak_efficiency)
    running = ~low_flow & ~tripped
    power = np.where(running, np.minimum(RHO_WATER_KG_M3 * G_M_S2 * q * head * eta, p.rated_power_w), 0.0)
    state = np.where(tripped, HYDRO_TRIPPED, np.where(running, HYDRO_RUNNING, HYDRO_STOPPED)).astype(np.float64)
    alarms = (
        np.where(low_flow, ALARM_LOW_FLOW, 0)
        + np.where(tripped, ALARM_TRIP, 0)
        + np.where(ratio > 2.5, ALARM_HIGH_WATER, 0)
    ).astype(np.float64)
    level = np.clip(0.25 + 0.12 * np.log(np.maximum(ratio, 1e-3)), -1.0, 5.0)
    temp = 18.0 - 6.0 * season(t_s) + 20.0 * power / p.rated_power_w
    return HydroState(
        river_flow_m3_s=river,
        turbine_flow_m3_s=np.where(running, q, 0.0),
        head_m=head,
        water_level_m=level,
        efficiency=np.where(running, eta, 0.0),
        power_w=power,
        state=state,
        alarms=alarms,
        temperature_c=temp,
    )


# --- green-gas CHP --------------------------------------------------------------------------

BIOGAS_LHV_WH_M3 = 6000.0  # ≈ 60 % methane × 9.97 kWh/m³ (lower heating value of CH4)


@dataclass(frozen=True, slots=True)
class ChpParams:
    rated_power_w: float
    electrical_efficiency: float = 0.38
    thermal_efficiency: float = 0.45
    stop_probability_per_day: float = 1.0 / 30.0  # planned maintenance days


@dataclass(frozen=True, slots=True)
class ChpState:
    gas_flow_m3_h: FloatArray
    power_w: FloatArray
    heat_power_w: FloatArray
    running: FloatArray


def chp(t_s: FloatArray, p: ChpParams, seed: int, key: int) -> ChpState:
    """Biogas engine: P_el = flow·LHV·η_el, P_heat = flow·LHV·η_th [W]; flow [m³/h] follows the digester."""
    nominal_flow = p.rated_power_w / (BIOGAS_LHV_WH_M3 * p.electrical_efficiency)
    flow = nominal_flow * (
        0.88 + 0.1 * value_noise(seed, key, t_s, 6 * 3600.0) + 0.02 * value_noise(seed, key + 1, t_s, 60.0)
    )
    day = np.floor(t_s / DAY_S).astype(np.int64)
    stopped = hash_uniform(seed, key + 5, day) < p.stop_probability_per_day
    flow = np.where(stopped, 0.0, flow)
    power = np.minimum(flow * BIOGAS_LHV_WH_M3 * p.electrical_efficiency, p.rated_power_w)
    heat = flow * BIOGAS_LHV_WH_M3 * p.thermal_efficiency
    return ChpState(gas_flow_m3_h=flow, power_w=power, heat_power_w=heat, running=(~stopped).astype(np.float64))
