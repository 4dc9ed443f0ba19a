"""Modbus acquisition: connections shared by devices, one poller task per device.

- :class:`Connection`: one pymodbus async client per transport (``HOST:PORT`` for Modbus TCP, a
  serial port for RTU), shared by every device behind it, with one lock (one request at a time:
  many devices accept a single connection and one outstanding request), pacing between requests
  (``GatewayConfig.request_gap_s``) and a timeout per request. pymodbus errors are translated
  here into :class:`gateway.errors.DeviceReadError`.
- :func:`gateway.sunspec_discovery.discover_sunspec`: find ``SunS`` and walk the model chain.
- :class:`ModbusPoller`: polls one device on its own schedule (``poll_interval_s``), decodes
  with the register codec and emits readings with their quality. A failing device backs off
  exponentially (interval × 2^(n−1), capped by ``max_backoff_s``); it holds only its own
  connection's lock while it waits, so it never delays devices on other connections.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from ville_autonome.configuration.topology import DeviceConfig, SerialSettings
from ville_autonome.gateway.answer_decoding import Answer, AnswerDecoder
from ville_autonome.gateway.errors import DeviceExceptionError, DeviceReadError, DeviceTimeoutError
from ville_autonome.gateway.planning import ReadRequest, plan_reads
from ville_autonome.gateway.quality import ValueTracker, failed_readings
from ville_autonome.gateway.sunspec_discovery import discover_sunspec
from ville_autonome.readings.model import Quality, Reading
from ville_autonome.registers.catalog import AUTO_SUNSPEC
from ville_autonome.registers.profile import Profile, SunSpecLayout, profile_for_models

log = logging.getLogger(__name__)

AsyncClient = AsyncModbusTcpClient | AsyncModbusSerialClient


def connection_key(device: DeviceConfig) -> str:
    return f"{device.protocol}:{device.address}"


def make_modbus_client(device: DeviceConfig) -> AsyncClient:
    """An unconnected pymodbus client for the device's transport (no retries: we schedule them)."""
    if device.protocol == "modbus-rtu":
        serial = device.serial or SerialSettings()
        return AsyncModbusSerialClient(
            device.address,
            baudrate=serial.baudrate,
            parity=serial.parity,
            stopbits=serial.stopbits,
            bytesize=serial.bytesize,
            timeout=device.timeout_s,
            retries=0,
            reconnect_delay=0,
        )
    host, _, port = device.address.rpartition(":")
    return AsyncModbusTcpClient(host, port=int(port), timeout=device.timeout_s, retries=0, reconnect_delay=0)


class Connection:
    """One Modbus transport shared by its devices; one request at a time, paced."""

    def __init__(self, key: str, client: AsyncClient, *, request_gap_s: float = 0.0) -> None:
        self.key = key
        self.client = client
        self.request_gap_s = request_gap_s
        self.lock = asyncio.Lock()
        self._last_request = 0.0
        self.requests = 0

    async def read(
        self,
        table: str,
        address: int,
        count: int,
        unit: int,
        timeout_s: float,
        *,
        on_send: Callable[[float], None] | None = None,
    ) -> list[int]:
        """The ``count`` registers at ``address``; ``on_send(loop time)`` is called as the request
        goes out (after the connection's lock and pacing: when a poll really starts)."""
        async with self.lock:
            return await self._read_locked(table, address, count, unit, timeout_s, on_send)

    async def _read_locked(
        self,
        table: str,
        address: int,
        count: int,
        unit: int,
        timeout_s: float,
        on_send: Callable[[float], None] | None = None,
    ) -> list[int]:
        loop = asyncio.get_running_loop()
        if self.request_gap_s:
            wait = self._last_request + self.request_gap_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        try:
            if not self.client.connected:
                async with asyncio.timeout(timeout_s):
                    ok = await self.client.connect()
                if not ok:
                    raise DeviceTimeoutError(f"{self.key}: cannot connect")
            self.requests += 1
            if on_send is not None:
                on_send(loop.time())
            async with asyncio.timeout(timeout_s):
                if table == "input":
                    rr = await self.client.read_input_registers(address, count=count, device_id=unit)
                else:
                    rr = await self.client.read_holding_registers(address, count=count, device_id=unit)
        except TimeoutError:
            self.client.close()  # a late answer must not be taken for the next request's
            raise DeviceTimeoutError(f"{self.key}: no answer within {timeout_s:g} s") from None
        except (ModbusException, OSError) as exc:
            self.client.close()
            raise DeviceTimeoutError(f"{self.key}: {exc}") from None
        finally:
            self._last_request = loop.time()
        if rr.isError():
            code = int(getattr(rr, "exception_code", 0) or 0)
            raise DeviceExceptionError(code, f"{self.key} unit {unit}: Modbus exception {code} at {address}+{count}")
        return list(rr.registers[:count])

    async def write(self, address: int, words: list[int], unit: int, timeout_s: float) -> None:
        """Write holding registers (FC 16); the same errors as :meth:`read`."""
        async with self.lock:
            try:
                if not self.client.connected:
                    async with asyncio.timeout(timeout_s):
                        if not await self.client.connect():
                            raise DeviceTimeoutError(f"{self.key}: cannot connect")
                self.requests += 1
                async with asyncio.timeout(timeout_s):
                    rr = await self.client.write_registers(address, words, device_id=unit)
            except TimeoutError:
                self.client.close()
                raise DeviceTimeoutError(f"{self.key}: no answer within {timeout_s:g} s") from None
            except (ModbusException, OSError) as exc:
                self.client.close()
                raise DeviceTimeoutError(f"{self.key}: {exc}") from None
            finally:
                self._last_request = asyncio.get_running_loop().time()
        if rr.isError():
            code = int(getattr(rr, "exception_code", 0) or 0)
            raise DeviceExceptionError(code, f"{self.key} unit {unit}: Modbus exception {code} writing {address}")

    def close(self) -> None:
        self.client.close()


