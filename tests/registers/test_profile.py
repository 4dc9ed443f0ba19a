"""Profiles: every shipped profile loads; each kind of mistake is refused with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ville_autonome.readings.quantities import QUANTITIES
from ville_autonome.registers.catalog import profile_names
from ville_autonome.registers.profile import ProfileError, load_profile, parse_profile


@pytest.mark.parametrize("name", profile_names())
def test_shipped_profiles_load(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.reference, "every profile cites its source document"
    for p in profile.measured():
        assert p.unit == QUANTITIES[p.quantity or ""].unit


def test_expected_profiles_exist() -> None:
    names = set(profile_names())
    assert {"sunspec-meter-203", "sunspec-inverter-103", "sunspec-battery-802", "va-hydro-iko"} <= names
    assert len(names - {"sunspec-meter-203", "sunspec-inverter-103", "sunspec-battery-802", "va-hydro-iko"}) >= 3


def test_sunspec_meter_addresses_match_the_standard_layout() -> None:
    meter = load_profile("sunspec-meter-203")
    assert meter.point("W").address == 40088
    assert meter.point("W_SF").address == 40092
    assert meter.point("TotWhImp").address == 40116
    assert meter.point("TotWh_SF").address == 40124
    # role-dependent meaning of the import counter
    assert meter.point("TotWhImp").quantity_for("grid") == "energy_import_wh"
    assert meter.point("TotWhImp").quantity_for("consumption") == "energy_consumed_wh"
    assert meter.point("TotWhExp").quantity_for("consumption") is None


def test_rebased_profile_follows_its_model() -> None:
    meter = load_profile("sunspec-meter-203").rebased({203: 40100})
    assert meter.point("W").address == 40118
    assert meter.point("Mn").address == 40004  # model 1 unchanged


def test_needed_points_include_scale_factors() -> None:
    names = {p.name for p in load_profile("sunspec-inverter-103").needed("production")}
    assert {"W", "W_SF", "WH", "WH_SF"} <= names
    assert "Mn" not in names


GOOD_POINT = "  - {name: P, quantity: active_power_w, unit: W, address: 10, datatype: int32}\n"


def _errors(text: str) -> list[str]:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, source="bad.yaml")
    return info.value.problems


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        ("  - {name: X, quantity: active_power_w, unit: W, address: 1, datatype: int12}\n", 3, "unknown datatype"),
        ("  - {name: X, quantity: active_power_w, unit: kW, address: 1, datatype: int16}\n", 3, "unit 'kW'"),
        ("  - {name: X, quantity: power_kw, unit: kW, address: 1, datatype: int16}\n", 3, "unknown quantity"),
        ("  - {name: X, quantity: active_power_w, address: 1, datatype: int16}\n", 3, "needs its unit"),
        ("  - {name: X, address: 1, datatype: string}\n", 3, "needs a length"),
        ("  - {name: X, address: 1, datatype: float32, count: 4}\n", 3, "occupies 2"),
        ("  - {name: X, address: 11, datatype: int16}\n", 4, "overlaps P"),
        ("  - {name: X, quantity: active_power_w, unit: W, address: 20, datatype: int16}\n", 4, "already measured"),
        ("  - {name: X, address: 20, datatype: int16, scale_factor: NOPE}\n", 4, "not a sunssf point"),
        ("  - {name: X, address: 20, datatype: int16, table: input, writable: true}\n", 4, "only holding"),
        ("  - {name: X, address: 20, datatype: int16, colour: red}\n", 4, "unknown field"),
        ("  - {name: P, address: 20, datatype: int16}\n", 4, "duplicate point name"),
        ("  - {name: X, address: 65535, datatype: int32}\n", 4, "end of the address space"),
        ("  - {name: X, address: 20, datatype: int16, word_order: middle}\n", 4, "'middle'"),
    ],
)
def test_refusals_name_file_line_and_reason(body: str, line: int, fragment: str) -> None:
    prefix = "name: t\npoints:\n"
    text = prefix + (body if line == 3 else GOOD_POINT + body)
    problems = _errors(text)
    assert any(p.startswith(f"bad.yaml:{line}: points[") and fragment in p for p in problems), problems


def test_sunspec_offsets_are_checked() -> None:
    text = (
        "name: t\nsunspec:\n  base: 40000\n  models:\n    - {id: 203, address: 40070, length: 105}\n"
        "points:\n  - {name: W, model: 203, offset: 200, datatype: int16}\n"
        "  - {name: V, model: 999, offset: 2, datatype: int16}\n"
    )
    problems = _errors(text)
    assert any("bad.yaml:7: points[0].offset" in p and "outside model 203" in p for p in problems), problems
    assert any("bad.yaml:8: points[1].model" in p for p in problems), problems


def test_yaml_syntax_error_has_a_line() -> None:
    problems = _errors("name: t\npoints:\n  - {name: X, address: 1\n")
    assert problems[0].startswith("bad.yaml:")
    assert "YAML syntax error" in problems[0]


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read register profile"):
        load_profile(tmp_path / "nope.yaml")


def test_all_problems_reported_together() -> None:
    text = (
        "name: t\npoints:\n  - {name: A, address: 1, datatype: int12}\n"
        "  - {name: B, quantity: nope_w, unit: W, address: 5, datatype: int16}\n"
    )
    assert len(_errors(text)) == 2
