"""SunSpec discovery: find the ``SunS`` marker and walk the model chain (ID, L, body …, 0xFFFF)
over a :class:`gateway.modbus_source.Connection` (SunSpec Information Model Specification,
"Device Discovery")."""

from __future__ import annotations

import logging
from typing import Protocol

from ville_autonome.gateway.errors import DeviceExceptionError

log = logging.getLogger(__name__)

SUNSPEC_MARKER = [0x5375, 0x6E53]  # "SunS"
SUNSPEC_BASES = (40000, 0, 50000)  # where SunSpec devices put the marker (SunSpec spec, "Device Discovery")
SUNSPEC_END = 0xFFFF


class Connection(Protocol):  # gateway.modbus_source.Connection
    key: str

    async def read(self, table: str, address: int, count: int, unit: int, timeout_s: float) -> list[int]: ...


async def discover_sunspec(
    conn: Connection, unit: int, timeout_s: float, bases: tuple[int, ...] = SUNSPEC_BASES
) -> tuple[int, list[tuple[int, int, int]]] | None:
    """Find the ``SunS`` marker and walk the model chain: ``(base, [(model id, address, L), …])``.

    ``None`` if no base holds the marker. Raises :class:`DeviceTimeoutError` if the device is
    silent (so that the caller retries later rather than concluding "not SunSpec").
    """
    for base in bases:
        try:
            words = await conn.read("holding", base, 2, unit, timeout_s)
        except DeviceExceptionError:
            continue
        if words != SUNSPEC_MARKER:
            continue
        models: list[tuple[int, int, int]] = []
        address = base + 2
        for _ in range(256):  # a chain longer than this is corrupt
            model_id, length = await conn.read("holding", address, 2, unit, timeout_s)
            if model_id == SUNSPEC_END:
                break
            if model_id == 0:  # not a model: a corrupt chain; keep what was found
                log.warning("%s unit %d: SunSpec chain broken at %d (model id 0)", conn.key, unit, address)
                break
            models.append((model_id, address, length))
            address += 2 + length
        return base, models
    return None
