"""Modbus TCP endpoints: one pymodbus server per configured HOST:PORT, one unit per device.

Each request runs the device's ``action`` (pymodbus ``SimDevice.action``): it copies the device's
current image into the server's registers, applies request-level faults (silent, slow, exception,
byte order) and validates writes to the writable registers (docs/registers/), answering
exception 03 (illegal data value) for a value outside the documented set. Addresses outside a map
or writes to read-only registers get exception 02 from pymodbus itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from ville_autonome.configuration.errors import PortInUseError
from ville_autonome.simulators import register_images as ri
from ville_autonome.simulators import storage_controls as sc
from ville_autonome.simulators.live import HYDRO_CMD_START, HYDRO_CMD_STOP, LiveDevice

log = logging.getLogger(__name__)

WRITE_CODES = frozenset({6, 16, 22, 23})
Action = Callable[[int, int, int, int, list[int], Any], Coroutine[None, None, ExcCodes | None]]


_BATTERY_WRITES = {
    ri.BATTERY_SET_OP: lambda ctl, word, now: sc.with_set_op(ctl, word),
    ri.BATTERY_STOR_CTL_MOD: sc.with_mode,
    ri.BATTERY_OUT_W_RTE: lambda ctl, word, now: sc.with_rate(ctl, word, now, charge=False),
    ri.BATTERY_IN_W_RTE: lambda ctl, word, now: sc.with_rate(ctl, word, now, charge=True),
    ri.BATTERY_RVRT_TMS: sc.with_revert,
}


def validate_write(dev: LiveDevice, address: int, values: list[int]) -> ExcCodes | None:
    """Check and apply a write to the device's writable registers; an exception code refuses it."""
    if dev.profile == "sunspec-battery-802":
        ctl = dev.controls
        for offset, word in enumerate(values):
            apply = _BATTERY_WRITES.get(address + offset)
            if apply is None:
                return ExcCodes.ILLEGAL_ADDRESS
            try:
                ctl = apply(ctl, word, dev.sim_ms)
            except sc.ControlRefusedError as exc:
                log.info("%s: write refused: %s", dev.id, exc)
                return ExcCodes.ILLEGAL_VALUE
        dev.controls = ctl  # all or nothing: one refused register refuses the whole write
        log.info("%s: storage controls now %s", dev.id, ctl)
        return None
    if dev.profile == "va-hydro-iko":
        if address != ri.HYDRO_COMMAND or len(values) != 1:
            return ExcCodes.ILLEGAL_ADDRESS
        command = values[0]
        if command not in (0, 1, 2, 3):
            return ExcCodes.ILLEGAL_VALUE
        dev.hydro_command = command
        if command == HYDRO_CMD_STOP:
            dev.hydro_stopped = True
        elif command == HYDRO_CMD_START:
            dev.hydro_stopped = False
        log.info("%s: command %d (stopped=%s)", dev.id, command, dev.hydro_stopped)
        return None
    return ExcCodes.ILLEGAL_ADDRESS


def make_action(dev: LiveDevice, stopping: asyncio.Event) -> Action:
    """The per-request hook of one device (see the module docstring)."""

    async def action(
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: Any,
    ) -> ExcCodes | None:
        faults = dev.faults
        if "silent" in faults:
            raise NoSuchIdException(f"{dev.id} is silent (fault)")
        if "slow" in faults:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), faults["slow"].param("delay_s"))
        if "exception" in faults:
            return ExcCodes(int(faults["exception"].param("code")))
        if function_code in WRITE_CODES and set_values is not None:
            words = [int(v) for v in set_values]
            result = validate_write(dev, address, words)
            if result is not None:
                return result
            # the image is rebuilt with the new controls at the next tick; show the write at once
            image = dev.build_image(dev.values) if dev.values else dev.image
            dev.image = image
        image = dev.image
        if image and len(image) <= len(registers):  # pymodbus appends one invalid sentinel register
            registers[: len(image)] = ri.swap_bytes(image) if "byte_swap" in faults else image
        return None

    return action


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`PortInUseError` when HOST:PORT cannot be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(f"Modbus port {host}:{port} is already in use") from None
            raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def sim_devices(devices: dict[int, LiveDevice], stopping: asyncio.Event) -> list[SimDevice]:
    """pymodbus devices (one per unit id) serving ``devices``' register images (TCP and RTU alike)."""
    sims = []
    for unit, dev in devices.items():
        rmap = dev.register_map
        if rmap is not None:
            sims.append(SimDevice(id=unit, simdata=_blocks(rmap), action=make_action(dev, stopping)))
    return sims


@dataclass
class Endpoint:
    """One listening Modbus TCP server and the devices (unit ids) behind it."""

    host: str
    port: int
    devices: dict[int, LiveDevice]
    server: ModbusTcpServer | None = None

    async def start(self, stopping: asyncio.Event) -> None:
        check_port_free(self.host, self.port)
        sims = sim_devices(self.devices, stopping)
        self.server = ModbusTcpServer(sims, address=(self.host, self.port), ignore_missing_devices=True)
        try:
            await self.server.serve_forever(background=True)
        except RuntimeError:
            self.server = None
            raise PortInUseError(f"Modbus port {self.host}:{self.port} is already in use") from None

    async def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await server.shutdown()


def _blocks(rmap: ri.RegisterMap) -> list[SimData]:
    """The map as SimData runs: read-only except the documented writable registers."""
    blocks: list[SimData] = []
    run_start = rmap.start
    end = rmap.start + rmap.length
    addr = rmap.start
    while addr <= end:
        if addr == end or addr in rmap.writable:
            if addr > run_start:
                blocks.append(
                    SimData(
                        address=run_start, count=addr - run_start, values=0, datatype=DataType.REGISTERS, readonly=True
                    )
                )
            if addr < end:
                blocks.append(SimData(address=addr, count=1, values=0, datatype=DataType.REGISTERS, readonly=False))
            run_start = addr + 1
        addr += 1
    return blocks
