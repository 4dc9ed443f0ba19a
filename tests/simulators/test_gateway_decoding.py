"""End to end on the wire: the gateway's own poller (gateway.modbus_source) reads every simulated
Modbus device through its shipped profile and gets back the values the simulator holds."""

from __future__ import annotations

import math

from tests.simulators.conftest import ConfigFactory
from ville_autonome.gateway.modbus_source import (
    Connection,
    DeviceState,
    ModbusPoller,
    connection_key,
    make_modbus_client,
)
from ville_autonome.readings.model import Reading
from ville_autonome.registers.profile import load_profile
from ville_autonome.simulators.service import SimulatorService

# decoded values are raw × 10^SF: tolerate one count of the coarsest scale factor in use (3 → 1 kW)
COUNTERS = ("energy_import_wh", "energy_export_wh", "energy_consumed_wh", "energy_produced_wh")


def _tolerance(quantity: str, want: float) -> float:
    if quantity in COUNTERS or quantity.startswith("energy_"):
        return max(100.0, 1e-6 * abs(want))
    if "power" in quantity and quantity != "power_factor":
        return max(1000.0, 1e-3 * abs(want))
    return max(0.5, 1e-2 * abs(want))


async def test_gateway_poller_reads_what_the_simulator_serves(make_config: ConfigFactory) -> None:
    config = make_config()
    async with SimulatorService(config, speed=1.0, tick_s=0.2) as svc:
        checked = 0
        seen: set[str] = set()
        for _, _, dev in config.devices():
            if dev.protocol != "modbus-tcp":
                continue
            # one poll, no retry: wait as long as a loaded machine needs (the 1 s default is a field setting)
            dev = dev.model_copy(update={"timeout_s": 30.0})
            svc.inject_fault(dev.id, "stuck")  # freeze the image: exact comparison
            held = svc.devices[dev.id].values
            client = make_modbus_client(dev)
            assert await client.connect()
            emitted: list[Reading] = []
            poller = ModbusPoller(
                dev,
                dev.role,
                load_profile(dev.profile or ""),
                Connection(connection_key(dev), client),
                emitted.extend,
                DeviceState(dev.id),
            )
            try:
                assert await poller.poll_once(), dev.id
            finally:
                client.close()
            good = {r.quantity: r.value for r in emitted if r.is_good}
            assert "active_power_w" in good, (dev.id, emitted)
            for quantity, value in good.items():
                if quantity not in held or value is None:
                    continue
                want = held[quantity]
                assert math.isclose(value, want, abs_tol=_tolerance(quantity, want)), (dev.id, quantity, value, want)
                checked += 1
                seen.add(quantity)
        assert checked >= 60
        assert {
            "energy_import_wh",
            "energy_export_wh",
            "energy_consumed_wh",
            "energy_produced_wh",
            "soc_pct",
        } <= seen, seen
