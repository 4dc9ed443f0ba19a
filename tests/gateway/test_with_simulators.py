"""The gateway against the platform's own simulators (SimulatorService, real pymodbus servers)
and a real Mosquitto: faults injected in the simulated devices give the right qualities and
health counters, and a silent device never holds up its neighbours."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.acker import Acker
from tests.gateway.rig import RunningGateway
from tests.simulators.conftest import amiens_document
from tests.support.services import Mosquitto
from tests.support.waiting import async_wait_for
from ville_autonome.configuration.services import MqttSettings
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.readings.model import Quality, Reading
from ville_autonome.simulators.service import SimulatorService

GW = "gw-saint-leu"


def saint_leu(mqtt_url: str, root: str, buffer: Path) -> PlatformConfig:
    doc = amiens_document(sites={"iko-hydro"}, mqtt_url=mqtt_url)
    doc["services"]["mqtt"]["topic_root"] = root
    for gw in doc["gateways"]:
        gw.update(buffer_path=str(buffer), publish_interval_s=0.2, health_interval_s=0.5)
    for district in doc["districts"]:
        for site in district["sites"]:
            for dev in site["devices"]:
                dev.update(poll_interval_s=0.2, timeout_s=0.4, max_backoff_s=1.0)
                if dev["id"] == "iko-turbine":
                    dev["stuck_after_s"] = 1.0
    return PlatformConfig.model_validate(doc)


@pytest.fixture
def acker(mosquitto: Mosquitto, unique_name: str) -> Iterator[Acker]:
    a = Acker(MqttSettings(url=mosquitto.url, topic_root=unique_name), GW).start()
    yield a
    a.stop()


def readings_of(acker: Acker, device: str, since_ms: int = 0) -> list[Reading]:
    return [
        r for env in list(acker.envelopes.values()) for r in env.readings if r.device == device and r.ts_ms >= since_ms
    ]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def test_simulated_faults_through_the_gateway(
    mosquitto: Mosquitto, unique_name: str, tmp_path: Path, acker: Acker
) -> None:
    config = saint_leu(mosquitto.url, unique_name, tmp_path / "b.sqlite")
    devices = [dev.id for _, _, dev in config.devices_of_gateway(GW)]
    assert {"iko-grid-meter", "iko-turbine"} <= set(devices)
    async with SimulatorService(config, speed=1.0, tick_s=0.2) as sim, RunningGateway(config, GW) as gw:
        await async_wait_for(
            lambda: all(any(r.is_good for r in readings_of(acker, d)) for d in devices),
            timeout=30,
            what="good readings from every simulated device",
        )
        turbine = {r.quantity for r in readings_of(acker, "iko-turbine") if r.is_good}
        assert {"active_power_w", "energy_produced_wh", "flow_m3_s", "head_m"} <= turbine

        # silent turbine: timeouts and backoff for it, the meter keeps its schedule
        sim.inject_fault("iko-turbine", "silent")
        since = now_ms()
        await async_wait_for(
            lambda: not gw.stats.devices["iko-turbine"].online, timeout=20, what="the turbine marked offline"
        )
        await async_wait_for(
            lambda: sum(r.is_good for r in readings_of(acker, "iko-grid-meter", since)) >= 5 * 17,
            timeout=30,
            what="the meter's good readings while the turbine is silent",
        )
        await async_wait_for(
            lambda: any(r.quality is Quality.TIMEOUT for r in readings_of(acker, "iko-turbine", since)),
            timeout=30,
            what="timeout readings of the silent turbine",
        )
        # consecutive timeouts lengthen the pause between polls (one timeout alone leaves the base pause)
        await async_wait_for(
            lambda: gw.stats.devices["iko-turbine"].backoff_s > 0.2, timeout=30, what="the turbine's backoff to grow"
        )
        sim.clear_faults("iko-turbine")
        await async_wait_for(lambda: gw.stats.devices["iko-turbine"].online, timeout=30, what="turbine recovery")

        # counter reset: good readings, counted in the device's health
        sim.inject_fault("iko-grid-meter", "counter_reset")
        await async_wait_for(
            lambda: gw.stats.devices["iko-grid-meter"].errors.get("counter_reset", 0) >= 1,
            timeout=30,
            what="the counter reset noticed",
        )
        sim.clear_faults("iko-grid-meter")

        # wrong byte order: the grid frequency is no longer plausible. (A swapped voltage can land
        # back inside its range — 230.4 V is 0x0900, swapped 0x0009 = 0.9 V — a frequency near
        # 50 Hz never does: 0x13xx swapped is above 70 Hz or negative.)
        sim.inject_fault("iko-grid-meter", "byte_swap")
        since = now_ms()
        await async_wait_for(
            lambda: any(
                r.quantity == "frequency_hz" and r.quality in (Quality.OUT_OF_RANGE, Quality.DECODE_ERROR)
                for r in readings_of(acker, "iko-grid-meter", since)
            ),
            timeout=30,
            what="byte-swapped frequency flagged",
        )
        sim.clear_faults()

        # frozen values: the turbine's gauges are flagged stuck after its 1 s window
        sim.inject_fault("iko-turbine", "stuck")
        since = now_ms()
        await async_wait_for(
            lambda: any(r.quality is Quality.STUCK for r in readings_of(acker, "iko-turbine", since)),
            timeout=30,
            what="stuck turbine values flagged",
        )
        sim.clear_faults()
