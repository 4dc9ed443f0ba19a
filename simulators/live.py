"""The live state of simulated devices: model values + run-time commands + faults → register images.

Pure of network I/O (the Modbus and MQTT glue read :attr:`LiveDevice.image` / :attr:`LiveDevice.values`).

Run-time commands make a device leave its model: a battery setpoint (model 124), a hydro stop
command, or an MQTT plug's output switched off (a consumption that stops, a production that no
longer feeds the site). The difference is integrated live, tick by tick: the device's own counters, the battery's
SoC, and the site's grid meter (P_grid = L − G − P_battery must still close), so the physics holds
after a test drives a device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ville_autonome.simulators import battery as bat
from ville_autonome.simulators import register_images as ri
from ville_autonome.simulators import storage_controls as sc
from ville_autonome.simulators.faults import Fault, apply_counter_offsets, apply_spike
from ville_autonome.simulators.physics import HYDRO_STOPPED
from ville_autonome.simulators.scenario import BatterySpec, HydroSpec
from ville_autonome.simulators.sites import COUNTERS, PHASE_SPLIT, SimDevice, SiteEngine, physics_params

HYDRO_CMD_NONE, HYDRO_CMD_START, HYDRO_CMD_STOP, HYDRO_CMD_RESET = 0, 1, 2, 3
# what a device behind an open relay reads: no power, no current (its voltage stays)
SWITCHED = ("active_power_w", "active_power_l1_w", "active_power_l2_w", "active_power_l3_w", "current_a")


@dataclass
class LiveDevice:
    """One served device: its identity, faults, writable state and current image."""

    sim: SimDevice
    site: LiveSite
    identity: ri.Identity
    scales: ri.Scales
    faults: dict[str, Fault] = field(default_factory=dict)
    counter_offsets: dict[str, float] = field(default_factory=dict)
    stuck: tuple[dict[str, float], list[int]] | None = None
    controls: sc.BatteryControls = field(default_factory=sc.BatteryControls)
    hydro_command: int = HYDRO_CMD_NONE
    hydro_stopped: bool = False
    output_off: bool = False  # an MQTT plug's relay opened by a command (simulators.mqtt_devices)
    held_wh: float | None = None  # its energy counter while the output is off
    values: dict[str, float] = field(default_factory=dict)
    image: list[int] = field(default_factory=list)
    sim_ms: int = 0  # the device's own clock at the last update (skewed under clock_skew)

    @property
    def id(self) -> str:
        return self.sim.id

    @property
    def profile(self) -> str:
        return self.identity.profile

    @property
    def register_map(self) -> ri.RegisterMap | None:
        return ri.MAPS.get(self.profile)

    def override_power_w(self, model_w: float, soc_pct: float, dt_h: float) -> float | None:
        """The power a run-time command imposes (W, supply sign), or None to follow the model."""
        spec = self.sim.spec
        if self.output_off or (isinstance(spec, HydroSpec) and self.hydro_stopped):
            return 0.0
        if isinstance(spec, BatterySpec):
            self.controls = self.controls.reverted(self.sim_ms)
            target = sc.commanded_power_w(self.controls, model_w, spec.rated_power_w)
            if target is None:
                return None
            params = physics_params(spec)
            assert isinstance(params, bat.BatteryParams)
            return bat.clamp_power_w(target, soc_pct, max(dt_h, 1.0 / 3600.0), params)
        return None

    def build_image(self, values: dict[str, float]) -> list[int]:
        spec = self.sim.spec
        if self.profile == "sunspec-meter-203":
            return ri.meter_203(self.identity, values, self.scales)
        if self.profile == "sunspec-inverter-103":
            return ri.inverter_103(self.identity, values, self.scales)
        if self.profile == "sunspec-battery-802" and isinstance(spec, BatterySpec):
            return ri.battery_802(
                self.identity, values, self.scales, spec.capacity_wh, spec.rated_power_w, self.controls
            )
        if self.profile == "va-hydro-iko":
            return ri.hydro_iko(values, self.hydro_command, self.sim.rated_power_w)
        return []


@dataclass
class LiveSite:
    """A site's engine plus the live deltas that run-time commands introduced."""

    engine: SiteEngine
    devices: list[LiveDevice] = field(default_factory=list)
    last_t_s: float | None = None
    deltas: dict[tuple[str, str], float] = field(default_factory=dict)  # (device, counter) → Wh
    soc_delta_pct: float = 0.0

    def update(self, t_s: float) -> None:
        """Recompute every device's values and image for simulated time ``t_s`` (epoch seconds)."""
        skews = sorted(
            {0.0, *(d.faults["clock_skew"].param("skew_s") for d in self.devices if "clock_skew" in d.faults)}
        )
        times = np.array([t_s + s for s in skews])
        order = np.argsort(times)
        evaluated = self.engine.evaluate(times[order], detail=True)
        pos = {s: int(np.nonzero(order == i)[0][0]) for i, s in enumerate(skews)}
        now = {dev: {q: float(arr[pos[0.0]]) for q, arr in qs.items()} for dev, qs in evaluated.items()}
        dt_h = 0.0 if self.last_t_s is None else max(t_s - self.last_t_s, 0.0) / 3600.0
        self.last_t_s = t_s
        self._apply_commands(now, dt_h)
        for d in self.devices:
            skew = d.faults["clock_skew"].param("skew_s") if "clock_skew" in d.faults else 0.0
            if skew:
                # the device lives at t + skew: its model values, counters and own clock all read that time
                raw = {q: float(arr[pos[skew]]) for q, arr in evaluated[d.id].items()}
                self._finish(d, raw, t_s + skew)
            else:
                raw = now[d.id]
                self._finish(d, raw, t_s)
            d.sim_ms = round((t_s + skew) * 1000.0)
            self._publish(d, raw)

    def _apply_commands(self, now: dict[str, dict[str, float]], dt_h: float) -> None:
        supply_delta = 0.0
        for d in self.devices:
            kind = d.sim.kind
            if kind == "load" and d.output_off:
                supply_delta += self._switch_off_load(d, now[d.id])
                continue
            if d.held_wh is not None and not d.output_off:
                d.held_wh = None  # switched back on: it counts on from where it stopped
            if kind not in ("production", "battery"):
                continue
            v = now[d.id]
            model_w = v["active_power_w"]
            soc = v.get("soc_pct", 0.0) + self.soc_delta_pct
            live_w = d.override_power_w(model_w, soc, dt_h)
            if kind == "battery":
                # after a setpoint session the automatic dispatch resumes on top of the live offset
                v["soc_pct"] = min(max(soc, 0.0), 100.0)
                v["power_setpoint_w"] = live_w if live_w is not None else model_w
            if live_w is None:
                self._add_counters(d, v, model_w, model_w, dt_h)
                continue
            if d.output_off:
                self._hold_counter(d, v, "energy_produced_wh")
            else:
                self._add_counters(d, v, model_w, live_w, dt_h)
            if kind == "battery" and isinstance(d.sim.spec, BatterySpec):
                params = physics_params(d.sim.spec)
                assert isinstance(params, bat.BatteryParams)
                self.soc_delta_pct += bat.soc_after(soc, live_w, dt_h, params) - bat.soc_after(
                    soc, model_w, dt_h, params
                )
            if kind == "production" and d.hydro_stopped:
                v.update(operating_state=float(HYDRO_STOPPED), flow_m3_s=0.0, efficiency=0.0)
            v["active_power_w"] = live_w
            if d.output_off:
                v.update(dict.fromkeys((q for q in SWITCHED if q in v), 0.0))
            supply_delta += live_w - model_w
        if supply_delta:
            self._rebalance_meters(now, supply_delta, dt_h)

    def _rebalance_meters(self, now: dict[str, dict[str, float]], supply_delta: float, dt_h: float) -> None:
        """The grid meters carry what the commands changed: P_grid = L − G − P_battery still closes."""
        for d in self.devices:
            if d.sim.kind != "meter":
                continue
            v = now[d.id]
            model_grid = v["active_power_w"]
            live_grid = model_grid - supply_delta
            for name, m, li in (
                ("energy_import_wh", max(model_grid, 0.0), max(live_grid, 0.0)),
                ("energy_export_wh", max(-model_grid, 0.0), max(-live_grid, 0.0)),
            ):
                self.deltas[(d.id, name)] = self.deltas.get((d.id, name), 0.0) + (li - m) * dt_h
            pf = v.get("power_factor", 0.95)
            for i, share in enumerate(PHASE_SPLIT, start=1):
                v[f"active_power_l{i}_w"] = live_grid * share
                volts = v.get(f"voltage_l{i}_v", 230.0)
                v[f"current_l{i}_a"] = abs(live_grid * share) / (volts * pf)
            v["apparent_power_va"] = abs(live_grid) / pf
            v["reactive_power_var"] = live_grid * math.tan(math.acos(pf))
            v["active_power_w"] = live_grid

    def _switch_off_load(self, d: LiveDevice, v: dict[str, float]) -> float:
        """A consumption whose output is off: it reads no power and its counter stops; returns the
        power the site no longer draws (W, supply sign)."""
        model_w = v["active_power_w"]
        self._hold_counter(d, v, "energy_consumed_wh")
        v.update(dict.fromkeys((q for q in SWITCHED if q in v), 0.0))
        return model_w

    def _hold_counter(self, d: LiveDevice, v: dict[str, float], name: str) -> None:
        """Keep ``d``'s counter where it was when its output opened: the offset from the model's."""
        key = (d.id, name)
        if d.held_wh is None:  # the counter of this tick, before any fault's offset
            d.held_wh = v[name] + self.deltas.get(key, 0.0)
        self.deltas[key] = d.held_wh - v[name]

    def _finish(self, d: LiveDevice, v: dict[str, float], clock_s: float) -> None:
        """Add the command deltas to ``v``'s counters and the values derived from the others.

        ``clock_s`` is the device's own clock (epoch seconds): the simulated time, plus the skew
        under a ``clock_skew`` fault. The battery's heartbeat register counts it.
        """
        for name in COUNTERS[d.sim.kind]:
            if name in v:
                v[name] += self.deltas.get((d.id, name), 0.0)
        if d.sim.kind == "battery":
            discharged = v.get("energy_discharged_wh", 0.0)
            capacity = d.sim.spec.capacity_wh if isinstance(d.sim.spec, BatterySpec) else 1.0
            v["cycle_count"] = math.floor((discharged - d.sim.counter_base_wh(self.engine.seed)) / capacity)
            v["soh_pct"] = max(70.0, 100.0 - 0.004 * v["cycle_count"])
            v["heartbeat"] = float(int(clock_s))
            v["voltage_v"] = 640.0 + 1.2 * v.get("soc_pct", 50.0)
            v["temperature_c"] = 22.0 + 12.0 * abs(v["active_power_w"]) / max(d.sim.rated_power_w, 1.0)
            alarms = 0
            if v.get("soc_pct", 50.0) < 10.0:
                alarms |= 1
            if v.get("soc_pct", 50.0) > 95.0:
                alarms |= 2
            if v["temperature_c"] > 45.0:
                alarms |= 4
            v["alarm_flags"] = float(alarms)
        if d.sim.kind == "production" and "operating_state" not in v:
            # SunSpec 103 St: 4 MPPT (producing), 2 sleeping (no sun/wind), 8 standby (CHP maintenance)
            v["operating_state"] = 4.0 if v["active_power_w"] > 0.0 else (8.0 if v.get("running") == 0.0 else 2.0)
            v.setdefault("temperature_c", 25.0 + 15.0 * v["active_power_w"] / max(d.sim.rated_power_w, 1.0))

    def _add_counters(self, d: LiveDevice, v: dict[str, float], model_w: float, live_w: float, dt_h: float) -> None:
        if model_w == live_w:
            return
        pairs: tuple[tuple[str, float, float], ...]
        if d.sim.kind == "battery":
            pairs = (
                ("energy_charged_wh", max(-model_w, 0.0), max(-live_w, 0.0)),
                ("energy_discharged_wh", max(model_w, 0.0), max(live_w, 0.0)),
            )
        else:
            pairs = (("energy_produced_wh", model_w, live_w),)
        for name, m, li in pairs:
            self.deltas[(d.id, name)] = self.deltas.get((d.id, name), 0.0) + (li - m) * dt_h

    def _publish(self, d: LiveDevice, values: dict[str, float]) -> None:
        if d.stuck is not None:
            d.values, d.image = d.stuck[0], d.stuck[1]
            return
        if "counter_reset" in d.faults:
            values = apply_counter_offsets(values, d.counter_offsets)
        if "spike" in d.faults:
            values = apply_spike(values, d.faults["spike"].param("factor"))
        d.values = values
        d.image = d.build_image(values)
