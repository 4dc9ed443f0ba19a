"""The live simulator service: every configured device on its real protocol, on one clock.

::

    SimulatorService(config, seed=…, speed=…, start_ms=…)
      ├── Modbus TCP endpoints (pymodbus), one per HOST:PORT, a unit per device
      ├── MQTT publisher (paho) for ``protocol: mqtt`` devices, when the config has any
      ├── optional HTTP control endpoint (faults at run time)
      └── a tick task: every ``tick_s`` (:func:`default_tick_s`: 1 s at speed ≤ 6, shorter above),
          every device's values and register image are recomputed at the simulated clock's time
          (simulators.live)

Clock: the physics runs on the simulated clock (``speed`` × wall time); every timestamp the lab
gives (a gateway's poll stamp, an MQTT device's ``unixtime``) is wall-clock time. At speed N a
counter rises N times faster per wall-clock second: the lab publishes N as its clock rate,
``services.simulator.speed``, which the autonomy's plausibility rule multiplies into each
device's fastest plausible rise (docs/metrics.md, docs/simulators.md).

Errors (start-up)::

    configuration.errors.StartupError
    ├── ConfigError        the scenario does not fit the configuration
    └── PortInUseError     a Modbus or control port is taken

Run time: :class:`simulators.errors.SimulatorError` and its tree (drawn in ``simulators.errors``):
``FaultError`` (bad fault) and ``UnknownDeviceError`` from the fault API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from ville_autonome.configuration.errors import ConfigError
from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig, SerialSettings
from ville_autonome.simulators import register_images as ri
from ville_autonome.simulators.control import ControlServer, UnknownDeviceError
from ville_autonome.simulators.faults import make_fault
from ville_autonome.simulators.live import LiveDevice, LiveSite
from ville_autonome.simulators.modbus_endpoints import Endpoint
from ville_autonome.simulators.mqtt_devices import MALFORMED_PAYLOAD, MqttPublisher, build_payloads, next_slot
from ville_autonome.simulators.scenario import Scenario, check_against, effective_seed, resolve, scenario_for
from ville_autonome.simulators.serial_line import RtuEndpoint
from ville_autonome.simulators.sites import COUNTERS, EPOCH_S, build_engines

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServedDevice:
    """Where a simulated device can be reached."""

    device_id: str
    protocol: str
    host: str
    port: int
    unit_id: int
    profile: str
    topic: str | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


MAX_TICK_S = 1.0  # real seconds between recomputations at speed ≤ 6
MIN_TICK_S = 0.1
SIMULATED_S_PER_TICK = 6.0  # at a higher clock rate, a value is never older than this [simulated s]


def default_tick_s(speed: float) -> float:
    """Real seconds between two recomputations at clock rate ``speed``: 1 s at speed ≤ 6, then
    6 simulated seconds a tick, 0.1 s at least (0.1 s at speed 60). A value read is at most a tick
    old, so two devices read a few hundred milliseconds apart disagree by at most a tick's energy:
    at speed 60 with 1-s ticks that was a simulated minute, enough to unbalance an interval."""
    if speed <= 0:
        return MAX_TICK_S
    return min(MAX_TICK_S, max(MIN_TICK_S, SIMULATED_S_PER_TICK / speed))


class SimClock:
    """Simulated epoch milliseconds: ``start_ms + elapsed real time × speed``."""

    def __init__(self, start_ms: int, speed: float) -> None:
        self.start_ms, self.speed = start_ms, speed
        self._t0 = time.monotonic()

    def now_ms(self) -> int:
        return self.start_ms + int((time.monotonic() - self._t0) * self.speed * 1000.0)


class SimulatorService:
    def __init__(
        self,
        config: PlatformConfig,
        *,
        seed: int | None = None,
        speed: float | None = None,
        start_ms: int | None = None,
        scenario: Scenario | None = None,
        control_port: int | None = None,
        tick_s: float | None = None,
        strict: bool = False,
    ) -> None:
        self.config = config
        self.scenario = scenario if scenario is not None else scenario_for(config)
        problems = check_against(config, self.scenario, strict=strict)
        if problems:
            raise ConfigError(problems)
        sim = config.services.simulator
        self.seed = effective_seed(config, self.scenario, seed)
        self.speed = speed if speed is not None else sim.speed
        self.start_ms = start_ms if start_ms is not None else int(time.time() * 1000)
        if self.start_ms < EPOCH_S * 1000:
            raise ConfigError(
                [f"the simulated clock starts at 2024-01-01T00:00Z at the earliest, not {self.start_ms} ms"]
            )
        self.tick_s = tick_s if tick_s is not None else default_tick_s(self.speed)
        self.control_port = control_port
        self.clock = SimClock(self.start_ms, self.speed)
        specs = resolve(config, self.scenario)
        engines = build_engines([s for _, s in config.sites()], specs, self.seed)
        self.sites: list[LiveSite] = []
        self.devices: dict[str, LiveDevice] = {}
        for engine in engines:
            live = LiveSite(engine)
            for sim_dev in engine.devices:
                cfg = sim_dev.config
                ident = ri.Identity(cfg.id, cfg.profile or "", cfg.role, cfg.unit_id)
                dev = LiveDevice(sim_dev, live, ident, ri.Scales.for_rating(sim_dev.rated_power_w))
                live.devices.append(dev)
                self.devices[cfg.id] = dev
            self.sites.append(live)
        self._endpoints: list[Endpoint | RtuEndpoint] = []
        self._mqtt: MqttPublisher | None = None
        self._control: ControlServer | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._mqtt_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._running = False

    # --- life cycle ----------------------------------------------------------------------

    @property
    def endpoints(self) -> dict[str, ServedDevice]:
        """Every simulated device and where it is served."""
        out: dict[str, ServedDevice] = {}
        for _, _, dev in self.config.devices():
            host, port = "", 0
            if dev.protocol == "modbus-tcp" and dev.address:
                h, _, p = dev.address.rpartition(":")
                host, port = h, int(p)
            elif dev.protocol == "modbus-rtu":
                host = dev.address  # the serial line's path
            elif dev.protocol == "mqtt":
                host, port = self.config.services.mqtt.host, self.config.services.mqtt.port
            out[dev.id] = ServedDevice(dev.id, dev.protocol, host, port, dev.unit_id, dev.profile or "", dev.topic)
        return out

    def _serial_of(self, path: str) -> SerialSettings:
        dev = next(d for _, _, d in self.config.devices() if d.protocol == "modbus-rtu" and d.address == path)
        return dev.serial or SerialSettings()

    @property
    def control_url(self) -> str | None:
        c = self._control
        return f"http://{c.host}:{c.port}" if c is not None else None

    def sim_ms(self) -> int:
        return self.clock.now_ms()

    async def start(self) -> None:
        if self._running:
            return
        self._stopping = asyncio.Event()
        self.clock = SimClock(self.start_ms, self.speed)
        self._update()  # images exist before scripted faults (a 'stuck' device freezes real values)
        for f in self.scenario.faults:
            if f.device in self.devices:
                self.inject_fault(f.device, f.fault, **f.params)
        groups: dict[tuple[str, int], dict[int, LiveDevice]] = {}
        lines: dict[str, dict[int, LiveDevice]] = {}
        for dev_id, served in self.endpoints.items():
            if self.devices[dev_id].register_map is None:
                continue
            if served.protocol == "modbus-tcp":
                groups.setdefault((served.host, served.port), {})[served.unit_id] = self.devices[dev_id]
            elif served.protocol == "modbus-rtu":
                lines.setdefault(served.host, {})[served.unit_id] = self.devices[dev_id]
        try:
            for (host, port), devices in sorted(groups.items()):
                ep = Endpoint(host, port, devices)
                await ep.start(self._stopping)
                self._endpoints.append(ep)
            for path, devices in sorted(lines.items()):
                rtu = RtuEndpoint(path, devices, self._serial_of(path))
                await rtu.start(self._stopping)
                self._endpoints.append(rtu)
            if self.control_port is not None:
                self._control = ControlServer(self, self.config.services.simulator.host, self.control_port)
                await self._control.start()
        except BaseException:
            await self._shutdown()
            raise
        if any(d.protocol == "mqtt" for _, _, d in self.config.devices()):
            relays = {d.id: r for _, _, d in self.config.devices() if (r := d.mqtt_relay()) is not None}
            self._mqtt = MqttPublisher(
                self.config.services.mqtt,
                f"va-simulator-{self.seed}-{id(self) & 0xFFFF:x}",
                relays,
                on_output=self.set_output,
            )
            self._mqtt.start()
        self._running = True
        self._tick_task = asyncio.create_task(self._tick_loop(), name="simulator-tick")
        if self._mqtt is not None:
            self._mqtt_task = asyncio.create_task(self._mqtt_loop(), name="simulator-mqtt")
        log.info(
            "simulating %d devices on %d Modbus endpoints, speed %gx, seed %d",
            len(self.devices),
            len(self._endpoints),
            self.speed,
            self.seed,
        )

    async def stop(self) -> None:
        """Stop everything; safe to call twice or before start."""
        self._running = False
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._stopping.set()
        for task in (self._tick_task, self._mqtt_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tick_task = self._mqtt_task = None
        endpoints, self._endpoints = self._endpoints, []
        for ep in endpoints:
            await ep.stop()
        if self._control is not None:
            control, self._control = self._control, None
            await control.stop()
        if self._mqtt is not None:
            mqtt_pub, self._mqtt = self._mqtt, None
            await asyncio.to_thread(mqtt_pub.stop)
        await asyncio.sleep(0)  # let pymodbus finish its last request coroutines

    async def __aenter__(self) -> SimulatorService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- ticking -------------------------------------------------------------------------

    def _update(self) -> None:
        t_s = self.clock.now_ms() / 1000.0
        for site in self.sites:
            site.update(t_s)

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at += self.tick_s
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            try:
                t_s = self.clock.now_ms() / 1000.0
                for i, site in enumerate(self.sites):
                    site.update(t_s)
                    if i % 8 == 7:
                        await asyncio.sleep(0)  # let Modbus requests through between sites
            except Exception:  # a bug in one tick must not stop the simulator; it is logged
                log.exception("simulator tick failed")

    async def _mqtt_loop(self) -> None:
        """Publish each MQTT device every ``poll_interval_s`` of real time, on its own schedule (a
        slot missed is skipped, the phase kept); ``slow`` delays a publication, ``silent`` skips it."""
        loop = asyncio.get_running_loop()
        devices = [cfg for _, _, cfg in self.config.devices() if cfg.protocol == "mqtt" and cfg.mqtt_topics()]
        due = dict.fromkeys((cfg.id for cfg in devices), loop.time())
        while devices:
            await asyncio.sleep(max(0.0, min(due.values()) - loop.time()))
            now = loop.time()
            for cfg in devices:
                if now < due[cfg.id]:
                    continue
                interval = cfg.poll_interval_s
                due[cfg.id] = next_slot(due[cfg.id], now, interval)
                dev = self.devices[cfg.id]
                if "silent" in dev.faults:
                    continue
                if "slow" in dev.faults:
                    due[cfg.id] += dev.faults["slow"].param("delay_s")
                try:
                    self._publish_device(cfg, dev)
                except Exception:  # a bug in one device's payload must not stop the others; it is logged
                    log.exception("MQTT publication of %s failed", cfg.id)

    def _publish_device(self, cfg: DeviceConfig, dev: LiveDevice) -> None:
        assert self._mqtt is not None
        if "malformed_mqtt" in dev.faults:
            for mapping in cfg.mqtt_topics():
                self._mqtt.publish(mapping.topic, MALFORMED_PAYLOAD)
            return
        # the device's own clock is a wall clock (the lab runs its physics `speed` times faster,
        # never its clocks: docs/simulators.md, "Clock"), shifted under clock_skew
        skew = dev.faults["clock_skew"].param("skew_s") if "clock_skew" in dev.faults else 0.0
        for topic, payload in build_payloads(cfg, dev.values, round((time.time() + skew) * 1000.0)):
            self._mqtt.publish(topic, payload)

    def set_output(self, device_id: str, on: bool) -> None:
        """An MQTT plug's output switched (by its command topic): from the next tick the device reads
        no power and its site's grid meter no longer carries it."""
        self._device(device_id).output_off = not on

    # --- faults --------------------------------------------------------------------------

    def _device(self, device_id: str) -> LiveDevice:
        dev = self.devices.get(device_id)
        if dev is None:
            raise UnknownDeviceError(f"unknown device {device_id!r}")
        return dev

    def inject_fault(self, device_id: str, fault: str, **params: Any) -> None:
        """Switch a fault on (simulators.faults lists them); replaces the same fault's parameters."""
        dev = self._device(device_id)
        f = make_fault(fault, params)
        if fault == "stuck":
            dev.stuck = (dict(dev.values), list(dev.image))
        if fault == "counter_reset":
            for name in COUNTERS[dev.sim.kind]:
                if name in dev.values:
                    dev.counter_offsets[name] = dev.counter_offsets.get(name, 0.0) + dev.values[name]
        dev.faults[fault] = f
        log.warning("fault %s injected on %s %s", fault, device_id, dict(f.params))
        if fault in ("spike", "counter_reset", "clock_skew", "byte_swap") and dev.site.last_t_s is not None:
            dev.site.update(dev.site.last_t_s)

    def clear_faults(self, device_id: str | None = None) -> None:
        """Switch faults off, for one device or all. A cleared counter reset jumps back to the true count."""
        devices = [self._device(device_id)] if device_id is not None else list(self.devices.values())
        for dev in devices:
            dev.faults.clear()
            dev.stuck = None
            dev.counter_offsets.clear()
        for site in {id(d.site): d.site for d in devices}.values():
            if site.last_t_s is not None:
                site.update(site.last_t_s)

    def describe_faults(self) -> dict[str, dict[str, dict[str, float]]]:
        return {d.id: {n: dict(f.params) for n, f in d.faults.items()} for d in self.devices.values() if d.faults}

    def describe_devices(self) -> dict[str, dict[str, Any]]:
        configs = {dev.id: dev for _, _, dev in self.config.devices()}
        return {
            k: {
                "protocol": v.protocol,
                "host": v.host,
                "port": v.port,
                "unit_id": v.unit_id,
                "profile": v.profile,
                "topic": v.topic,
                "topics": [t.topic for t in configs[k].mqtt_topics()],
            }
            for k, v in self.endpoints.items()
        }
