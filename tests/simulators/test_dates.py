"""The live devices on fixed simulated dates: every image is whole, and the device clock is the one served.

Issue 19: under ``clock_skew`` the battery's heartbeat register read 0, so a test comparing it with
the unskewed clock passed or failed with the time of day. These run the live state on dates where
calendar code tends to break (see ``FIXED_DATES``), with and without the skew, without a network.
"""

from __future__ import annotations

import math

import pytest

from tests.simulators.conftest import FIXED_DATES, ConfigFactory, epoch_ms
from ville_autonome.simulators.faults import make_fault
from ville_autonome.simulators.service import SimulatorService

HEARTBEAT = 40088  # battery (sunspec-battery-802 map): the device's own clock, seconds modulo 2^16


def _served(svc: SimulatorService, t_s: float) -> None:
    for site in svc.sites:
        site.update(t_s)


@pytest.mark.parametrize("skew_s", [0.0, 20_000.0, -3_600.0])
@pytest.mark.parametrize("start", FIXED_DATES, ids=FIXED_DATES)
def test_every_image_is_whole_and_the_heartbeat_is_the_device_clock(
    make_config: ConfigFactory, start: str, skew_s: float
) -> None:
    svc = SimulatorService(make_config(sites={"quai-innovation", "iko-hydro"}), start_ms=epoch_ms(start))
    if skew_s:
        for dev in svc.devices.values():
            dev.faults["clock_skew"] = make_fault("clock_skew", {"skew_s": skew_s})
    t_s = epoch_ms(start) / 1000.0
    for step in (0.0, 1.0, 900.0):  # a first update, the next second, the next quarter of an hour
        _served(svc, t_s + step)
        for dev in svc.devices.values():
            assert dev.sim_ms == round((t_s + step + skew_s) * 1000.0)
            assert all(math.isfinite(v) for v in dev.values.values()), dev.id
            assert all(0 <= w <= 0xFFFF for w in dev.image), dev.id
            if dev.profile == "sunspec-battery-802":
                rmap = dev.register_map
                assert rmap is not None
                assert dev.image[HEARTBEAT - rmap.start] == int(t_s + step + skew_s) & 0xFFFF
