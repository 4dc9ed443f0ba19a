"""Modbus polling against real pymodbus servers: decoding, discovery, faults → quality, backoff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient

from tests.gateway.modbus_devices import FILLER_MODEL, METER_VALUES, ModbusTestDevice, meter_image
from tests.support.waiting import async_wait_for
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.gateway.modbus_source import (
    Connection,
    DeviceState,
    ModbusPoller,
    discover_sunspec,
    make_modbus_client,
)
from ville_autonome.readings.model import Quality, Reading
from ville_autonome.registers.codec import encode
from ville_autonome.registers.profile import load_profile, profile_for_models


@pytest.fixture
async def meter() -> AsyncIterator[ModbusTestDevice]:
    device = ModbusTestDevice(meter_image(model_gap=10))  # model 203 ten registers later than usual
    await device.start()
    try:
        yield device
    finally:
        await device.stop()


class Rig:
    """A poller on a test device, collecting what it emits."""

    def __init__(self, device: ModbusTestDevice, role: str = "grid", **settings: float) -> None:
        fields = {"id": "m1", "role": role, "address": device.address, "profile": "sunspec-meter-203", **settings}
        self.config = DeviceConfig.model_validate(fields)
        self.connection = Connection("test", make_modbus_client(self.config))
        self.readings: list[Reading] = []
        self.state = DeviceState("m1")
        self.poller = ModbusPoller(
            self.config, role, load_profile("sunspec-meter-203"), self.connection, self.readings.extend, self.state
        )

    def by_quantity(self) -> dict[str, Reading]:
        return {r.quantity: r for r in self.readings}

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def rigs() -> Iterator[list[Rig]]:
    made: list[Rig] = []
    yield made
    for r in made:
        r.close()


async def test_meter_is_discovered_and_decoded(meter: ModbusTestDevice, rigs: list[Rig]) -> None:
    rig = Rig(meter, timeout_s=1.0)
    rigs.append(rig)
    assert await rig.poller.poll_once()
    got = rig.by_quantity()
    assert all(r.quality is Quality.GOOD for r in rig.readings), rig.readings
    assert got["active_power_w"].value == METER_VALUES["W"]
    assert got["voltage_l1_v"].value == pytest.approx(230.1)
    assert got["frequency_hz"].value == pytest.approx(50.01)
    assert got["power_factor"].value == pytest.approx(0.96)
    assert got["energy_import_wh"].value == METER_VALUES["TotWhImp"]
    assert got["energy_export_wh"].value == METER_VALUES["TotWhExp"]
    assert rig.poller.requests[0].address == 40083  # found by walking the chain, not the default 40073
    assert rig.state.online


async def test_role_changes_the_quantities(meter: ModbusTestDevice, rigs: list[Rig]) -> None:
    rig = Rig(meter, role="consumption", timeout_s=1.0)
    rigs.append(rig)
    assert await rig.poller.poll_once()
    got = rig.by_quantity()
    assert got["energy_consumed_wh"].value == METER_VALUES["TotWhImp"]
    assert "energy_export_wh" not in got
    assert "energy_import_wh" not in got


async def test_discovery_walks_the_chain(meter: ModbusTestDevice, rigs: list[Rig]) -> None:
    rig = Rig(meter, timeout_s=1.0)
    rigs.append(rig)
    found = await discover_sunspec(rig.connection, 1, 1.0)
    assert found == (40000, [(1, 40002, 66), (FILLER_MODEL, 40070, 8), (203, 40080, 105)])


@pytest.mark.parametrize(
    ("mode", "quality", "online", "error"),
    [
        ("silent", Quality.TIMEOUT, False, "timeout"),
        ("exception", Quality.EXCEPTION, True, "exception_4"),
        ("gateway_no_answer", Quality.EXCEPTION, True, "exception_11"),
    ],
)
async def test_faults_give_the_right_quality(
    meter: ModbusTestDevice, rigs: list[Rig], mode: str, quality: Quality, online: bool, error: str
) -> None:
    rig = Rig(meter, timeout_s=0.3)
    rigs.append(rig)
    assert await rig.poller.poll_once()  # discovery and a good poll first
    rig.readings.clear()
    meter.mode = mode
    assert await rig.poller.poll_once() is online
    assert rig.readings, "a failed poll still reports every quantity"
    assert {r.quality for r in rig.readings} == {quality}
    assert all(r.value is None for r in rig.readings)
    assert rig.state.online is online
    assert rig.state.errors.get(error, 0) >= 1
    assert rig.state.last_quality == str(quality)
    meter.release()


async def test_slow_device_within_its_timeout_is_good(meter: ModbusTestDevice, rigs: list[Rig]) -> None:
    rig = Rig(meter, timeout_s=2.0)
    rigs.append(rig)
    meter.mode, meter.delay_s = "slow", 0.2
    assert await rig.poller.poll_once()
    assert rig.readings
    assert all(r.quality is Quality.GOOD for r in rig.readings)


async def test_wrong_byte_order_is_caught(meter: ModbusTestDevice, rigs: list[Rig]) -> None:
    rig = Rig(meter, timeout_s=1.0)
    rigs.append(rig)
    assert await rig.poller.poll_once()
    rig.readings.clear()
    meter.mode = "byte_swap"
    await rig.poller.poll_once()
    got = rig.by_quantity()
    # voltages become negative (out of range) or their scale factor becomes absurd (decode error)
    assert got["voltage_l1_v"].quality in (Quality.OUT_OF_RANGE, Quality.DECODE_ERROR)
    assert got["current_l1_a"].quality is Quality.DECODE_ERROR  # A_SF 0xFFFE → 0xFEFF = −257


async def test_counter_reset_is_good_and_counted(meter: ModbusTestDevice, rigs: list[Rig]) -> None:
    rig = Rig(meter, timeout_s=1.0)
    rigs.append(rig)
    assert await rig.poller.poll_once()
    address = rig.poller.profile.point("TotWhImp").address
    meter.set_words(address, encode(12.0, "acc32"))
    rig.readings.clear()
    assert await rig.poller.poll_once()
    energy = rig.by_quantity()["energy_import_wh"]
    assert (energy.value, energy.quality) == (12.0, Quality.GOOD)
    assert rig.state.errors["counter_reset"] == 1


async def test_silent_device_backs_off_and_never_delays_the_others(rigs: list[Rig]) -> None:
    silent, healthy = ModbusTestDevice(meter_image()), ModbusTestDevice(meter_image())
    await silent.start()
    await healthy.start()
    tasks: list[asyncio.Task[None]] = []
    try:
        silent.mode = "silent"
        slow_rig = Rig(silent, poll_interval_s=0.1, timeout_s=0.3, max_backoff_s=0.8, sunspec_discovery=False)
        good_rig = Rig(healthy, poll_interval_s=0.1, timeout_s=0.3, sunspec_discovery=False)
        rigs.extend([slow_rig, good_rig])
        tasks = [asyncio.create_task(r.poller.run()) for r in (slow_rig, good_rig)]
        await async_wait_for(lambda: good_rig.state.polls >= 25, timeout=20, what="25 polls of the healthy device")
        # the healthy device polled on its own schedule, all good, while the silent one timed out
        assert all(r.quality is Quality.GOOD for r in good_rig.readings)
        assert slow_rig.state.failures >= 2
        assert all(r.quality is Quality.TIMEOUT for r in slow_rig.readings)
        # backoff: far fewer attempts than the 25 a fixed 0.1 s schedule would have made
        assert slow_rig.state.polls <= 10
        assert slow_rig.state.backoff_s > 0.1
        silent.mode = "ok"  # recovery: back to its normal schedule
        await async_wait_for(lambda: slow_rig.state.online, timeout=20, what="recovery")
        assert slow_rig.state.backoff_s == 0.0
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for r in rigs:
            r.close()
        await silent.stop()
        await healthy.stop()


async def test_each_poll_says_when_its_request_went_out(meter: ModbusTestDevice, rigs: list[Rig]) -> None:
    """Two devices behind one connection: each poll reports when its task woke and when its
    first request was sent, which is never before (the other device may hold the connection)."""
    woke: dict[str, list[float]] = {"a": [], "b": []}
    sent: dict[str, list[float]] = {"a": [], "b": []}
    config = {"address": meter.address, "profile": "sunspec-meter-203", "poll_interval_s": 0.1, "timeout_s": 1.0}
    first = Rig(meter, **{k: v for k, v in config.items() if k in ("poll_interval_s", "timeout_s")})
    rigs.append(first)
    pollers = []
    for name in ("a", "b"):
        dev = DeviceConfig.model_validate({"id": name, "role": "grid", **config})
        pollers.append(
            ModbusPoller(
                dev,
                "grid",
                load_profile("sunspec-meter-203"),
                first.connection,
                lambda _: None,
                DeviceState(name),
                on_poll_start=woke[name].append,
                on_request_sent=sent[name].append,
            )
        )
    tasks = [asyncio.create_task(p.run()) for p in pollers]
    try:
        await async_wait_for(lambda: min(len(v) for v in sent.values()) >= 5, timeout=20, what="5 polls of each")
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for name in ("a", "b"):
        n = min(len(woke[name]), len(sent[name]))
        assert n >= 5
        # a poll's first request leaves after its task woke (discovery's reads come before it)
        assert all(s >= w for w, s in zip(woke[name][:n], sent[name][:n], strict=True))


async def test_modbus_rtu_through_the_serial_transport() -> None:
    """RTU framing through pymodbus's serial client; pyserial's ``socket://`` URL stands in for
    the serial line (the same code path as ``/dev/ttyUSB0``, minus the UART)."""
    device = ModbusTestDevice(meter_image(), framer=FramerType.RTU)
    await device.start()
    try:
        config = DeviceConfig.model_validate(
            {
                "id": "rtu-1",
                "role": "grid",
                "protocol": "modbus-rtu",
                "address": f"socket://127.0.0.1:{device.port}",
                "serial": {"baudrate": 19200, "parity": "E"},
                "profile": "sunspec-meter-203",
                "timeout_s": 1.0,
            }
        )
        client = make_modbus_client(config)
        assert isinstance(client, AsyncModbusSerialClient)
        readings: list[Reading] = []
        state = DeviceState("rtu-1")
        poller = ModbusPoller(
            config, "grid", load_profile("sunspec-meter-203"), Connection("rtu", client), readings.extend, state
        )
        try:
            assert await poller.poll_once()
        finally:
            client.close()
        got = {r.quantity: r for r in readings}
        assert got["active_power_w"].value == METER_VALUES["W"]
        assert all(r.quality is Quality.GOOD for r in readings)
    finally:
        await device.stop()


async def test_profile_sunspec_is_chosen_by_discovery(meter: ModbusTestDevice) -> None:
    """``profile: sunspec``: only host, port and unit are known; the model chain picks the map."""
    config = DeviceConfig.model_validate(
        {"id": "auto", "role": "grid", "address": meter.address, "profile": "sunspec", "timeout_s": 1.0}
    )
    connection = Connection("auto", make_modbus_client(config))
    readings: list[Reading] = []
    poller = ModbusPoller(config, "grid", None, connection, readings.extend, DeviceState("auto"))
    try:
        assert await poller.poll_once()
    finally:
        connection.close()
    assert poller.profile.name == "sunspec-meter-203"
    got = {r.quantity: r for r in readings}
    assert got["active_power_w"].value == METER_VALUES["W"]
    assert got["energy_import_wh"].quality is Quality.GOOD


async def test_profile_sunspec_without_a_known_model_is_counted(rigs: list[Rig]) -> None:
    device = ModbusTestDevice([0x1234] * 10)  # no "SunS" anywhere
    await device.start()
    try:
        config = DeviceConfig.model_validate(
            {"id": "auto", "role": "grid", "address": device.address, "profile": "sunspec", "timeout_s": 1.0}
        )
        connection = Connection("auto", make_modbus_client(config))
        state = DeviceState("auto")
        emitted: list[Reading] = []
        poller = ModbusPoller(config, "grid", None, connection, emitted.extend, state)
        try:
            assert not await poller.poll_once()
        finally:
            connection.close()
        assert state.errors["no_known_sunspec_model"] == 1
        assert state.failures == 1
        assert emitted == []
    finally:
        await device.stop()


def test_profile_for_models() -> None:
    assert profile_for_models([1, 203]).name == "sunspec-meter-203"  # type: ignore[union-attr]
    assert profile_for_models([1, 802, 124, 203]).name == "sunspec-battery-802"  # type: ignore[union-attr]
    assert profile_for_models([1, 64999, 103]).name == "sunspec-inverter-103"  # type: ignore[union-attr]
    assert profile_for_models([1, 701]) is None
