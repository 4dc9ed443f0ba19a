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

from ville_autonome.autonomy.counters import AnomalyArray, FloatArray, Status, StatusArray

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
    anomaly: AnomalyArray | None = None  # counters.Anomaly bits per interval (None: none found)
    rated_power_w: float | None = None  # from the configuration (the plausibility bound, coverage weights)
    last_reading_ms: int | None = None  # its newest good counter reading in the window [UTC ms]

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"device {self.device!r}: unknown role {self.role!r}")
        if self.anomaly is None:
            object.__setattr__(self, "anomaly", np.zeros(self.status.shape, dtype=np.int8))
        if not (self.supply_wh.shape == self.draw_wh.shape == self.status.shape == self.anomaly.shape):  # type: ignore[union-attr]
            raise ValueError(f"device {self.device!r}: supply, draw, status and anomaly lengths differ")

    @property
    def anomalies(self) -> AnomalyArray:
        assert self.anomaly is not None
        return self.anomaly

    @classmethod
    def missing(
        cls, device: str, role: str, n: int, source: str | None = None, rated_power_w: float | None = None
    ) -> DeviceEnergy:
        """A device with no data at all over ``n`` intervals."""
        status = np.full(n, Status.MISSING, dtype=np.int8)
        return cls(device, role, np.zeros(n), np.zeros(n), status, source, None, rated_power_w)


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
    starting at ``start_ms`` [UTC ms].

    Device arrays hold ``warmup + n_intervals`` intervals: the ``warmup`` intervals before
    ``start_ms`` are read but not reported; they give the battery stock its starting state and
    each device its expected energy (coverage weights)."""

    scope: str
    start_ms: int
    n_intervals: int
    sites: list[SiteInputs]
    warmup: int = 0

    @property
    def window(self) -> int:
        """Intervals in the device arrays: ``warmup + n_intervals``."""
        return self.warmup + self.n_intervals

    def __post_init__(self) -> None:
        if self.warmup < 0:
            raise ValueError("warmup must be ≥ 0")
        for s in self.sites:
            for d in s.devices:
                if d.supply_wh.shape != (self.window,):
                    raise ValueError(f"device {d.device!r}: {d.supply_wh.shape[0]} intervals, expected {self.window}")
