"""Real pymodbus servers for gateway tests (Modbus TCP, or RTU framing over a TCP socket): a SunSpec meter image whose behaviour a test sets.

The image is built with the register codec from the shipped profile (the simulators do the same
with their own maps); ``mode`` makes the device answer normally, stay silent, answer slowly,
answer with a Modbus exception, or swap the bytes of every register.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.support.ports import free_port
from ville_autonome.registers.codec import encode, swap_bytes
from ville_autonome.registers.profile import Profile, load_profile

BASE = 40000
FILLER_MODEL = 64999
METER_SF = {"A_SF": -2, "V_SF": -1, "Hz_SF": -2, "W_SF": 0, "VA_SF": 0, "VAR_SF": 0, "PF_SF": -2, "TotWh_SF": 0}
METER_VALUES = {
    "AphA": 10.5,
    "AphB": 11.0,
    "AphC": 9.75,
    "PhVphA": 230.1,
    "PhVphB": 229.9,
    "PhVphC": 231.0,
    "Hz": 50.01,
    "W": 7200.0,
    "WphA": 2400.0,
    "WphB": 2400.0,
    "WphC": 2400.0,
    "VA": 7500.0,
    "VAR": 1200.0,
    "PF": 0.96,  # power_factor after the profile scale (raw 9600 × 10^-2 % = 96 %)
    "TotWhExp": 1000.0,
    "TotWhImp": 123456.0,
    "Evt": 0.0,
}


def sunspec_image(
    profile: Profile, values: Mapping[str, float], factors: Mapping[str, int], *, model_gap: int = 0
) -> list[int]:
    """Registers from BASE: 'SunS', the profile's models (each ``model_gap`` registers later than
    the profile says, to exercise discovery), end marker; points encoded from ``values``."""
    assert profile.sunspec is not None
    shift = {m.id: (m.address + (model_gap if m.id != 1 else 0)) for m in profile.sunspec.models}
    moved = profile.rebased(shift)
    assert moved.sunspec is not None
    end = max(m.address + 2 + m.length for m in moved.sunspec.models)
    image = [0] * (end + 2 - BASE)
    image[0:2] = encode("SunS", "string", length=2)
    if model_gap:  # a vendor model (ID 64999) of model_gap registers after the common model
        common = moved.sunspec.models[0]
        filler = common.address + 2 + common.length
        image[filler - BASE : filler - BASE + 2] = [FILLER_MODEL, model_gap - 2]
    for m in moved.sunspec.models:
        image[m.address - BASE] = m.id
        image[m.address + 1 - BASE] = m.length
    image[end - BASE] = 0xFFFF
    image[end + 1 - BASE] = 0
    for p in moved.points:
        if p.datatype == "sunssf" and p.name in factors:
            words = encode(factors[p.name], "sunssf")
        elif p.name in values:
            sf = factors.get(p.scale_factor) if p.scale_factor else None
            words = encode(values[p.name], p.datatype, scale=p.scale, scale_factor=sf)
        elif p.datatype == "string":
            words = encode("test", "string", length=p.count)
        else:
            continue
        image[p.address - BASE : p.address - BASE + p.count] = words
    return image


def meter_image(values: Mapping[str, float] | None = None, *, model_gap: int = 0) -> list[int]:
    return sunspec_image(
        load_profile("sunspec-meter-203"), {**METER_VALUES, **(values or {})}, METER_SF, model_gap=model_gap
    )


class ModbusTestDevice:
    """A pymodbus server on a free loopback port serving ``image`` from address BASE, unit 1."""

    def __init__(self, image: list[int], *, framer: FramerType = FramerType.SOCKET) -> None:
        self.image = list(image)
        self.framer = framer
        self.port = free_port()
        self.mode = "ok"  # ok | silent | slow | exception | byte_swap | gateway_no_answer
        self.delay_s = 0.0
        self.exception_code = ExcCodes.DEVICE_FAILURE
        self.requests = 0
        self._wake = asyncio.Event()
        self.server: ModbusTcpServer | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set_words(self, address: int, words: list[int]) -> None:
        self.image[address - BASE : address - BASE + len(words)] = words

    async def _action(
        self, function_code: int, start_address: int, address: int, count: int, registers: list[int], set_values: Any
    ) -> ExcCodes | None:
        self.requests += 1
        if self.mode == "gateway_no_answer":
            raise NoSuchIdException("test device behind a gateway that gets no answer")  # exception 11
        if self.mode in ("slow", "silent"):  # silent: never answers before the device stops
            wake = self._wake
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.delay_s if self.mode == "slow" else None)
        if self.mode == "exception":
            return self.exception_code
        registers[:] = swap_bytes(self.image) if self.mode == "byte_swap" else self.image
        return None

    def release(self) -> None:
        """Let requests held by a silent or slow device finish (their answers go nowhere)."""
        self._wake.set()
        self._wake = asyncio.Event()

    async def start(self) -> None:
        data = [SimData(address=BASE, count=len(self.image), values=0, datatype=DataType.REGISTERS)]
        device = SimDevice(id=1, simdata=data, action=self._action)
        self.server = ModbusTcpServer(device, address=("127.0.0.1", self.port), framer=self.framer)
        await self.server.serve_forever(background=True)

    async def stop(self) -> None:
        self.release()
        if self.server is not None:
            server, self.server = self.server, None
            await server.shutdown()
