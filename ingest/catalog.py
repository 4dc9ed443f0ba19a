"""What the configuration lets each gateway say: the devices behind it and their physical range (pure).

A gateway speaks only for the devices of the sites that name it (``sites[].gateway``); a reading
or a health record for any other configured device is ``foreign_device``, for a device the
configuration does not know ``unknown_device``. The gateway ids of
``services.ingest.backfill_gateways`` (default ``["backfill"]``, the simulators' history) may speak
for every configured device: the broker's ACL decides who may publish on their topics
(docs/security.md).

Physical range of a ``good`` value, per device and quantity: the quantity's own range
(:mod:`readings.quantities`), narrowed when the device states its ``rated_power_w``:

- powers (W, var, VA): |value| ≤ ``RATED_POWER_MARGIN`` × rated power;
- energy counters (Wh): value ≤ rated power × ``COUNTER_HOURS`` (50 years at full power).

Outside it a reading is ``out_of_range``. A reading whose quality is not ``good`` is not checked:
its gateway has already said its value is suspect (and consumers use only good values).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ville_autonome.configuration.topology import DeviceConfig, PlatformConfig
from ville_autonome.readings.model import DeviceContext
from ville_autonome.readings.quantities import QUANTITIES, Kind

RATED_POWER_MARGIN = 2.0
COUNTER_HOURS = 50 * 8766.0
POWER_UNITS = frozenset({"W", "var", "VA"})

Limits = dict[str, tuple[float, float]]  # quantity → (minimum, maximum) of a good value

QUANTITY_LIMITS: Limits = {name: (q.minimum, q.maximum) for name, q in QUANTITIES.items()}


def device_limits(rated_power_w: float | None) -> Limits:
    """The physical range of every quantity for a device of ``rated_power_w`` (or unknown rating)."""
    if not rated_power_w:
        return QUANTITY_LIMITS
    out = dict(QUANTITY_LIMITS)
    power = RATED_POWER_MARGIN * rated_power_w
    energy = rated_power_w * COUNTER_HOURS
    for name, q in QUANTITIES.items():
        lo, hi = out[name]
        if q.unit in POWER_UNITS and name != "heat_power_w":
            out[name] = (max(lo, -power), min(hi, power))
        elif q.unit == "Wh" and q.kind is Kind.COUNTER:
            out[name] = (lo, min(hi, energy))
    return out


@dataclass(frozen=True)
class DeviceCatalog:
    """Devices with their stored tags, the gateway that speaks for each, and their ranges."""

    devices: Mapping[str, DeviceContext]
    owners: Mapping[str, str | None]  # device → its gateway; None: any gateway may speak for it
    limits: Mapping[str, Limits]
    trusted: frozenset[str] = frozenset()  # gateway ids that may speak for every device
    _by_gateway: dict[str, dict[str, DeviceContext]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_config(cls, config: PlatformConfig, trusted: Iterable[str] = ()) -> DeviceCatalog:
        devices: dict[str, DeviceContext] = {}
        owners: dict[str, str | None] = {}
        limits: dict[str, Limits] = {}
        for d, s, dev in config.devices():
            devices[dev.id] = _context(d.id, s.id, dev)
            owners[dev.id] = s.gateway
            limits[dev.id] = device_limits(dev.rated_power_w)
        return cls(devices, owners, limits, frozenset(trusted))

    @classmethod
    def open(cls, devices: Mapping[str, DeviceContext]) -> DeviceCatalog:
        """Devices any gateway may speak for, with the quantities' own ranges (tests, tools)."""
        return cls(devices, dict.fromkeys(devices), dict.fromkeys(devices, QUANTITY_LIMITS))

    def allowed(self, gateway: str) -> Mapping[str, DeviceContext]:
        """The devices ``gateway`` may speak for (device → tags)."""
        if gateway in self.trusted:
            return self.devices
        found = self._by_gateway.get(gateway)
        if found is None:
            found = {k: ctx for k, ctx in self.devices.items() if self.owners[k] in (gateway, None)}
            if len(self._by_gateway) < 10_000:  # gateway ids come from topics: bound the cache
                self._by_gateway[gateway] = found
        return found


def _context(district: str, site: str, dev: DeviceConfig) -> DeviceContext:
    return DeviceContext(district=district, site=site, device=dev.id, role=dev.role, source=dev.source or "")
