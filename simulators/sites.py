"""A site's devices as one physical system whose energy balance closes.

Pure computation (numpy), no I/O. For every site, per fixed step of :data:`STEP_S` seconds
counted from :data:`EPOCH_S` (2024-01-01T00:00Z):

- loads, PV, wind, hydro and CHP are evaluated at the step's midpoint (their step power P̄);
- the battery is dispatched on the site's net load L̄ − Ḡ (:mod:`simulators.battery`), its power
  constant over the step;
- the grid connection point takes the rest: P_grid = L − G − P_battery (+ import, − export).

Energy counters are the running sums of the step powers from the epoch, plus a per-device
starting value, read between steps by linear interpolation; so for every interval, on counters::

    Δconsumed = Δproduced + Δdischarged − Δcharged + Δimport − Δexport     (exactly)

Instantaneous values at any instant t are the models evaluated at t (grid: L(t) − G(t) − P_bat),
so the live service and the backfill agree for any t, at any resolution.

History is not kept: :class:`SiteEngine` carries the running totals forward in chunks and keeps
only the window of steps it was last asked about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ville_autonome.configuration.topology import DeviceConfig, SiteConfig
from ville_autonome.simulators import battery as bat
from ville_autonome.simulators import physics as ph
from ville_autonome.simulators.noise import FloatArray, centred_noise, hash_uniform, key_of
from ville_autonome.simulators.scenario import (
    BatterySpec,
    ChpSpec,
    DeviceSpec,
    HydroSpec,
    LoadSpec,
    MeterSpec,
    PvSpec,
    WindSpec,
)

EPOCH_S = 1_704_067_200  # 2024-01-01T00:00:00Z
STEP_S = 900
CHUNK_STEPS = 96 * 60  # 60 days per vectorised pass when catching up
FREQUENCY_KEY = key_of("grid-frequency")
PHASE_SPLIT = (0.34, 0.33, 0.33)  # share of a three-phase flow on L1, L2, L3

COUNTERS = {
    "load": ("energy_consumed_wh",),
    "production": ("energy_produced_wh",),
    "battery": ("energy_charged_wh", "energy_discharged_wh"),
    "meter": ("energy_import_wh", "energy_export_wh"),
}


@dataclass(frozen=True, slots=True)
class SimDevice:
    """One device of a site, with its parameters (pure data)."""

    config: DeviceConfig
    spec: DeviceSpec
    key: int

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def kind(self) -> str:
        """load, production, battery or meter."""
        if isinstance(self.spec, MeterSpec):
            return "meter"
        if isinstance(self.spec, LoadSpec):
            return "load"
        if isinstance(self.spec, BatterySpec):
            return "battery"
        return "production"

    @property
    def rated_power_w(self) -> float:
        spec = self.spec
        return spec.peak_w if isinstance(spec, LoadSpec) else spec.rated_power_w

    def counter_base_wh(self, seed: int) -> float:
        """The counter's value at the epoch: a deterministic 100–1000 kWh per device."""
        return float(np.round(1e5 + 9e5 * hash_uniform(seed, self.key, [0])[0]))


def physics_params(spec: DeviceSpec) -> object:
    """The physics parameter object of a device spec."""
    if isinstance(spec, LoadSpec):
        return ph.LoadParams(spec.profile, spec.peak_w, spec.base_fraction, spec.winter_gain)
    if isinstance(spec, PvSpec):
        return ph.PvParams(spec.peak_w, spec.rated_power_w)
    if isinstance(spec, WindSpec):
        return ph.WindParams(spec.rated_power_w, spec.mean_speed_m_s)
    if isinstance(spec, HydroSpec):
        return ph.HydroParams(
            spec.rated_power_w,
            spec.design_flow_m3_s,
            spec.nominal_head_m,
            spec.mean_river_flow_m3_s,
            spec.reserved_flow_m3_s,
        )
    if isinstance(spec, ChpSpec):
        return ph.ChpParams(spec.rated_power_w)
    if isinstance(spec, BatterySpec):
        return bat.BatteryParams(spec.capacity_wh, spec.rated_power_w, initial_soc_pct=spec.initial_soc_pct)
    return None


