"""A start-up's own profiles outside the package, and ``check-config`` validating every profile the
configuration uses: schema and rule errors of the file and of its profiles, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ville_autonome.commands import config_file
from ville_autonome.commands.main import main
from ville_autonome.configuration import ConfigError
from ville_autonome.registers.profile import load_profile

CONFIG = """\
city: {{id: lab}}
{dirs}
gateways: [{{id: gw-lab}}]
districts:
  - id: lab
    sites:
      - id: bench
        gateway: gw-lab
        devices:
          - id: prototype-meter
            role: grid
            protocol: modbus-tcp
            address: 127.0.0.1:{port}
            unit_id: {unit}
            profile: {profile}
"""

PROFILE = """\
name: startup-meter
reference: "the start-up's own register list"
points:
  - {name: P, quantity: active_power_w, unit: W, address: 0, datatype: float32, table: input}
  - {name: E, quantity: energy_import_wh, unit: Wh, address: 2, datatype: float32, table: input, scale: 1000}
"""


def _write(
    tmp_path: Path,
    *,
    profile: str = "startup-meter",
    dirs: str = "profiles_dirs: [profiles]",
    port: str = "15999",
    unit: str = "1",
    body: str = PROFILE,
) -> Path:
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "startup-meter.yaml").write_text(body)
    cfg = tmp_path / "lab.yaml"
    cfg.write_text(CONFIG.format(dirs=dirs, port=port, unit=unit, profile=profile))
    return cfg


def test_a_profile_folder_is_searched_before_the_shipped_profiles(tmp_path: Path) -> None:
    cfg = config_file.load(_write(tmp_path), environ={})
    assert cfg.profiles_dirs == [str(tmp_path / "profiles")]
    profile = load_profile("startup-meter", cfg.profiles_dirs)
    assert profile.point("E").scale == 1000.0
    assert profile.source == str(tmp_path / "profiles" / "startup-meter.yaml")


def test_a_profile_given_as_a_path_is_relative_to_the_configuration(tmp_path: Path) -> None:
    cfg = config_file.load(_write(tmp_path, profile="profiles/startup-meter.yaml", dirs=""), environ={})
    _, _, dev = cfg.devices()[0]
    assert dev.profile == str(tmp_path / "profiles" / "startup-meter.yaml")
    assert load_profile(dev.profile).name == "startup-meter"


def test_check_config_reports_the_profile_s_own_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = PROFILE.replace("datatype: float32, table: input}", "datatype: floot32, table: input}", 1)
    bad = bad.replace("unit: Wh", "unit: kWh")
    cfg = _write(tmp_path, body=bad)
    assert main(["check-config", str(cfg)]) == 2
    err = capsys.readouterr().err.splitlines()
    profile_file = tmp_path / "profiles" / "startup-meter.yaml"
    assert err[0] == (
        f"error: {cfg}:15: districts[0].sites[0].devices[0].profile: register profile 'startup-meter' "
        f"({profile_file}) has 2 problem(s):"
    )
    assert err[1].startswith(f"error: {profile_file}:4: points[0].datatype: unknown datatype 'floot32'")
    assert err[2] == (
        f"error: {profile_file}:5: points[1].unit: unit 'kWh' does not match energy_import_wh "
        "(expects 'Wh' after scaling)"
    )
    assert len(err) == 3


def test_schema_and_rule_errors_are_reported_together(tmp_path: Path) -> None:
    cfg = _write(tmp_path, profile="nowhere-meter", port="99999", dirs="profiles_dirs: [profiles, missing]")
    text = cfg.read_text().replace("role: grid", "role: grid\n            poll_interval_s: -1")
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        config_file.load(cfg, environ={})
    problems = info.value.problems
    assert any("poll_interval_s: Input should be greater than 0" in p for p in problems), problems
    assert any("address: '127.0.0.1:99999' is not HOST:PORT" in p for p in problems), problems
    assert any("profile: unknown register profile 'nowhere-meter'" in p for p in problems), problems
    assert any(f"{cfg}:2: profiles_dirs[1]: 'missing' is not a folder" in p for p in problems), problems


@pytest.mark.parametrize("unit", ["0", "255", "247"])
def test_modbus_tcp_accepts_the_unit_ids_tcp_devices_use(tmp_path: Path, unit: str) -> None:
    cfg = config_file.load(_write(tmp_path, unit=unit), environ={})
    assert cfg.devices()[0][2].unit_id == int(unit)


def test_a_serial_line_addresses_units_1_to_247_only(tmp_path: Path) -> None:
    cfg = _write(tmp_path, unit="255")
    cfg.write_text(cfg.read_text().replace("modbus-tcp", "modbus-rtu").replace("127.0.0.1:15999", "/dev/ttyUSB0"))
    with pytest.raises(ConfigError, match=r"unit_id: a serial line addresses units 1…247, not 255"):
        config_file.load(cfg, environ={})
