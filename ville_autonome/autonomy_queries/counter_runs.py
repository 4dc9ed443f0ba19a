"""One device's counter over a run of intervals, as the reading layer computes it: the one place
that turns a store's interval aggregates into :class:`autonomy.CounterEnergy` (docs/metrics.md,
"Energy from counters").

A *run* is ``size`` intervals from a *lead* interval (the one before a period: it gives the
counter's starting value, its own energy is dropped) read with one more interval after them (a
reading on the last boundary closes the last interval). Three callers compute the very same runs:
the reading of a period (:mod:`autonomy_queries.reading`), the compile of the per-device day
balances (:mod:`autonomy_queries.balance_compile`) and their reading
(:mod:`autonomy_queries.balance_read`), so that a balance gives the numbers a period read from
the device rollups gives, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy import CounterEnergy, close_at_boundary, counter_energy, power_energy
from ville_autonome.autonomy.counters import AnomalyArray, FloatArray, StatusArray
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.series.values import IntervalColumns

# role → (supply quantities, draw quantities), each in order of preference
QUANTITIES_BY_ROLE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "grid": (("energy_import_wh",), ("energy_export_wh",)),
    "production": (("energy_produced_wh", "energy_export_wh"), ()),
    "consumption": ((), ("energy_consumed_wh", "energy_import_wh")),
    "storage": (("energy_discharged_wh", "energy_export_wh"), ("energy_charged_wh", "energy_import_wh")),
}
POWER = "active_power_w"
COUNTER_FIELDS = ("count", "first", "last", "minimum", "maximum", "first_ts_ms", "last_ts_ms")
POWER_FIELDS = ("count", "mean")  # what power_energy reads
PLAUSIBILITY_MARGIN = 1.5  # a device may run at up to 1.5 × its rated power before a rise is implausible


class ColumnSource(Protocol):
    """What reading counters needs of a store: ``Store.interval_columns``."""

    def interval_columns(
        self, device: str, quantity: str, start_ms: int, end_ms: int, interval_s: int, *, fields: Sequence[str]
    ) -> IntervalColumns: ...


def on_grid(
    starts: npt.NDArray[np.int64], values: dict[str, npt.NDArray[Any]], start_ms: int, size: int, interval_ms: int
) -> dict[str, FloatArray]:
    """``values`` of the intervals starting at ``starts``, on the grid of ``size`` intervals from
    ``start_ms`` (zeros where absent)."""
    cols = {name: np.zeros(size) for name in values}
    idx = (starts - start_ms) // interval_ms
    keep = (idx >= 0) & (idx < size)
    for name, v in values.items():
        cols[name][idx[keep]] = v[keep]
    return cols


def interval_arrays(
    store: ColumnSource,
    device: str,
    quantity: str,
    start_ms: int,
    size: int,
    interval_s: int,
    fields: tuple[str, ...],
) -> dict[str, FloatArray] | None:
    """The interval aggregates ``fields`` of (``device``, ``quantity``) on the grid of ``size``
    intervals from ``start_ms`` (zeros where absent); None when none of them has data."""
    interval_ms = interval_s * 1000
    cols = store.interval_columns(device, quantity, start_ms, start_ms + size * interval_ms, interval_s, fields=fields)
    if not cols["start_ms"].size:
        return None
    return on_grid(cols["start_ms"], {f: cols[f] for f in fields}, start_ms, size, interval_ms)


def max_counter_power_w(device: DeviceConfig, clock_rate: float) -> float | None:
    """The fastest plausible rise of ``device``'s counters [W] (``rated_power_w × margin × clock
    rate``), None without a rating."""
    if device.rated_power_w is None:
        return None
    return device.rated_power_w * PLAUSIBILITY_MARGIN * clock_rate


def closed(cols: dict[str, FloatArray], lead_ms: int, interval_ms: int) -> dict[str, FloatArray]:
    """Counter aggregates on the grid of a run (lead first, closing interval last) with every
    boundary reading moved to the interval it closes."""
    return close_at_boundary(cols, lead_ms, interval_ms)


def highest(c: dict[str, FloatArray]) -> float:
    """The largest value the counter was read at in a closed run (0 without any reading): what
    its wrap-around is judged against (``autonomy_queries.wraps``)."""
    present = c["count"] > 0
    return float(c["maximum"][present].max()) if present.any() else 0.0


def newest(c: dict[str, FloatArray]) -> int | None:
    """When the counter was last read in a closed run, the closing interval left out [UTC ms]."""
    seen = c["count"][:-1] > 0
    return int(c["last_ts_ms"][:-1][seen].max()) if seen.any() else None


def run(
    c: dict[str, FloatArray], interval_s: int, *, max_power_w: float | None, wrap_wh: float | None
) -> CounterEnergy:
    """Energy, status and anomalies of every interval of a closed run, the lead included (its
    energy means nothing: it has no starting value)."""
    return counter_energy(
        c["first"][:-1],
        c["last"][:-1],
        c["minimum"][:-1],
        c["maximum"][:-1],
        c["count"][:-1],
        last_ts_ms=c["last_ts_ms"][:-1],
        interval_s=interval_s,
        max_power_w=max_power_w,
        wrap_wh=wrap_wh,
    )


def power_run(
    c: dict[str, FloatArray], interval_s: int, device: DeviceConfig, clock_rate: float
) -> tuple[FloatArray, FloatArray, StatusArray, AnomalyArray]:
    """The fallback of a device without counters: its mean power (``count``, ``mean`` per
    interval) integrated, as (supply, draw, status, anomaly) per interval; grid + import, battery
    + discharge; a power of the lab's physics lasts ``clock_rate`` times longer per wall-clock second."""
    margin = device.rated_power_w * PLAUSIBILITY_MARGIN if device.rated_power_w is not None else None
    e, status, anomaly = power_energy(c["mean"], c["count"], interval_s, role=device.role, max_power_w=margin)
    e = e * clock_rate
    if device.role == "consumption":
        return np.zeros(e.shape[0]), e, status, anomaly
    return np.maximum(e, 0.0), np.maximum(-e, 0.0), status, anomaly
