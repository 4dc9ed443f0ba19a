"""Scenario files: the physical parameters of every device, by device id (YAML).

The configuration (config/amiens.yaml) is the one source of truth for topology — ids, sites,
roles, addresses, topics; a scenario holds physics only, and :func:`check_against` refuses one
that does not match: a configured device without parameters, parameters for an unknown id, or a
model that does not fit the device's role/source. Devices missing from a non-strict scenario get
defaults derived from their role (:func:`default_params`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ville_autonome.configuration.errors import ConfigError
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.simulators.physics import LOAD_PROFILES

DEFAULT_SCENARIO = Path(__file__).with_name("scenarios") / "amiens.yaml"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeterSpec(_Params):
    model: Literal["meter"]
    rated_power_w: float = Field(gt=0)


class LoadSpec(_Params):
    model: Literal["load"]
    profile: Literal["housing", "office", "campus", "hospital", "station", "auxiliary"]
    peak_w: float = Field(gt=0)
    base_fraction: float = Field(default=0.3, ge=0, le=1)
    winter_gain: float = Field(default=0.25, ge=0, le=2)


class PvSpec(_Params):
    model: Literal["pv"]
    peak_w: float = Field(gt=0)
    rated_power_w: float = Field(gt=0)


class WindSpec(_Params):
    model: Literal["wind"]
    rated_power_w: float = Field(gt=0)
    mean_speed_m_s: float = Field(default=4.8, gt=0, le=30)


class HydroSpec(_Params):
    model: Literal["hydro"]
    rated_power_w: float = Field(gt=0)
    design_flow_m3_s: float = Field(gt=0)
    nominal_head_m: float = Field(gt=0)
    mean_river_flow_m3_s: float = Field(gt=0)
    reserved_flow_m3_s: float = Field(default=0.0, ge=0)


class ChpSpec(_Params):
    model: Literal["chp"]
    rated_power_w: float = Field(gt=0)


class BatterySpec(_Params):
    model: Literal["battery"]
    capacity_wh: float = Field(gt=0)
    rated_power_w: float = Field(gt=0)
    initial_soc_pct: float = Field(default=50.0, ge=0, le=100)


DeviceSpec = Annotated[
    MeterSpec | LoadSpec | PvSpec | WindSpec | HydroSpec | ChpSpec | BatterySpec, Field(discriminator="model")
]

FAULT_NAMES = (
    "silent",
    "slow",
    "stuck",
    "spike",
    "byte_swap",
    "counter_reset",
    "clock_skew",
    "exception",
    "malformed_mqtt",
)


class ScriptedFault(_Params):
    device: str
    fault: Literal[
        "silent", "slow", "stuck", "spike", "byte_swap", "counter_reset", "clock_skew", "exception", "malformed_mqtt"
    ]
    params: dict[str, float] = Field(default_factory=dict)


class Scenario(_Params):
    seed: int = 2050
    devices: dict[str, DeviceSpec] = Field(default_factory=dict)
    faults: list[ScriptedFault] = Field(default_factory=list)


_SOURCE_MODELS = {"pv": "pv", "wind": "wind", "hydro": "hydro", "chp": "chp"}
_ROLE_MODELS = {"grid": "meter", "consumption": "load", "storage": "battery"}

assert set(LOAD_PROFILES) == {"housing", "office", "campus", "hospital", "station", "auxiliary"}


def load_scenario(path: str | Path = DEFAULT_SCENARIO) -> Scenario:
    """Read and validate a scenario file; raise :class:`ConfigError` naming the file and field."""
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such scenario file"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{p}: YAML error: {exc}"]) from None
    try:
        return Scenario.model_validate(doc or {})
    except ValidationError as exc:
        problems = [f"{p}: {'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(problems) from None


def expected_model(dev: DeviceConfig) -> str:
    """The physics model a device of this role/source needs."""
    if dev.role == "production":
        return _SOURCE_MODELS[dev.source or "pv"]
    return _ROLE_MODELS[dev.role]


def unknown_devices(config: PlatformConfig, scenario: Scenario) -> list[str]:
    """Scenario device ids that the configuration does not have (a configuration may use a subset)."""
    configured = {dev.id for _, _, dev in config.devices()}
    return sorted(d for d in scenario.devices if d not in configured)


def check_against(config: PlatformConfig, scenario: Scenario, *, strict: bool = True, exact: bool = False) -> list[str]:
    """Every disagreement between scenario and configuration, one line each (empty = agree).

    Always: a model that does not fit its device's role, a scripted fault on an unknown device.
    ``strict``: every configured device has parameters. ``exact``: also no scenario device that
    the configuration lacks (the default scenario and config/amiens.yaml agree exactly).
    """
    problems: list[str] = []
    configured = {dev.id: dev for _, _, dev in config.devices()}
    for device_id, spec in scenario.devices.items():
        dev = configured.get(device_id)
        if dev is None:
            if exact:
                problems.append(f"scenario device {device_id!r} is not in the configuration")
            continue
        want = expected_model(dev)
        if spec.model != want:
            problems.append(
                f"scenario device {device_id!r}: model {spec.model!r} does not fit a {dev.role} device (needs {want!r})"
            )
    if strict:
        for device_id in configured:
            if device_id not in scenario.devices:
                problems.append(f"configured device {device_id!r} has no parameters in the scenario")
    for i, fault in enumerate(scenario.faults):
        if fault.device not in configured:
            problems.append(f"scenario faults[{i}]: unknown device {fault.device!r}")
    return problems


def default_params(dev: DeviceConfig) -> DeviceSpec:
    """Parameters for a device the scenario does not describe, from its role and ratings."""
    rated = dev.rated_power_w or 50_000.0
    model = expected_model(dev)
    if model == "meter":
        return MeterSpec(model="meter", rated_power_w=rated)
    if model == "load":
        return LoadSpec(model="load", profile="office", peak_w=rated)
    if model == "pv":
        return PvSpec(model="pv", peak_w=rated * 1.1, rated_power_w=rated)
    if model == "wind":
        return WindSpec(model="wind", rated_power_w=rated)
    if model == "chp":
        return ChpSpec(model="chp", rated_power_w=rated)
    if model == "hydro":
        design = rated / (1000.0 * 9.81 * 2.0 * 0.85)
        return HydroSpec(
            model="hydro",
            rated_power_w=rated,
            design_flow_m3_s=design,
            nominal_head_m=2.0,
            mean_river_flow_m3_s=design * 1.3,
            reserved_flow_m3_s=design * 0.1,
        )
    return BatterySpec(model="battery", capacity_wh=dev.capacity_wh or rated * 2.0, rated_power_w=rated)


def resolve(config: PlatformConfig, scenario: Scenario) -> dict[str, DeviceSpec]:
    """Parameters for every configured device: the scenario's, else defaults (non-strict use)."""
    return {dev.id: scenario.devices.get(dev.id) or default_params(dev) for _, _, dev in config.devices()}


def effective_seed(config: PlatformConfig, scenario: Scenario, seed: int | None = None) -> int:
    """The seed in force: an explicit one, else ``services.simulator.seed`` when it was changed from
    its default (file or ``VA_SIMULATOR_SEED``), else the scenario's."""
    if seed is not None:
        return seed
    configured = config.services.simulator.seed
    default = type(config.services.simulator).model_fields["seed"].default
    return scenario.seed if configured == default else configured


def scenario_for(config: PlatformConfig) -> Scenario:
    """The scenario named in ``services.simulator.scenario``, else the default Amiens scenario."""
    path = config.services.simulator.scenario
    return load_scenario(path if path else DEFAULT_SCENARIO)
