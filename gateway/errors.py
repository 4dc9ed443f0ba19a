"""The gateway's exceptions: one root, :class:`GatewayError`.

::

    GatewayError                   every error the gateway raises
    ├── GatewayConfigError         unknown gateway id, profile that does not load (one line, exit 2;
    │                              also a configuration.errors.ConfigError)
    ├── BufferFileError            the store-and-forward file cannot be opened or written
    ├── CommandNotAppliedError     a command ends without being applied (refused, expired, timed
    │                              out): carries its result status; never leaves gateway.commands
    ├── DeviceReadError            one request to one device failed (never leaves the poller)
    │   ├── DeviceTimeoutError     no answer in time, or no connection
    │   └── DeviceExceptionError   the device answered with a Modbus exception code
    └── PayloadError               an MQTT payload is not JSON (or not a number) as its mapping
                                   expects (also a ValueError; the reading is dropped, logged)

pymodbus errors (``ModbusException`` and subclasses, ``OSError``) are translated into
``DeviceReadError`` at the boundary (``gateway.modbus_source``); they become readings with a
``timeout`` or ``exception`` quality and device-health stats, never a crash.
"""

from __future__ import annotations

from ville_autonome.configuration.errors import ConfigError
from ville_autonome.readings.commands import CommandStatus


class GatewayError(Exception):
    """Every error the gateway raises."""


class GatewayConfigError(GatewayError, ConfigError):
    """The configuration cannot run this gateway."""


class BufferFileError(GatewayError):
    """The buffer file cannot be opened or written."""


class CommandNotAppliedError(GatewayError):
    """How a command ends when it is not applied: its result's ``status``, ``detail`` and Modbus
    exception ``code`` (``gateway.commands`` turns it into the command's one result)."""

    def __init__(self, status: CommandStatus, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code


class PayloadError(GatewayError, ValueError):
    """The payload is not JSON (or not a number) as the topic's mapping expects."""


class DeviceReadError(GatewayError):
    """One request to one device failed."""


class DeviceTimeoutError(DeviceReadError):
    """No answer within the device's timeout (or no connection at all)."""


class DeviceExceptionError(DeviceReadError):
    """A Modbus exception response (``code``: 1 illegal function, 2 illegal address, …)."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(message)
