"""Unit ids as Modbus TCP devices use them: 255 (the usual "direct" id) and 0 are served; an id no
device has gets exception 04 from the simulator's server (docs/simulators.md)."""

from __future__ import annotations

import pytest
from pymodbus.client import AsyncModbusTcpClient

from tests.simulators.conftest import amiens_document
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.simulators.service import SimulatorService


@pytest.mark.parametrize("unit", [255, 0])
async def test_a_tcp_device_answers_on_unit(unit: int) -> None:
    doc = amiens_document(sites={"quai-innovation"})
    for district in doc["districts"]:
        for site in district["sites"]:
            for dev in site["devices"]:
                if dev["id"] == "qi-grid-meter":
                    dev["unit_id"] = unit
    config = PlatformConfig.model_validate(doc)
    async with SimulatorService(config, tick_s=0.1) as sim:
        ep = sim.endpoints["qi-grid-meter"]
        client = AsyncModbusTcpClient(ep.host, port=ep.port, timeout=2, retries=0)
        try:
            assert await client.connect()
            rr = await client.read_holding_registers(40000, count=2, device_id=unit)
            assert rr.registers == [0x5375, 0x6E53]
            if unit != 0:  # 0 answers every id on its port (a single-device TCP endpoint)
                other = await client.read_holding_registers(40000, count=2, device_id=7)
                assert other.isError()
                assert other.exception_code == 4
        finally:
            client.close()