def device_power(dev: SimDevice, t_s: FloatArray, seed: int) -> dict[str, FloatArray]:
    """Instantaneous model outputs of a load or production device; ``active_power_w`` always present."""
    spec, key = dev.spec, dev.key
    if isinstance(spec, LoadSpec):
        p = physics_params(spec)
        assert isinstance(p, ph.LoadParams)
        return {"active_power_w": ph.load_power_w(t_s, p, seed, key)}
    if isinstance(spec, PvSpec):
        pv = physics_params(spec)
        assert isinstance(pv, ph.PvParams)
        power, ghi = ph.pv_power_w(t_s, pv, seed, key)
        return {"active_power_w": power, "irradiance_w_m2": ghi}
    if isinstance(spec, WindSpec):
        w = physics_params(spec)
        assert isinstance(w, ph.WindParams)
        speed = ph.wind_speed_m_s(t_s, w, seed, key)
        return {"active_power_w": ph.wind_power_w(speed, w), "wind_speed_m_s": speed}
    if isinstance(spec, HydroSpec):
        hp = physics_params(spec)
        assert isinstance(hp, ph.HydroParams)
        h = ph.hydro(t_s, hp, seed, key)
        return {
            "active_power_w": h.power_w,
            "flow_m3_s": h.turbine_flow_m3_s,
            "river_flow_m3_s": h.river_flow_m3_s,
            "head_m": h.head_m,
            "water_level_m": h.water_level_m,
            "efficiency": h.efficiency,
            "operating_state": h.state,
            "alarm_flags": h.alarms,
            "temperature_c": h.temperature_c,
        }
    if isinstance(spec, ChpSpec):
        cp = physics_params(spec)
        assert isinstance(cp, ph.ChpParams)
        c = ph.chp(t_s, cp, seed, key)
        return {
            "active_power_w": c.power_w,
            "gas_flow_m3_h": c.gas_flow_m3_h,
            "heat_power_w": c.heat_power_w,
            "running": c.running,
        }
    raise TypeError(f"device {dev.id!r} ({spec.model}) has no power model of its own")


def electrics(power_w: FloatArray, t_s: FloatArray, seed: int, key: int, pf: float = 0.95) -> dict[str, FloatArray]:
    """Three-phase detail for a power flow [W]: phase voltages [V], currents [A], powers, PF, frequency [Hz]."""
    out: dict[str, FloatArray] = {}
    pf_arr = pf + 0.02 * centred_noise(seed, key + 21, t_s, 900.0)
    for i, share in enumerate(PHASE_SPLIT, start=1):
        v = 230.0 + 3.0 * centred_noise(seed, key + 30 + i, t_s, 120.0)
        p = power_w * share
        out[f"voltage_l{i}_v"] = v
        out[f"active_power_l{i}_w"] = p
        out[f"current_l{i}_a"] = np.abs(p) / (v * pf_arr)
    out["power_factor"] = pf_arr
    out["apparent_power_va"] = np.abs(power_w) / pf_arr
    out["reactive_power_var"] = np.abs(power_w) * np.tan(np.arccos(pf_arr)) * np.sign(power_w)
    out["frequency_hz"] = 50.0 + 0.03 * centred_noise(seed, FREQUENCY_KEY, t_s, 10.0)
    return out


@dataclass
class _Window:
    k0: int
    k1: int
    pbar: dict[str, FloatArray]  # device id → step power [W] (n)
    cum: dict[str, dict[str, FloatArray]]  # device id → counter → cumulative Wh since epoch at step starts (n+1)
    soc: FloatArray  # battery SoC at step starts (n+1); empty when the site has no battery


