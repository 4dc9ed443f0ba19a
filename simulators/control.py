"""The simulators' HTTP control endpoint (asyncio, stdlib only): switch faults at run time.

Routes (JSON in and out, docs/simulators.md)::

    GET    /health                       {"status": "ok", "sim_ms": …}
    GET    /devices                      {device: {"host", "port", "unit_id", "profile", "protocol", "topic", "topics"}}
    GET    /faults                       {device: {fault: {param: value}}}
    POST   /faults/{device}/{fault}      body: {"param": number, …} (optional) → 200 / 400 / 404
    DELETE /faults/{device}              clear one device's faults
    DELETE /faults                       clear every fault

Errors answer ``{"error": "…"}`` with 400 (bad fault or parameter), 404 (unknown device or route),
405 (method) or 413 (body over 64 kB).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

from ville_autonome.configuration.errors import PortInUseError
from ville_autonome.simulators.errors import SimulatorError

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


class Controlled(Protocol):
    def describe_devices(self) -> dict[str, dict[str, Any]]: ...
    def describe_faults(self) -> dict[str, dict[str, dict[str, float]]]: ...
    def inject_fault(self, device_id: str, fault: str, **params: Any) -> None: ...
    def clear_faults(self, device_id: str | None = None) -> None: ...
    def sim_ms(self) -> int: ...


class UnknownDeviceError(SimulatorError, LookupError):
    """A device id that the simulator does not serve."""


def route(target: Controlled, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """Pure request → (status, JSON document) dispatch."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    try:
        return _dispatch(target, method, path, parts, body)
    except UnknownDeviceError as exc:
        return 404, {"error": str(exc.args[0] if exc.args else exc)}
    except json.JSONDecodeError as exc:
        return 400, {"error": f"body is not JSON: {exc}"}
    except ValueError as exc:
        return 400, {"error": str(exc)}


def _dispatch(target: Controlled, method: str, path: str, parts: list[str], body: bytes) -> tuple[int, Any]:
    if parts == ["health"] and method == "GET":
        return 200, {"status": "ok", "sim_ms": target.sim_ms()}
    if parts == ["devices"] and method == "GET":
        return 200, target.describe_devices()
    if parts and parts[0] == "faults":
        return _faults(target, method, path, parts, body)
    return 404, {"error": f"no route {method} {path}"}


def _faults(target: Controlled, method: str, path: str, parts: list[str], body: bytes) -> tuple[int, Any]:
    """The ``/faults`` routes."""
    if len(parts) == 1 and method == "GET":
        return 200, target.describe_faults()
    if len(parts) == 1 and method == "DELETE":
        target.clear_faults()
        return 200, {"cleared": "all"}
    if len(parts) == 2 and method == "DELETE":
        target.clear_faults(parts[1])
        return 200, {"cleared": parts[1]}
    if len(parts) == 3 and method == "POST":
        return _inject(target, parts[1], parts[2], body)
    return 405, {"error": f"{method} not allowed on {path}"}


def _inject(target: Controlled, device: str, fault: str, body: bytes) -> tuple[int, Any]:
    params = json.loads(body) if body.strip() else {}
    if not isinstance(params, dict):
        return 400, {"error": "the body must be a JSON object of fault parameters"}
    target.inject_fault(device, fault, **params)
    return 200, {"device": device, "fault": fault, "params": params}


class ControlServer:
    def __init__(self, target: Controlled, host: str, port: int) -> None:
        self.target, self.host, self.port = target, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
        except OSError as exc:
            raise PortInUseError(f"control port {self.host}:{self.port} is not available: {exc.strerror}") from None
        sock = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])
        log.info("simulator control endpoint on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, doc = await self._request(reader)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, ValueError):
            status, doc = 400, {"error": "malformed HTTP request"}
        data = json.dumps(doc).encode("utf-8")
        head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        try:
            writer.write(head.encode("ascii") + data)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _request(self, reader: asyncio.StreamReader) -> tuple[int, Any]:
        line = (await asyncio.wait_for(reader.readline(), 10.0)).decode("latin-1").split()
        if len(line) < 2:
            raise ValueError("bad request line")
        method, path = line[0].upper(), line[1]
        length = 0
        while True:
            header = (await asyncio.wait_for(reader.readline(), 10.0)).decode("latin-1").strip()
            if not header:
                break
            name, _, value = header.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length > MAX_BODY:
            return 413, {"error": f"body over {MAX_BODY} bytes"}
        body = await asyncio.wait_for(reader.readexactly(length), 10.0) if length else b""
        return route(self.target, method, path, body)
