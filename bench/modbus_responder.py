"""A minimal Modbus TCP responder for the gateway benchmark: real Modbus TCP frames, little CPU.

In production the devices are other hardware: their CPU is not the gateway machine's. The
benchmark runs 1,000 devices on the gateway's own two cores, and pymodbus's server spends more
CPU per answer than the gateway's client spends per request; a hog on one core and the device
servers on the other leave the gateway starved for a reason production does not have. This
responder answers the same requests with a fraction of the CPU, so that what the bench measures is
the gateway (``bench_gateway.py --devices responder``, the default; ``--devices pymodbus`` keeps
the pymodbus servers, and the bench prints the device side's CPU beside either).

What it speaks (Modbus Application Protocol v1.1b3, Modbus TCP/IP implementation guide v1.0b):
an MBAP header (transaction id, protocol id 0, length, unit id) then the PDU. Function 3 (read
holding registers) and 4 (read input registers) answer ``[fc, byte count, registers…]`` from one
register image shared by every unit id; anything else answers an exception: 01 (function), 02
(address outside the image), 03 (quantity outside 1…125). A frame with another protocol id, or
a length below 2 or above 254, closes the connection (a TCP device cannot resynchronise).
Several frames in one segment and frames split across segments are both handled.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence

MBAP = struct.Struct(">HHHB")  # transaction id, protocol id, length (unit id + PDU), unit id
READ = struct.Struct(">BHH")  # function code, start address, quantity
MAX_REGISTERS = 125


class RegisterImage:
    """Registers from ``base``, packed big-endian once; answers read requests."""

    def __init__(self, base: int, words: Sequence[int]) -> None:
        self.base = base
        self.count = len(words)
        self.packed = struct.pack(f">{len(words)}H", *words)

    def answer(self, pdu: bytes) -> bytes:
        """The response PDU to a request PDU."""
        fc = pdu[0]
        if fc not in (3, 4):
            return bytes((fc | 0x80, 1))
        if len(pdu) != READ.size:
            return bytes((fc | 0x80, 3))
        _, address, quantity = READ.unpack(pdu)
        if not 1 <= quantity <= MAX_REGISTERS:
            return bytes((fc | 0x80, 3))
        start = address - self.base
        if start < 0 or start + quantity > self.count:
            return bytes((fc | 0x80, 2))
        return bytes((fc, 2 * quantity)) + self.packed[2 * start : 2 * (start + quantity)]


class ResponderProtocol(asyncio.Protocol):
    """One client connection."""

    def __init__(self, image: RegisterImage) -> None:
        self.image = image
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.answered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        buffer = self.buffer + data if self.buffer else data
        out = []
        while len(buffer) >= MBAP.size:
            tid, protocol, length, unit = MBAP.unpack_from(buffer)
            if protocol != 0 or not 2 <= length <= 254:
                self.transport.close()
                return
            end = 6 + length
            if len(buffer) < end:
                break
            pdu = self.image.answer(buffer[MBAP.size : end])
            out.append(MBAP.pack(tid, 0, len(pdu) + 1, unit) + pdu)
            buffer = buffer[end:]
        self.buffer = buffer
        if out:
            self.answered += len(out)
            self.transport.write(b"".join(out))


async def serve_image(image: RegisterImage, ports: Sequence[int], host: str = "127.0.0.1") -> list[asyncio.Server]:
    """One listening socket per port, every unit id answered from ``image``."""
    loop = asyncio.get_running_loop()
    return [await loop.create_server(lambda: ResponderProtocol(image), host, port) for port in ports]
