"""The live service seen from a real pymodbus client: values, writes, exceptions, and every fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from tests.simulators.conftest import FIXED_DATES, ConfigFactory, epoch_ms
from tests.support.waiting import async_wait_for
from ville_autonome.configuration.errors import PortInUseError
from ville_autonome.registers.codec import decode
from ville_autonome.simulators.faults import FaultError
from ville_autonome.simulators.scenario import DEFAULT_SCENARIO, load_scenario
from ville_autonome.simulators.service import SimulatorService, default_tick_s

SITES = {"quai-innovation", "iko-hydro"}


def service(make_config: ConfigFactory, **kwargs: object) -> SimulatorService:
    return SimulatorService(make_config(sites=SITES), speed=60.0, tick_s=0.05, **kwargs)  # type: ignore[arg-type]


async def client_for(
    svc: SimulatorService,
    device: str,
    timeout: float = 2.0,  # noqa: ASYNC109 (the Modbus client's own timeout)
) -> tuple[AsyncModbusTcpClient, int]:
    ep = svc.endpoints[device]
    c = AsyncModbusTcpClient(ep.host, port=ep.port, timeout=timeout, retries=0)
    assert await c.connect()
    return c, ep.unit_id


async def regs(c: AsyncModbusTcpClient, unit: int, address: int, count: int) -> list[int]:
    rr = await c.read_holding_registers(address, count=count, device_id=unit)
    assert not rr.isError(), rr
    return list(rr.registers)


def sf_value(words: list[int], sf_word: int, datatype: str = "int16") -> float:
    sf = int(decode([sf_word], "sunssf").value)  # type: ignore[arg-type]
    v = decode(words, datatype, scale_factor=sf).value
    assert isinstance(v, float)
    return v


def test_a_tick_is_at_most_six_simulated_seconds_above_speed_six(make_config: ConfigFactory) -> None:
    # at speed 60 with 1-s ticks a value read was up to a simulated minute old: two meters read a
    # moment apart disagreed by a minute of energy at an interval boundary
    ticks = [default_tick_s(s) for s in (1.0, 6.0, 12.0, 60.0, 3600.0)]
    assert ticks == pytest.approx([1.0, 1.0, 0.5, 0.1, 0.1])
    assert SimulatorService(make_config(sites=SITES), speed=60.0).tick_s == pytest.approx(0.1)
    assert SimulatorService(make_config(sites=SITES), speed=60.0, tick_s=0.05).tick_s == 0.05


async def test_serves_every_modbus_device_and_values_move(make_config: ConfigFactory) -> None:
    async with service(make_config) as svc:
        modbus = [d for d, e in svc.endpoints.items() if e.protocol == "modbus-tcp"]
        assert len(modbus) == 8
        for device in modbus:
            c, unit = await client_for(svc, device)
            try:
                first = await regs(c, unit, svc.devices[device].register_map.start, 16)  # type: ignore[union-attr]
                if device != "iko-turbine":
                    assert first[:2] == [0x5375, 0x6E53]
            finally:
                c.close()
        c, unit = await client_for(svc, "qi-grid-meter")
        try:
            hz0 = await regs(c, unit, 40086, 1)
            await async_wait_for(lambda: _changed(c, unit, 40086, hz0), timeout=10, what="frequency to move")
        finally:
            c.close()


async def _changed(c: AsyncModbusTcpClient, unit: int, address: int, before: list[int]) -> bool:
    return await regs(c, unit, address, len(before)) != before


async def test_unknown_address_and_read_only_writes_answer_exception_02(make_config: ConfigFactory) -> None:
    async with service(make_config) as svc:
        c, unit = await client_for(svc, "qi-grid-meter")
        try:
            rr = await c.read_holding_registers(40179, count=1, device_id=unit)
            assert rr.isError()
            assert rr.exception_code == 2
            rr = await c.read_holding_registers(100, count=1, device_id=unit)
            assert rr.isError()
            assert rr.exception_code == 2
            wr = await c.write_register(40088, 1, device_id=unit)
            assert wr.isError()
            assert wr.exception_code == 2
        finally:
            c.close()


async def test_battery_setpoint_written_over_modbus_drives_the_battery(make_config: ConfigFactory) -> None:
    async with service(make_config) as svc:
        c, unit = await client_for(svc, "hub-energie-battery")
        try:
            bad = await c.write_register(40139, 4, device_id=unit)  # bit 2 is not a StorCtl_Mod bit
            assert bad.isError()
            assert bad.exception_code == 3
            bad = await c.write_register(40146, 1001, device_id=unit)
            assert bad.isError()
            assert bad.exception_code == 3
            # SunSpec model 124: charge limited to 40 %, discharge limited to −40 % (a forced charge)
            assert not (await c.write_registers(40146, [(-400) & 0xFFFF, 400], device_id=unit)).isError()
            assert not (await c.write_register(40139, 3, device_id=unit)).isError()
            assert (await regs(c, unit, 40139, 1)) == [3]

            async def charging_at_40kw() -> bool:
                words = await regs(c, unit, 40117, 17)
                return sf_value([words[0]], words[16]) == pytest.approx(-40_000, abs=100)

            await async_wait_for(charging_at_40kw, timeout=10, what="battery W = −40 kW")
            soc0 = sf_value(await regs(c, unit, 40081, 1), (await regs(c, unit, 40126, 1))[0], "uint16")

            async def soc_rises() -> bool:
                soc = sf_value(await regs(c, unit, 40081, 1), (await regs(c, unit, 40126, 1))[0], "uint16")
                return soc > soc0

            await async_wait_for(soc_rises, timeout=15, what="SoC to rise while charging")
            v = {d: svc.devices[d].values for d in ("qi-load", "qi-wind-roof", "qi-pv-canopy", "hub-energie-battery")}
            grid = svc.devices["qi-grid-meter"].values["active_power_w"]
            generation = v["qi-wind-roof"]["active_power_w"] + v["qi-pv-canopy"]["active_power_w"]
            # the site still closes with the battery off its model: L = G + P_battery + P_grid
            assert v["qi-load"]["active_power_w"] == pytest.approx(
                generation + v["hub-energie-battery"]["active_power_w"] + grid, abs=1e-6
            )
        finally:
            c.close()


async def test_battery_rates_revert_after_the_revert_timeout(make_config: ConfigFactory) -> None:
    async with service(make_config) as svc:  # speed 60: one real second is a device minute
        c, unit = await client_for(svc, "hub-energie-battery")
        try:
            assert not (await c.write_register(40149, 120, device_id=unit)).isError()  # revert after 120 s
            assert not (await c.write_registers(40146, [0, 0], device_id=unit)).isError()  # hold at 0 W
            assert not (await c.write_register(40139, 3, device_id=unit)).isError()
            assert (await regs(c, unit, 40146, 4)) == [0, 0, 0, 120]

            async def reverted() -> bool:
                return (await regs(c, unit, 40139, 1)) == [0] and (await regs(c, unit, 40146, 2)) == [1000, 1000]

            await async_wait_for(reverted, timeout=20, what="the rates to revert to no limit")
            assert svc.devices["hub-energie-battery"].controls.stor_ctl_mod == 0
        finally:
            c.close()


async def test_hydro_stop_and_start_commands(make_config: ConfigFactory) -> None:
    async with service(make_config) as svc:
        c, unit = await client_for(svc, "iko-turbine")
        try:
            bad = await c.write_register(1, 9, device_id=unit)
            assert bad.isError()
            assert bad.exception_code == 3
            assert not (await c.write_register(1, 2, device_id=unit)).isError()

            async def stopped() -> bool:
                words = await regs(c, unit, 0, 8)
                return words[0] == 0 and words[1] == 2 and words[6:8] == [0, 0]

            await async_wait_for(stopped, timeout=10, what="plant stopped with 0 W")
            assert not (await c.write_register(1, 1, device_id=unit)).isError()
            assert (await regs(c, unit, 1, 1)) == [1]
        finally:
            c.close()


async def test_faults_seen_from_a_real_client(make_config: ConfigFactory) -> None:
    async with service(make_config) as svc:
        c, unit = await client_for(svc, "qi-grid-meter", timeout=0.5)
        try:
            normal = await regs(c, unit, 40000, 4)
            assert normal[:2] == [0x5375, 0x6E53]

            svc.inject_fault("qi-grid-meter", "byte_swap")
            assert (await regs(c, unit, 40000, 2)) == [0x7553, 0x536E]
            svc.clear_faults("qi-grid-meter")

            svc.inject_fault("qi-grid-meter", "exception", code=6)
            rr = await c.read_holding_registers(40000, count=2, device_id=unit)
            assert rr.isError()
            assert rr.exception_code == 6
            svc.clear_faults("qi-grid-meter")

            before = await regs(c, unit, 40088, 5)
            svc.inject_fault("qi-grid-meter", "spike", factor=1000)
            words = await regs(c, unit, 40088, 5)
            # a thousand times the power read just before (the physics moves little in between), or
            # the register's end: not a fixed figure, the grid meter's power follows the time of day
            normal_w, spiked_w = abs(sf_value([before[0]], before[4])), abs(sf_value([words[0]], words[4]))
            register_end_w = 30_000 * 10 ** int(decode([words[4]], "sunssf").value or 0) - 1
            assert spiked_w >= min(100 * normal_w, register_end_w)
            svc.clear_faults()

            svc.inject_fault("qi-grid-meter", "stuck")
            stuck = await regs(c, unit, 40072, 60)
            await async_wait_for(
                lambda: svc.clock.now_ms() > svc.start_ms + 120_000, timeout=10, what="2 simulated min"
            )
            assert (await regs(c, unit, 40072, 60)) == stuck
            svc.clear_faults()

            imported = await regs(c, unit, 40116, 2)
            svc.inject_fault("qi-grid-meter", "counter_reset")
            after = await regs(c, unit, 40116, 2)
            assert (after[0] << 16 | after[1]) < (imported[0] << 16 | imported[1])
            svc.clear_faults()

            svc.inject_fault("qi-grid-meter", "silent")
            with pytest.raises(ModbusException):
                await c.read_holding_registers(40000, count=2, device_id=unit)
            svc.clear_faults()
        finally:
            c.close()


async def test_slow_fault_times_out_a_patient_client(make_config: ConfigFactory) -> None:
    async with service(make_config) as svc:
        c, unit = await client_for(svc, "hub-energie-battery", timeout=0.3)
        try:
            svc.inject_fault("hub-energie-battery", "slow", delay_s=3.0)
            with pytest.raises(ModbusException):
                await c.read_holding_registers(40000, count=2, device_id=unit)
        finally:
            c.close()


@pytest.mark.parametrize("start", FIXED_DATES, ids=FIXED_DATES)
async def test_clock_skew_moves_the_heartbeat_on_every_date(make_config: ConfigFactory, start: str) -> None:
    """The heartbeat register (40088) counts the device's own clock, skewed by 20,000 s under the fault.

    At 60x the clock moves about 60 s per real second between the two reads: the upper bound only
    keeps a zeroed register (the bug of issue 19: any value, depending on the time of day) out.
    """
    async with service(make_config, start_ms=epoch_ms(start)) as svc:
        c, unit = await client_for(svc, "hub-energie-battery")
        try:
            hb = (await regs(c, unit, 40088, 1))[0]
            svc.inject_fault("hub-energie-battery", "clock_skew", skew_s=20_000)
            skewed = (await regs(c, unit, 40088, 1))[0]
            assert 20_000 <= (skewed - hb) % 65536 < 20_000 + 30_000
        finally:
            c.close()


async def test_fault_api_refuses_unknown_names_and_devices(make_config: ConfigFactory) -> None:
    svc = service(make_config)
    with pytest.raises(FaultError, match="unknown fault 'melt'"):
        svc.inject_fault("qi-grid-meter", "melt")
    with pytest.raises(FaultError, match="no parameter 'speed'"):
        svc.inject_fault("qi-grid-meter", "slow", speed=3)
    with pytest.raises(LookupError, match="unknown device 'nope'"):
        svc.inject_fault("nope", "silent")
    await svc.stop()  # stop before start is harmless


async def test_a_taken_port_is_one_clear_error(make_config: ConfigFactory) -> None:
    first = service(make_config)
    async with first:
        config = make_config(sites=SITES)
        for _, _, dev in config.devices():
            if dev.id == "qi-load":
                dev.address = first.endpoints["qi-load"].address
        second = SimulatorService(config, speed=60.0)
        with pytest.raises(PortInUseError, match=r"127\.0\.0\.1:\d+ is already in use"):
            await second.start()
        await second.stop()


async def test_the_exposed_clock_moves_with_speed(make_config: ConfigFactory) -> None:
    svc = SimulatorService(make_config(sites=SITES), speed=3600.0, tick_s=0.05)
    async with svc:
        c, unit = await client_for(svc, "hub-energie-battery")
        try:
            hb0 = (await regs(c, unit, 40088, 1))[0]

            async def an_hour_later() -> bool:  # one simulated hour: seconds of real time at 3600×
                return ((await regs(c, unit, 40088, 1))[0] - hb0) % 65536 >= 3600

            await async_wait_for(an_hour_later, timeout=20, what="the heartbeat to advance 3600 s")
        finally:
            c.close()


async def test_scenario_faults_are_active_from_start_up(make_config: ConfigFactory, tmp_path: Path) -> None:
    path = tmp_path / "faulty.yaml"
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8").replace(
        "faults: []",
        "faults:\n  - {device: qi-load, fault: exception, params: {code: 2}}\n  - {device: qi-grid-meter, fault: stuck}",
    )
    path.write_text(text, encoding="utf-8")
    async with SimulatorService(make_config(sites=SITES), scenario=load_scenario(path), tick_s=0.05) as svc:
        c, unit = await client_for(svc, "qi-load")
        try:
            rr = await c.read_holding_registers(40000, count=2, device_id=unit)
            assert rr.isError()
            assert rr.exception_code == 2
        finally:
            c.close()
        c, unit = await client_for(svc, "qi-grid-meter")
        try:  # stuck from start-up: frozen on real values, not on an empty image
            assert (await regs(c, unit, 40000, 2)) == [0x5375, 0x6E53]
        finally:
            c.close()
