"""``--port-offset``: every configured port moves, so that a second lab runs beside the first."""

from __future__ import annotations

import socket

import pytest
from pymodbus.client import AsyncModbusTcpClient

from tests.simulators.conftest import ConfigFactory
from ville_autonome.commands.port_offset import with_port_offset
from ville_autonome.configuration import ConfigError
from ville_autonome.configuration.topology import PlatformConfig
from ville_autonome.simulators.service import SimulatorService


def _ports(cfg: PlatformConfig) -> list[int]:
    return [int(d.address.rpartition(":")[2]) for _, _, d in cfg.devices() if d.protocol == "modbus-tcp"]


def test_every_configured_port_moves(make_config: ConfigFactory) -> None:
    base = make_config(sites={"quai-innovation", "maison-du-projet"}, mqtt_url="mqtt://127.0.0.1:1883")
    moved = with_port_offset(base, 1000)
    assert _ports(moved) == [p + 1000 for p in _ports(base)]
    assert moved.services.mqtt.url == "mqtt://127.0.0.1:2883"
    assert moved.services.api.port == base.services.api.port + 1000
    assert _ports(base) != _ports(moved)  # the original is untouched
    assert with_port_offset(base, 0) is base
    with pytest.raises(ConfigError, match="outside 1…65535"):
        with_port_offset(base, 65_000)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def test_two_labs_run_side_by_side(make_config: ConfigFactory) -> None:
    first = make_config(sites={"quai-innovation"})
    offset = next(k for k in range(1000, 20000, 997) if all(_free(p + k) for p in _ports(first)))
    second = with_port_offset(first, offset)
    async with SimulatorService(first, tick_s=0.1) as a, SimulatorService(second, tick_s=0.1) as b:
        for lab in (a, b):
            ep = lab.endpoints["hub-energie-battery"]
            client = AsyncModbusTcpClient(ep.host, port=ep.port, timeout=2, retries=0)
            try:
                assert await client.connect()
                rr = await client.read_holding_registers(40000, count=2, device_id=ep.unit_id)
                assert rr.registers == [0x5375, 0x6E53]
            finally:
                client.close()
        assert b.endpoints["hub-energie-battery"].port == a.endpoints["hub-energie-battery"].port + offset