@dataclass
class DeviceState:
    """What the gateway knows about one device's health."""

    device: str
    online: bool = False
    last_seen_ms: int | None = None
    last_quality: str = "good"
    errors: dict[str, int] = field(default_factory=dict)
    polls: int = 0
    failures: int = 0  # consecutive
    backoff_s: float = 0.0

    def count(self, kind: str, n: int = 1) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + n


Emit = Callable[[list[Reading]], None]


class ModbusPoller:
    """Polls one Modbus device on its schedule."""

    def __init__(
        self,
        device: DeviceConfig,
        role: str,
        profile: Profile | None,
        connection: Connection,
        emit: Emit,
        state: DeviceState,
        *,
        phase_s: float = 0.0,
        on_poll_start: Callable[[float], None] | None = None,
        on_request_sent: Callable[[float], None] | None = None,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.device = device
        self.role = role
        self.connection = connection
        self.emit = emit
        self.state = state
        self.phase_s = phase_s
        self.on_poll_start = on_poll_start  # lateness [s] of the task's wake-up against its schedule
        self.on_request_sent = on_request_sent  # … and of its first request on the wire
        self.clock_ms = clock_ms
        self._due = 0.0
        self.tracker = ValueTracker(stuck_after_ms=int(device.stuck_after_s * 1000) if device.stuck_after_s else None)
        self.auto = profile is None  # profile "sunspec": chosen from the models discovered
        if profile is None:
            profile = Profile(name=AUTO_SUNSPEC, points=(), sunspec=SunSpecLayout(40000, ()))
        self._discovered = not self.auto and (profile.sunspec is None or not device.sunspec_discovery)
        self.stopping = False
        self._plan(profile)

    def _plan(self, profile: Profile) -> None:
        self.profile: Profile = profile
        self.requests: list[ReadRequest] = plan_reads(profile.needed(self.role), max_gap=profile.max_gap)
        self._decoder = AnswerDecoder(self.requests, self.role)

    async def run(self) -> None:
        """Poll until cancelled."""
        loop = asyncio.get_running_loop()
        interval = self.device.poll_interval_s
        due = loop.time() + self.phase_s
        while not self.stopping:
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            started = loop.time()
            if self.on_poll_start is not None:
                self.on_poll_start(started - due)
            self._due = due
            ok = await self.poll_once()
            if ok:
                due += interval
                if due <= loop.time():  # overran: skip the missed slots, keep the phase
                    missed = int((loop.time() - due) // interval) + 1
                    due += missed * interval
                    self.state.count("missed_slots", missed)
                self.state.backoff_s = 0.0
            else:
                backoff = min(interval * 2 ** (self.state.failures - 1), self.device.max_backoff_s)
                self.state.backoff_s = backoff
                due = max(started + backoff, loop.time())

    async def poll_once(self) -> bool:
        """One poll: read every request, emit readings. ``True`` if the device answered."""
        state = self.state
        state.polls += 1
        ts_ms = self.clock_ms()
        timeout = self.device.timeout_s
        unit = self.device.unit_id
        try:
            if not self._discovered and not await self._discover(unit, timeout):
                state.count("no_known_sunspec_model")
                state.failures += 1
                state.online = True  # it answered, but the gateway cannot read it
                state.last_quality = str(Quality.DECODE_ERROR)
                return False
            answers: list[Answer] = []
            answered = False
            sent = self._sent if self.on_request_sent is not None else None
            for req in self.requests:
                try:
                    words = await self.connection.read(req.table, req.address, req.count, unit, timeout, on_send=sent)
                    sent = None  # the poll's first request only
                    answers.append((words, None))
                    answered = True
                except DeviceExceptionError as exc:
                    state.count(f"exception_{exc.code}")
                    answers.append((None, Quality.EXCEPTION))
                    answered = True
        except DeviceTimeoutError as exc:
            return self._failed(ts_ms, exc)
        readings = self._decode(answers, ts_ms)
        if self.tracker.counter_resets:
            state.count("counter_reset", self.tracker.counter_resets)
            self.tracker.counter_resets = 0
        self.emit(readings)
        state.online = answered
        state.last_seen_ms = ts_ms
        state.failures = 0
        bad = [r.quality for r in readings if r.quality is not Quality.GOOD]
        state.last_quality = str(bad[0]) if bad else "good"
        for q in bad:
            if q is not Quality.EXCEPTION:
                state.count(str(q))
        if bad and Quality.EXCEPTION in bad:
            state.count("exception")
        return answered

    def _sent(self, at: float) -> None:
        if self.on_request_sent is not None:
            self.on_request_sent(at - self._due)

    def _failed(self, ts_ms: int, exc: DeviceReadError) -> bool:
        state = self.state
        state.failures += 1
        state.count("timeout")
        state.last_quality = str(Quality.TIMEOUT)
        if state.online or state.failures == 1:
            log.warning("device %s: %s", self.device.id, exc)
        else:
            log.debug("device %s: %s (failure %d)", self.device.id, exc, state.failures)
        state.online = False
        quantities = [q for p in self.profile.measured(self.role) if (q := p.quantity_for(self.role))]
        self.emit(failed_readings(self.device.id, quantities, ts_ms, Quality.TIMEOUT))
        return False

    async def _discover(self, unit: int, timeout_s: float) -> bool:
        """Walk the SunSpec chain; move (or, for ``profile: sunspec``, choose) the profile.
        ``False`` if an automatic profile cannot be chosen (retried at the next poll)."""
        found = await discover_sunspec(self.connection, unit, timeout_s)
        if found is None:
            if self.auto:
                log.warning("device %s: no SunSpec marker: set a register profile", self.device.id)
                return False
            self._discovered = True
            log.warning("device %s: no SunSpec marker found; using the profile's default layout", self.device.id)
            return True
        _, models = found
        if self.auto:
            chosen = profile_for_models(m for m, _, _ in models)
            if chosen is None:
                log.warning(
                    "device %s: no shipped profile for SunSpec models %s", self.device.id, [m[0] for m in models]
                )
                return False
            log.info("device %s: SunSpec models %s → profile %s", self.device.id, [m[0] for m in models], chosen.name)
            self.profile = chosen
        self._discovered = True
        addresses = {model_id: address for model_id, address, _ in models}
        missing = [m.id for m in self.profile.sunspec.models if m.id not in addresses] if self.profile.sunspec else []
        if missing:
            log.warning(
                "device %s: SunSpec models %s of profile %s not found", self.device.id, missing, self.profile.name
            )
        self._plan(self.profile.rebased(addresses))
        return True

    def _decode(self, answers: list[Answer], ts_ms: int) -> list[Reading]:
        """Readings of one poll's answers (``gateway.answer_decoding``)."""
        return self._decoder.readings(self.device.id, answers, ts_ms, self.tracker)
