"""``protocol: modbus-rtu`` over a serial line: simulated devices on a pseudo-terminal pair, read by
the gateway's own poller through pymodbus's serial client (RTU framing, CRC), as from /dev/ttyUSB0."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusSerialClient

from tests.simulators.conftest import amiens_document
from tests.support.waiting import async_wait_for
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.gateway.modbus_source import Connection, DeviceState, ModbusPoller, make_modbus_client
from ville_autonome.readings.model import Reading
from ville_autonome.registers.profile import load_profile
from ville_autonome.simulators.service import SimulatorService


def rtu_config(line: Path) -> PlatformConfig:
    """The Saint-Leu housing site with its two meters as units 1 and 2 of one RS-485 line."""
    doc = amiens_document(sites={"saint-leu-housing"})
    for district in doc["districts"]:
        for site in district["sites"]:
            for unit, dev in enumerate(site["devices"], start=1):
                dev.update(protocol="modbus-rtu", address=str(line), unit_id=unit, serial={"baudrate": 19200})
    return PlatformConfig.model_validate(doc)


async def test_meters_on_a_serial_line_read_through_the_gateway(tmp_path: Path) -> None:
    line = tmp_path / "ttyLAB0"
    config = rtu_config(line)
    async with SimulatorService(config, speed=60.0, tick_s=0.1) as sim:
        target = await asyncio.to_thread(os.readlink, line)  # a link to one end of the pty pair
        assert target.startswith("/dev/pts/")
        readings: dict[str, list[Reading]] = {}
        devices = [dev for _, _, dev in config.devices()]
        connection = Connection(f"modbus-rtu:{line}", make_modbus_client(devices[0]))
        try:
            for dev in devices:
                got: list[Reading] = []
                readings[dev.id] = got
                poller = ModbusPoller(
                    dev, dev.role, load_profile(dev.profile or ""), connection, got.extend, DeviceState(dev.id)
                )
                assert await poller.poll_once(), f"{dev.id} did not answer on the serial line"
        finally:
            connection.close()
        assert isinstance(connection.client, AsyncModbusSerialClient)
        for device_id, got in readings.items():
            values = {r.quantity: r.value for r in got if r.is_good}
            expected = sim.devices[device_id].values["active_power_w"]
            assert values["active_power_w"] == pytest.approx(expected, rel=0.05, abs=200), device_id
            assert any(q.startswith("energy_") for q in values), device_id
    assert not await asyncio.to_thread(line.exists)  # the link goes with the simulator


async def test_a_silent_unit_times_out_while_its_neighbour_answers(tmp_path: Path) -> None:
    config = rtu_config(tmp_path / "ttyLAB1")
    async with SimulatorService(config, speed=60.0, tick_s=0.1) as sim:
        meter, load = (dev for _, _, dev in config.devices())
        sim.inject_fault(meter.id, "silent")
        connection = Connection("rtu", make_modbus_client(meter))
        try:
            silent = ModbusPoller(
                meter, "grid", load_profile("sunspec-meter-203"), connection, lambda r: None, DeviceState(meter.id)
            )
            answering = ModbusPoller(
                load, "consumption", load_profile("sunspec-meter-203"), connection, lambda r: None, DeviceState(load.id)
            )
            assert not await silent.poll_once()
            await async_wait_for(answering.poll_once, timeout=10, what="the other unit to answer")
        finally:
            connection.close()