@dataclass
class SiteEngine:
    """The running physics of one site (see the module docstring)."""

    site: SiteConfig
    devices: list[SimDevice]
    seed: int
    _k: int = 0  # frontier: totals below are at the start of step _k
    _totals: dict[str, dict[str, float]] = field(default_factory=dict)
    _soc: float = 50.0
    _window: _Window | None = None

    def __post_init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._k = 0
        self._totals = {d.id: dict.fromkeys(COUNTERS[d.kind], 0.0) for d in self.devices}
        b = self.battery
        self._soc = b.spec.initial_soc_pct if b is not None and isinstance(b.spec, BatterySpec) else 50.0
        self._window = None

    @property
    def battery(self) -> SimDevice | None:
        return next((d for d in self.devices if d.kind == "battery"), None)

    def _steps(self, k0: int, k1: int) -> _Window:
        """Compute steps k0..k1 from the frontier (k0 must equal it) and move the frontier to k1."""
        assert k0 == self._k
        n = k1 - k0
        mid = EPOCH_S + (np.arange(k0, k1, dtype=np.float64) + 0.5) * STEP_S
        pbar: dict[str, FloatArray] = {}
        load = np.zeros(n)
        gen = np.zeros(n)
        for d in self.devices:
            if d.kind == "load":
                pbar[d.id] = device_power(d, mid, self.seed)["active_power_w"]
                load += pbar[d.id]
            elif d.kind == "production":
                pbar[d.id] = device_power(d, mid, self.seed)["active_power_w"]
                gen += pbar[d.id]
        b = self.battery
        soc = np.zeros(0)
        p_bat = np.zeros(n)
        if b is not None:
            params = physics_params(b.spec)
            assert isinstance(params, bat.BatteryParams)
            p_bat, soc_start = bat.simulate(load - gen, ph.local_hour(mid), STEP_S, params, self._soc)
            end_soc = bat.soc_after(float(soc_start[-1]), float(p_bat[-1]), STEP_S / 3600.0, params) if n else self._soc
            soc = np.append(soc_start, end_soc)
            self._soc = end_soc
            pbar[b.id] = p_bat
        grid = load - gen - p_bat
        dt_h = STEP_S / 3600.0
        cum: dict[str, dict[str, FloatArray]] = {}
        for d in self.devices:
            if d.kind == "meter":
                pbar[d.id] = grid
                flows = {"energy_import_wh": np.maximum(grid, 0.0), "energy_export_wh": np.maximum(-grid, 0.0)}
            elif d.kind == "battery":
                flows = {"energy_charged_wh": np.maximum(-p_bat, 0.0), "energy_discharged_wh": np.maximum(p_bat, 0.0)}
            elif d.kind == "load":
                flows = {"energy_consumed_wh": pbar[d.id]}
            else:
                flows = {"energy_produced_wh": pbar[d.id]}
            cum[d.id] = {}
            for name, flow in flows.items():
                start = self._totals[d.id][name]
                series = np.concatenate(([start], start + np.cumsum(flow * dt_h)))
                cum[d.id][name] = series
                self._totals[d.id][name] = float(series[-1])
        self._k = k1
        return _Window(k0, k1, pbar, cum, soc)

    def window(self, k0: int, k1: int) -> _Window:
        """A window covering steps k0..k1 (k0 < k1): the current one, extended, or computed afresh."""
        w = self._window
        if w is not None and w.k0 <= k0 and k1 <= w.k1:
            return w
        if w is not None and w.k0 <= k0 <= w.k1 == self._k:
            ext = self._steps(self._k, k1)
            cut = k0 - w.k0
            pbar = {d: np.concatenate((w.pbar[d][cut:], ext.pbar[d])) for d in ext.pbar}
            cum = {d: {n: np.concatenate((w.cum[d][n][cut:-1], ext.cum[d][n])) for n in ext.cum[d]} for d in ext.cum}
            soc = np.concatenate((w.soc[cut:-1], ext.soc)) if w.soc.size else ext.soc
            self._window = _Window(k0, k1, pbar, cum, soc)
            return self._window
        if k0 < self._k:
            self._reset()
        while self._k < k0:
            self._steps(self._k, min(k0, self._k + CHUNK_STEPS))
        self._window = self._steps(k0, k1)
        return self._window

    def evaluate(
        self, t_s: FloatArray, *, detail: bool = False, window_steps: int = 96
    ) -> dict[str, dict[str, FloatArray]]:
        """Every device's quantities at the instants ``t_s`` (sorted epoch seconds ≥ the epoch).

        ``detail`` adds the three-phase electrics of meters and inverters (live registers).
        """
        t_s = np.asarray(t_s, dtype=np.float64)
        if t_s.size and t_s[0] < EPOCH_S:
            raise ValueError(f"the simulators start at {EPOCH_S} s (2024-01-01T00:00Z), asked {t_s[0]:.0f}")
        k = np.floor((t_s - EPOCH_S) / STEP_S).astype(np.int64)
        k_lo = int(k.min()) if k.size else 0
        k_hi = int(k.max()) + 1 if k.size else 1
        w = self._window
        if w is None or not (w.k0 <= k_lo and k_hi <= w.k1):
            w = self.window(k_lo, max(k_hi, k_lo + window_steps))
        idx = k - w.k0
        frac_h = (t_s - (EPOCH_S + k * STEP_S)) / 3600.0
        out: dict[str, dict[str, FloatArray]] = {}
        load = np.zeros_like(t_s)
        gen = np.zeros_like(t_s)
        for d in self.devices:
            if d.kind in ("load", "production"):
                q = device_power(d, t_s, self.seed)
                out[d.id] = q
                if d.kind == "load":
                    load = load + q["active_power_w"]
                else:
                    gen = gen + q["active_power_w"]
        p_bat = np.zeros_like(t_s)
        b = self.battery
        if b is not None:
            p_bat = w.pbar[b.id][idx]
            params = physics_params(b.spec)
            assert isinstance(params, bat.BatteryParams)
            soc0, soc1 = w.soc[idx], w.soc[idx + 1]
            soc = soc0 + (soc1 - soc0) * frac_h * 3600.0 / STEP_S
            out[b.id] = {"active_power_w": p_bat, "soc_pct": soc}
        grid = load - gen - p_bat
        for d in self.devices:
            if d.kind == "meter":
                out[d.id] = {"active_power_w": grid}
            base = d.counter_base_wh(self.seed)
            for name, series in w.cum[d.id].items():
                slope = (series[idx + 1] - series[idx]) / (STEP_S / 3600.0)
                out[d.id][name] = base + series[idx] + slope * frac_h
            if detail and d.kind in ("meter", "load", "production"):
                pf = 0.98 if d.kind == "production" else 0.95
                out[d.id].update(electrics(out[d.id]["active_power_w"], t_s, self.seed, d.key, pf))
        return out


def build_engines(sites: list[SiteConfig], specs: dict[str, DeviceSpec], seed: int) -> list[SiteEngine]:
    """One engine per site, with the devices' parameters."""
    engines = []
    for site in sites:
        devices = [SimDevice(dev, specs[dev.id], key_of(dev.id)) for dev in site.devices]
        engines.append(SiteEngine(site, devices, seed))
    return engines
