"""The benchmark's minimal Modbus TCP responder (bench/modbus_responder.py) answers what a
pymodbus server answers for the same image: the gateway benchmark's figures rest on it."""

from __future__ import annotations

import asyncio
import struct

import pytest
from pymodbus.client import AsyncModbusTcpClient

from bench.modbus_responder import RegisterImage, serve_image
from tests.gateway.modbus_devices import BASE, ModbusTestDevice, meter_image
from tests.support.ports import free_port


async def _raw(port: int, frame: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(frame)
        await writer.drain()
        head = await reader.readexactly(6)
        return head + await reader.readexactly(struct.unpack(">H", head[4:6])[0])
    finally:
        writer.close()


async def test_reads_and_exceptions_are_those_of_a_pymodbus_server() -> None:
    image = meter_image()
    port = free_port()
    servers = await serve_image(RegisterImage(BASE, image), [port])
    reference = ModbusTestDevice(image)
    await reference.start()
    ours = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    theirs = AsyncModbusTcpClient("127.0.0.1", port=reference.port, timeout=2, retries=0)
    try:
        await ours.connect()
        await theirs.connect()
        for table, address, count in [
            ("holding", 40073, 104),
            ("input", 40000, 2),
            ("holding", 40000 + len(image) - 3, 3),
        ]:
            read = "read_holding_registers" if table == "holding" else "read_input_registers"
            mine = await getattr(ours, read)(address, count=count, device_id=1)
            ref = await getattr(theirs, read)(address, count=count, device_id=1)
            assert not mine.isError()
            assert mine.registers == ref.registers == image[address - BASE : address - BASE + count]
        beyond = await ours.read_holding_registers(BASE + len(image) - 1, count=2, device_id=7)
        assert (beyond.isError(), beyond.exception_code) == (True, 2)
        write = await ours.write_register(BASE, 1, device_id=1)
        assert (write.isError(), write.exception_code) == (True, 1)
    finally:
        ours.close()
        theirs.close()
        await reference.stop()
        for s in servers:
            s.close()


@pytest.mark.parametrize("quantity", [0, 126])
async def test_a_quantity_outside_1_to_125_is_exception_03(quantity: int) -> None:
    port = free_port()
    servers = await serve_image(RegisterImage(BASE, meter_image()), [port])
    try:
        answer = await _raw(port, struct.pack(">HHHBBHH", 9, 0, 6, 4, 3, BASE, quantity))
        assert answer == struct.pack(">HHHBBB", 9, 0, 3, 4, 0x83, 3)
    finally:
        for s in servers:
            s.close()


async def test_two_frames_in_one_segment_and_one_split_in_two_are_both_answered() -> None:
    port = free_port()
    image = meter_image()
    servers = await serve_image(RegisterImage(BASE, image), [port])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        first, second = (struct.pack(">HHHBBHH", tid, 0, 6, 1, 3, BASE, 2) for tid in (1, 2))
        writer.write(first + second[:5])
        await writer.drain()
        writer.write(second[5:])
        for tid in (1, 2):
            head = await reader.readexactly(6)
            body = await reader.readexactly(struct.unpack(">H", head[4:6])[0])
            assert struct.unpack(">H", head[:2])[0] == tid
            assert body == bytes((1, 3, 4)) + struct.pack(">2H", *image[:2])
    finally:
        writer.close()
        for s in servers:
            s.close()
