"""An MQTT plug switched off leaves the site's physics closed: the plug reads no power and its
counter stops, and the site's grid meter no longer carries it (P_grid = L − G − P_battery), so that
the lab's autonomy figures stay consistent after an operator's command (docs/commands.md)."""

from __future__ import annotations

import pytest

from tests.simulators.conftest import amiens_document
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.simulators.service import SimulatorService

SITE, GRID = "maison-du-projet", "mdp-grid-meter"
NOON = 1_751_371_200_000  # 2025-07-01T12:00Z: the façade PV produces
MINUTE_S = 60.0


def _lab() -> SimulatorService:
    return SimulatorService(PlatformConfig.model_validate(amiens_document(sites={SITE})), seed=7, start_ms=NOON)


def _run(sim: SimulatorService, minutes: int) -> None:
    (site,) = sim.sites
    for k in range(minutes + 1):
        site.update(NOON / 1000.0 + k * MINUTE_S)


@pytest.mark.parametrize(
    ("plug", "counter", "sign"),
    [("mdp-load", "energy_consumed_wh", -1.0), ("mdp-pv", "energy_produced_wh", +1.0)],
)
def test_a_plug_switched_off_stops_and_the_grid_meter_follows(plug: str, counter: str, sign: float) -> None:
    on, off = _lab(), _lab()
    _run(on, 1)
    _run(off, 1)
    off.set_output(plug, False)
    _run_from(on, 1, 2)
    _run_from(off, 1, 2)  # the first tick with the output off
    held = off.devices[plug].values[counter]
    _run_from(on, 2, 10)
    _run_from(off, 2, 10)

    model = on.devices[plug].values
    assert model["active_power_w"] > 0.0  # the plug draws (or produces) at noon
    switched = off.devices[plug].values
    assert switched["active_power_w"] == 0.0
    assert switched.get("current_a", 0.0) == 0.0
    assert switched[counter] == pytest.approx(held, abs=1e-6)  # it stopped counting
    # the grid meter: a load off draws less from the grid, a production off makes the site draw more
    grid_on, grid_off = on.devices[GRID].values["active_power_w"], off.devices[GRID].values["active_power_w"]
    assert grid_off == pytest.approx(grid_on + sign * model["active_power_w"])
    assert off.devices[GRID].values["energy_import_wh"] != pytest.approx(on.devices[GRID].values["energy_import_wh"])


def test_a_plug_switched_back_on_follows_its_model_again() -> None:
    on, toggled = _lab(), _lab()
    toggled.set_output("mdp-load", False)
    _run(on, 5)
    _run(toggled, 5)
    toggled.set_output("mdp-load", True)
    _run_from(on, 5, 6)
    _run_from(toggled, 5, 6)
    assert toggled.devices["mdp-load"].values["active_power_w"] == pytest.approx(
        on.devices["mdp-load"].values["active_power_w"]
    )
    assert toggled.devices[GRID].values["active_power_w"] == pytest.approx(on.devices[GRID].values["active_power_w"])


def _run_from(sim: SimulatorService, first: int, last: int) -> None:
    (site,) = sim.sites
    for k in range(first + 1, last + 1):
        site.update(NOON / 1000.0 + k * MINUTE_S)
