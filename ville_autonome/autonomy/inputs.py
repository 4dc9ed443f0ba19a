"""What the engine takes: per-interval energies of every device of a scope, from the site's view.

Every device's energy is split in two non-negative arrays, seen from the site's electrical bus:

- ``supply_wh``: energy the device delivers to the site — produced (production), discharged
  (storage), imported (grid);
- ``draw_wh``: energy the device takes from the site — consumed (consumption), charged
  (storage), exported (grid).

So for a site, every interval: Σ supply = Σ draw (up to losses and metering error).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ville_autonome.autonomy.counters import FloatArray, Status, StatusArray

ROLES = ("production", "consumption", "storage", "grid")


@dataclass(frozen=True)
class DeviceEnergy:
    """One device's energy per interval [Wh, ≥ 0] and the :class:`Status` of each interval."""

    device: str
    role: str  # production | consumption | storage | grid
    supply_wh: FloatArray
    draw_wh: FloatArray
    status: StatusArray
    source: str | None = None  # production: hydro | pv | wind | chp

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"device {self.device!r}: unknown role {self.role!r}")
        if not (self.supply_wh.shape == self.draw_wh.shape == self.status.shape):
            raise ValueError(f"device {self.device!r}: supply, draw and status lengths differ")

    @classmethod
    def missing(cls, device: str, role: str, n: int, source: str | None = None) -> DeviceEnergy:
        """A device with no data at all over ``n`` intervals."""
        return cls(device, role, np.zeros(n), np.zeros(n), np.full(n, Status.MISSING, dtype=np.int8), source)


@dataclass(frozen=True)
class BatteryState:
    """The latest known state of one storage device (for hours of autonomy)."""

    device: str
    capacity_wh: float  # usable capacity [Wh]
    soc_pct: float | None  # state of charge [%], None when unknown
    ts_ms: int | None = None  # when ``soc_pct`` was read [UTC ms]


@dataclass(frozen=True)
class SiteInputs:
    site: str
    district: str
    devices: list[DeviceEnergy]
    batteries: list[BatteryState] = field(default_factory=list)


@dataclass(frozen=True)
class ScopeInputs:
    """A scope (``city``, ``district:<id>`` or ``site:<id>``) over ``n_intervals`` aligned intervals
    starting at ``start_ms`` [UTC ms]."""

    scope: str
    start_ms: int
    n_intervals: int
    sites: list[SiteInputs]

    def __post_init__(self) -> None:
        for s in self.sites:
            for d in s.devices:
                if d.supply_wh.shape != (self.n_intervals,):
                    raise ValueError(
                        f"device {d.device!r}: {d.supply_wh.shape[0]} intervals, expected {self.n_intervals}"
                    )
