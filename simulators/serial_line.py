"""Modbus RTU on a real serial line: simulated devices behind a pseudo-terminal pair.

A ``modbus-rtu`` device's ``address`` is a serial port path. The simulator opens two
pseudo-terminals joined back to back (what ``socat pty,raw pty,raw`` does; :class:`PtyBridge`),
serves the devices as RTU units on one end (pymodbus ``ModbusSerialServer``, RTU framing, CRC,
inter-frame silence) and links the configured path to the other end: a gateway, or any RTU master
(mbpoll, minimalmodbus), opens that path as it would open ``/dev/ttyUSB0``. Several devices on
one path are units of one bus, as on RS-485.

Errors (start-up): ``configuration.errors.PortInUseError`` when the path exists and is not a link
this simulator may replace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tty
from dataclasses import dataclass, field
from pathlib import Path

from pymodbus.server import ModbusSerialServer

from ville_autonome.configuration.errors import PortInUseError
from ville_autonome.configuration.topology import SerialSettings
from ville_autonome.simulators.live import LiveDevice
from ville_autonome.simulators.modbus_endpoints import sim_devices

log = logging.getLogger(__name__)


class PtyBridge:
    """Two pseudo-terminals whose masters copy into each other: a null-modem cable."""

    def __init__(self) -> None:
        self._fds: list[int] = []
        self.server_master, server_slave = self._open()
        self.client_master, client_slave = self._open()
        self.server_path = os.ttyname(server_slave)
        self.client_path = os.ttyname(client_slave)
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open(self) -> tuple[int, int]:
        master, slave = os.openpty()
        tty.setraw(slave)  # bytes as they are: no echo, no line editing
        self._fds += [master, slave]  # the slaves stay open: a master with no slave reads EIO
        return master, slave

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.server_master, self._copy, self.server_master, self.client_master)
        self._loop.add_reader(self.client_master, self._copy, self.client_master, self.server_master)

    @staticmethod
    def _copy(src: int, dst: int) -> None:
        try:
            data = os.read(src, 4096)
            if data:
                os.write(dst, data)
        except OSError:
            pass  # the other end closed: the line is dead until it reopens

    def close(self) -> None:
        if self._loop is not None:
            for fd in (self.server_master, self.client_master):
                self._loop.remove_reader(fd)
            self._loop = None
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []


def link_line(link: Path, target: str) -> None:
    """Make ``link`` point at the pseudo-terminal ``target`` (small, local file-system calls)."""
    if link.exists() and not link.is_symlink():
        raise PortInUseError(f"serial line {link} exists and is not a link the simulator may replace")
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(target)


def unlink_line(link: Path) -> None:
    with contextlib.suppress(OSError):
        link.unlink()


@dataclass
class RtuEndpoint:
    """The devices on one serial line, reachable at ``path``."""

    path: str
    devices: dict[int, LiveDevice]
    serial: SerialSettings = field(default_factory=SerialSettings)
    _bridge: PtyBridge | None = None
    _server: ModbusSerialServer | None = None

    async def start(self, stopping: asyncio.Event) -> None:
        bridge = PtyBridge()
        try:
            link_line(Path(self.path), bridge.client_path)
        except PortInUseError:
            bridge.close()
            raise
        bridge.start()
        self._bridge = bridge
        self._server = ModbusSerialServer(
            sim_devices(self.devices, stopping),
            port=bridge.server_path,
            baudrate=self.serial.baudrate,
            parity=self.serial.parity,
            stopbits=self.serial.stopbits,
            bytesize=self.serial.bytesize,
            ignore_missing_devices=True,
        )
        await self._server.serve_forever(background=True)
        log.info("Modbus RTU line %s (%s): units %s", self.path, bridge.client_path, sorted(self.devices))

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()
        bridge, self._bridge = self._bridge, None
        if bridge is not None:
            bridge.close()
            unlink_line(Path(self.path))
