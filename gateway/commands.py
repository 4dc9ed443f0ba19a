"""The gateway's side of the downlink: check a command again, write it, read it back, answer.

For each command received on ``Topics.command(gateway)`` (``readings.commands``):

1. a payload that does not decode, or names another gateway, is logged and dropped (there is no
   one to answer: the result topic names this gateway only);
2. a command seen before (QoS 1 may deliver twice) gets the result it got the first time, never
   a second write;
3. a command received at or after its ``expires_ms`` (this gateway's clock) is answered
   ``expired`` and never applied;
4. the device must be one of this gateway's Modbus devices and every write must pass
   ``registers.commands.check_write`` against the device's profile (as discovery placed it) —
   or one of its MQTT devices with an output, whose writes must be ``relay`` = 0 or 1
   (``configuration.mqtt_presets``): else ``refused``, nothing written;
5. each write in order: the point's scale factor is read from the device, the value encoded and
   written (FC 16), the register read back and decoded. A Modbus exception is ``refused`` with
   its code; no answer is ``timed_out``; a read-back that differs from the value asked is
   ``refused`` ("read back …"). The first failure stops the command (later writes are not tried).
   For an MQTT device (``gateway.command_relays``): the family's ``on``/``off`` is published on its
   command topic and the state it reports on its state topic is the read-back; no state equal to
   the one asked within :data:`RELAY_TIMEOUT_S` is ``timed_out``.

Errors never leave this module: each command ends as exactly one result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from ville_autonome.configuration.mqtt_presets import RELAY_POINT, Relay, check_relay_writes
from ville_autonome.gateway.command_relays import RelayStates
from ville_autonome.gateway.errors import CommandNotAppliedError, DeviceExceptionError, DeviceTimeoutError
from ville_autonome.gateway.modbus_source import ModbusPoller
from ville_autonome.gateway.quality import decode_point
from ville_autonome.readings.commands import (
    Command,
    CommandFormatError,
    CommandResult,
    CommandStatus,
    decode_command,
    encode_result,
)
from ville_autonome.registers.codec import DecodedValue
from ville_autonome.registers.commands import CheckedWrite, WriteRefusedError, check_writes, encode_write
from ville_autonome.registers.points import Point

log = logging.getLogger(__name__)

REMEMBERED = 1024  # results kept to answer a re-delivered command
RELAY_TIMEOUT_S = 10.0  # an MQTT device answers a command with its state within this


class CommandRunner:
    """Runs the commands of one gateway; ``publish(payload)`` sends a result (QoS 1) and says whether
    it could (a result that could not be sent waits for :meth:`flush`, called on reconnection)."""

    def __init__(
        self,
        gateway: str,
        pollers: dict[str, ModbusPoller],
        publish: Callable[[bytes], bool],
        *,
        relays: RelayStates | None = None,
        publish_device: Callable[[str, bytes], bool] = lambda _topic, _payload: False,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.gateway = gateway
        self.pollers = pollers
        self.publish = publish
        self.relays = relays or RelayStates({})
        self.publish_device = publish_device  # QoS 1 to an MQTT device's command topic; False: not sent
        self.clock_ms = clock_ms
        self._done: OrderedDict[str, CommandResult] = OrderedDict()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._unsent: list[bytes] = []
        self.handled = 0

    def receive(self, payload: bytes) -> None:
        """Start handling one command payload (called on the event loop)."""
        try:
            cmd = decode_command(payload)
        except CommandFormatError as exc:
            log.warning("gateway %s: unusable command dropped: %s", self.gateway, exc)
            return
        if cmd.gateway != self.gateway:
            log.warning("gateway %s: command %s for gateway %s dropped", self.gateway, cmd.id, cmd.gateway)
            return
        if cmd.id in self._done:
            self._answer(self._done[cmd.id])  # a re-delivery: the same answer, no second write
            return
        if cmd.id in self._running:
            return
        task = asyncio.create_task(self._run(cmd), name=f"command-{cmd.id}")
        self._running[cmd.id] = task
        task.add_done_callback(lambda _t: self._running.pop(cmd.id, None))

    async def stop(self) -> None:
        tasks = list(self._running.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, cmd: Command) -> None:
        readback: dict[str, float] = {}
        try:
            if cmd.expired(self.clock_ms()):
                raise CommandNotAppliedError(
                    CommandStatus.EXPIRED, f"received after its expiry ({cmd.expires_ms} ms): not applied"
                )
            poller = self.pollers.get(cmd.device)
            relay = self.relays.relays.get(cmd.device)
            if poller is not None:
                await self._run_modbus(cmd, poller, readback)
            elif relay is not None:
                await self._run_relay(cmd, relay, readback)
            else:
                raise CommandNotAppliedError(
                    CommandStatus.REFUSED, f"{cmd.device} is not a writable device of {self.gateway}"
                )
            result = self._result(cmd, CommandStatus.APPLIED, "", None, readback)
        except CommandNotAppliedError as f:
            result = self._result(cmd, f.status, f.detail, f.code, readback)
        self._remember(result)
        self._answer(result)
        log.info("gateway %s: command %s on %s: %s %s", self.gateway, cmd.id, cmd.device, result.status, result.detail)

    async def _run_modbus(self, cmd: Command, poller: ModbusPoller, readback: dict[str, float]) -> None:
        try:
            writes = check_writes(poller.profile, [(w.point, w.value) for w in cmd.writes])
        except WriteRefusedError as exc:
            raise CommandNotAppliedError(CommandStatus.REFUSED, str(exc)) from None
        for w in writes:
            if cmd.expired(self.clock_ms()):
                raise CommandNotAppliedError(CommandStatus.EXPIRED, f"expired before {w.point.name} was written")
            readback[w.point.name] = await self._write(poller, w)

    async def _run_relay(self, cmd: Command, relay: Relay, readback: dict[str, float]) -> None:
        try:
            payloads = check_relay_writes(relay, cmd.device, [(w.point, w.value) for w in cmd.writes])
        except ValueError as exc:
            raise CommandNotAppliedError(CommandStatus.REFUSED, str(exc)) from None
        for w, payload in zip(cmd.writes, payloads, strict=True):
            if cmd.expired(self.clock_ms()):
                raise CommandNotAppliedError(CommandStatus.EXPIRED, f"expired before {RELAY_POINT} was switched")
            armed = self.relays.arm(relay)
            if not self.publish_device(relay.command_topic, payload.encode()):
                raise CommandNotAppliedError(
                    CommandStatus.TIMED_OUT, f"{RELAY_POINT}: the broker did not take {payload!r}"
                )
            state = await self.relays.wait(relay, armed, w.value, RELAY_TIMEOUT_S)
            if state != w.value:
                last = "nothing" if state is None else relay.on if state == 1 else relay.off
                msg = f"{RELAY_POINT}: no state {payload!r} on {relay.state_topic} within {RELAY_TIMEOUT_S:g} s (last: {last})"
                raise CommandNotAppliedError(CommandStatus.TIMED_OUT, msg)
            readback[RELAY_POINT] = state

    async def _write(self, poller: ModbusPoller, write: CheckedWrite) -> float:
        device, conn = poller.device, poller.connection
        point = write.point
        try:
            sf = await self._scale_factor(poller, point)
            try:
                words = encode_write(write, sf)
            except WriteRefusedError as exc:
                raise CommandNotAppliedError(CommandStatus.REFUSED, str(exc)) from None
            await conn.write(point.address, words, device.unit_id, device.timeout_s)
            back = await conn.read(point.table, point.address, point.count, device.unit_id, device.timeout_s)
        except DeviceExceptionError as exc:
            msg = f"{point.name}: the device answered exception {exc.code}"
            raise CommandNotAppliedError(CommandStatus.REFUSED, msg, exc.code) from None
        except DeviceTimeoutError as exc:
            raise CommandNotAppliedError(CommandStatus.TIMED_OUT, f"{point.name}: {exc}") from None
        factors = {point.scale_factor: DecodedValue(float(sf))} if point.scale_factor and sf is not None else {}
        decoded = decode_point(point, back, factors)
        if not isinstance(decoded.value, float) or abs(decoded.value - write.value) > _resolution(point, sf):
            raise CommandNotAppliedError(
                CommandStatus.REFUSED, f"{point.name}: read back {decoded.value!r}, not {write.value:g}"
            )
        return decoded.value

    async def _scale_factor(self, poller: ModbusPoller, point: Point) -> int | None:
        if point.scale_factor is None:
            return None
        sf_point = poller.profile.point(point.scale_factor)
        device = poller.device
        words = await poller.connection.read(sf_point.table, sf_point.address, 1, device.unit_id, device.timeout_s)
        decoded = decode_point(sf_point, words, {})
        if not isinstance(decoded.value, float):
            raise CommandNotAppliedError(CommandStatus.REFUSED, f"{point.name}: scale factor {sf_point.name} unusable")
        return int(decoded.value)

    def _result(
        self, cmd: Command, status: CommandStatus, detail: str, code: int | None, readback: dict[str, float]
    ) -> CommandResult:
        return CommandResult(cmd.id, self.gateway, cmd.device, status, self.clock_ms(), detail, code, readback)

    def _remember(self, result: CommandResult) -> None:
        self._done[result.id] = result
        while len(self._done) > REMEMBERED:
            self._done.popitem(last=False)
        self.handled += 1

    def _answer(self, result: CommandResult) -> None:
        payload = encode_result(result)
        if not self.publish(payload):
            self._unsent.append(payload)

    def flush(self) -> None:
        """Send the results that could not be sent while the broker was away."""
        unsent, self._unsent = self._unsent, []
        for payload in unsent:
            if not self.publish(payload):
                self._unsent.append(payload)


def _resolution(point: Point, sf: int | None) -> float:
    """Half a raw step: what a round trip through the register may change a value by."""
    return 0.5 * abs(point.scale) * 10.0 ** (sf or 0) + 1e-9
