"""The scenario file agrees with the configuration; disagreements are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.simulators.conftest import AMIENS, ConfigFactory
from ville_autonome.configuration import load_config
from ville_autonome.configuration.errors import ConfigError
from ville_autonome.simulators.scenario import DEFAULT_SCENARIO, check_against, load_scenario, resolve
from ville_autonome.simulators.service import SimulatorService


def test_default_scenario_and_amiens_config_agree_exactly() -> None:
    config = load_config(AMIENS)
    assert check_against(config, load_scenario(DEFAULT_SCENARIO), strict=True, exact=True) == []


def test_disagreements_are_listed(make_config: ConfigFactory, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "devices:\n"
        "  qi-load: {model: pv, peak_w: 10, rated_power_w: 10}\n"
        "  ghost: {model: meter, rated_power_w: 10}\n"
        "faults:\n  - {device: phantom, fault: silent}\n",
        encoding="utf-8",
    )
    problems = check_against(make_config(sites={"quai-innovation"}), load_scenario(path), strict=True, exact=True)
    assert "scenario device 'qi-load': model 'pv' does not fit a consumption device (needs 'load')" in problems
    assert "scenario device 'ghost' is not in the configuration" in problems
    assert "configured device 'qi-grid-meter' has no parameters in the scenario" in problems
    assert "scenario faults[0]: unknown device 'phantom'" in problems


def test_a_bad_scenario_file_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("devices:\n  x: {model: hydro, rated_power_w: -1}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: devices\.x\.hydro\.rated_power_w"):
        load_scenario(path)
    with pytest.raises(ConfigError, match="no such scenario file"):
        load_scenario(tmp_path / "missing.yaml")


def test_a_device_without_parameters_gets_defaults_from_its_role(make_config: ConfigFactory, tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("seed: 1\n", encoding="utf-8")
    config = make_config(sites={"quai-innovation"})
    specs = resolve(config, load_scenario(path))
    assert specs["hub-energie-battery"].model == "battery"
    assert specs["qi-wind-roof"].model == "wind"
    with pytest.raises(ConfigError, match="has no parameters"):
        SimulatorService(config, scenario=load_scenario(path), strict=True)


def test_a_clock_before_the_epoch_is_refused(make_config: ConfigFactory) -> None:
    with pytest.raises(ConfigError, match="2024-01-01T00:00Z at the earliest"):
        SimulatorService(make_config(sites={"iko-hydro"}), start_ms=1_600_000_000_000)
