"""The real-meter profiles, each against a pymodbus server serving that map as the maker documents
it: the gateway's own poller reads every measured point back, in the standard unit and sign."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.support.ports import free_port
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.gateway.modbus_source import Connection, DeviceState, ModbusPoller, make_modbus_client
from ville_autonome.readings.model import Reading
from ville_autonome.registers.codec import encode
from ville_autonome.registers.points import Profile
from ville_autonome.registers.profile import load_profile

SUNSPEC_MARKER = [0x5375, 0x6E53]

# what each meter shows, by the maker's point names, in the maker's units (kWh for Eastron)
CASES: dict[str, tuple[str, dict[str, float]]] = {
    "eastron-sdm630": (
        "grid",
        {
            "V_L1N": 231.2,
            "V_L2N": 229.8,
            "V_L3N": 230.4,
            "A_L1": 12.5,
            "A_L2": 11.75,
            "A_L3": 13.0,
            "W_L1": 2800.0,
            "W_L2": 2600.0,
            "W_L3": 2950.5,
            "W_total": 8350.5,
            "VA_total": 8800.0,
            "VAr_total": -1200.0,
            "PF_total": 0.949,
            "Hz": 49.98,
            "kWh_import": 12345.67,
            "kWh_export": 321.5,
        },
    ),
    "janitza-umg96rm": (
        "consumption",
        {
            "_ULN1": 230.1,
            "_ULN2": 231.0,
            "_ULN3": 229.5,
            "_ILN1": 80.25,
            "_ILN2": 79.5,
            "_ILN3": 81.0,
            "_PLN1": 17500.0,
            "_PLN2": 17250.0,
            "_PLN3": 17800.0,
            "_P_SUM3": 52550.0,
            "_S_SUM3": 55000.0,
            "_Q_SUM3": 8000.0,
            "_FREQ": 50.01,
            "_WH_V_HT_S": 98_765_432.0,
            "_WH_Z_S": 1500.0,
        },
    ),
    "sunspec-inverter-113": (
        "production",
        {
            "AphA": 21.5,
            "AphB": 21.25,
            "AphC": 21.75,
            "PhVphA": 230.0,
            "PhVphB": 231.0,
            "PhVphC": 229.0,
            "W": 14800.0,
            "Hz": 50.0,
            "VA": 14900.0,
            "VAr": 300.0,
            "PF": 99.5,
            "WH": 45_678_901.0,
            "TmpCab": 41.5,
            "St": 4.0,
            "Evt1": 0.0,
        },
    ),
}
EXPECTED_QUANTITIES = {
    "eastron-sdm630": {"active_power_w": 8350.5, "energy_import_wh": 12_345_670.0, "energy_export_wh": 321_500.0},
    "janitza-umg96rm": {"active_power_w": 52550.0, "energy_consumed_wh": 98_765_432.0, "frequency_hz": 50.01},
    "sunspec-inverter-113": {"active_power_w": 14800.0, "energy_produced_wh": 45_678_901.0, "power_factor": 0.995},
}


def _images(profile: Profile, values: Mapping[str, float]) -> dict[str, dict[int, int]]:
    """Register words by table and address, as the device serves them."""
    tables: dict[str, dict[int, int]] = {"holding": {}, "input": {}}
    if profile.sunspec is not None:
        regs = tables["holding"]
        for i, w in enumerate(SUNSPEC_MARKER):
            regs[profile.sunspec.base + i] = w
        end = profile.sunspec.base + 2
        for m in profile.sunspec.models:
            regs[m.address], regs[m.address + 1] = m.id, m.length
            end = max(end, m.address + 2 + m.length)
        regs[end], regs[end + 1] = 0xFFFF, 0
    for p in profile.points:
        if p.name not in values:
            continue
        raw = values[p.name]
        value = int(raw) if p.datatype not in ("float32", "float64") else raw
        words = encode(value, p.datatype, word_order=p.word_order, byte_order=p.byte_order, length=p.count)
        for i, w in enumerate(words):
            tables[p.table][p.address + i] = w
    return tables


def _blocks(words: dict[int, int]) -> list[SimData]:
    if not words:
        return [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)]  # pymodbus wants every table
    low, high = min(words), max(words)
    return [
        SimData(
            low,
            count=high - low + 1,
            values=[words.get(a, 0) for a in range(low, high + 1)],
            datatype=DataType.REGISTERS,
        )
    ]


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_real_meter_map_reads_back_through_its_profile(name: str) -> None:
    role, values = CASES[name]
    profile = load_profile(name)
    tables = _images(profile, values)
    port = free_port()
    bits = [SimData(0, count=16, values=0, datatype=DataType.BITS)]
    device = SimDevice(id=1, simdata=(bits, bits, _blocks(tables["holding"]), _blocks(tables["input"])))
    server = ModbusTcpServer([device], address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    config = DeviceConfig(
        id="meter", role=role, source="pv" if role == "production" else None, address=f"127.0.0.1:{port}", profile=name
    )  # type: ignore[arg-type]
    readings: list[Reading] = []
    connection = Connection("meter", make_modbus_client(config))
    try:
        poller = ModbusPoller(config, role, profile, connection, readings.extend, DeviceState("meter"))
        assert await poller.poll_once()
    finally:
        connection.close()
        await server.shutdown()
    got = {r.quantity: r.value for r in readings}
    assert all(r.is_good for r in readings), [r for r in readings if not r.is_good]
    assert {r.quantity for r in readings} == {p.quantity_for(role) for p in profile.measured(role)}
    for quantity, want in EXPECTED_QUANTITIES[name].items():
        assert got[quantity] == pytest.approx(want, rel=1e-6), quantity
