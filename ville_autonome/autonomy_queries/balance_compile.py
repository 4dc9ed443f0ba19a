"""Compile a device's day balances (:class:`series.balance_days.BalanceDay`) from its rollups.

A day ``D`` of a device at interval ``I`` holds, for each counter side, the numbers of *a* run of
:mod:`autonomy_queries.counter_runs` over the intervals ``[D − I, D + 1 d]``: here one run per
group of consecutive days, from a lead :data:`MARGIN_DAYS` before the group to as far after it.
Any run over the same rollups will do: a period's reading uses a day's numbers only between
intervals that are *firm* in both runs, where they agree bit for bit
(:mod:`autonomy_queries.balance_read`).

Those numbers depend on the rollups of ``[D, D + 1 d + I]`` (a reading on the day's last boundary
closes its last interval): a write to interval ``i`` changes the day holding it, and the day
before when ``i`` is one of the first two intervals of its day (:func:`days_touched`, which also
takes the day after when ``i`` is its day's last interval: the reading checks a day's marks over
``[D − I, D + 1 d + 2 I)``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ville_autonome.autonomy import CounterEnergy
from ville_autonome.autonomy.counters import FloatArray
from ville_autonome.autonomy_queries.counter_runs import (
    COUNTER_FIELDS,
    QUANTITIES_BY_ROLE,
    ColumnSource,
    closed,
    highest,
    interval_arrays,
    max_counter_power_w,
    run,
)
from ville_autonome.autonomy_queries.wraps import counter_wrap_wh
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.series.balance_days import DAY_MS, FORMAT, BalanceDay, SideRun
from ville_autonome.series.values import RollupKey

MAX_DAYS_PER_READ = 62  # consecutive days compiled from one read and one run of each counter
MARGIN_DAYS = 1  # the run starts and ends this far from the days it compiles: their joins are inside it


def counter_quantities(device: DeviceConfig) -> tuple[str, ...]:
    """Every counter the reading may take ``device``'s energy from, in the order of preference."""
    supply, draw = QUANTITIES_BY_ROLE[device.role]
    return tuple(dict.fromkeys((*supply, *draw)))


def device_digest(device: DeviceConfig, interval_s: int, clock_rate: float) -> str:
    """What a device's days depend on besides its rollups: when it changes, they are compiled again."""
    text = repr((FORMAT, interval_s, clock_rate, device.role, device.rated_power_w, device.profile))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def day_of(ts_ms: int) -> int:
    return ts_ms - ts_ms % DAY_MS


def days_touched(keys: Iterable[RollupKey], interval_s: int) -> dict[tuple[str, str], set[int]]:
    """(device, quantity) → the days whose runs the rollup buckets ``keys`` change (module docstring)."""
    interval_ms = interval_s * 1000
    out: dict[tuple[str, str], set[int]] = {}
    for device, quantity, bucket in keys:
        i = bucket - bucket % interval_ms
        day = day_of(i)
        days = out.setdefault((device, quantity), set())
        days.add(day)
        if i <= day + interval_ms:
            days.add(day - DAY_MS)
        if i >= day + DAY_MS - interval_ms:
            days.add(day + DAY_MS)
    return out


def _runs_of_days(days: Iterable[int]) -> list[list[int]]:
    """Consecutive days grouped, at most :data:`MAX_DAYS_PER_READ` a group."""
    groups: list[list[int]] = []
    for d in sorted(set(days)):
        if groups and d == groups[-1][-1] + DAY_MS and len(groups[-1]) < MAX_DAYS_PER_READ:
            groups[-1].append(d)
        else:
            groups.append([d])
    return groups


def compile_days(
    store: ColumnSource,
    district: str,
    site: str,
    device: DeviceConfig,
    days: Iterable[int],
    interval_s: int,
    clock_rate: float,
) -> list[BalanceDay]:
    """The days ``days`` (UTC day starts) of ``device`` at ``interval_s``, from its rollups."""
    step = interval_s * 1000
    per_day = DAY_MS // step
    supply_q, draw_q = QUANTITIES_BY_ROLE[device.role]
    max_power = max_counter_power_w(device, clock_rate)
    out: list[BalanceDay] = []
    for group in _runs_of_days(days):
        lead = group[0] - MARGIN_DAYS * DAY_MS - step
        size = (group[-1] + (1 + MARGIN_DAYS) * DAY_MS + step - lead) // step + 1  # the closing interval too
        cols: dict[str, dict[str, FloatArray]] = {}
        runs: dict[str, tuple[float | None, CounterEnergy]] = {}
        for q in counter_quantities(device):
            c = interval_arrays(store, device.id, q, lead, size, interval_s, COUNTER_FIELDS)
            if c is not None:
                cols[q] = c
                cc = closed(c, lead, step)
                wrap = counter_wrap_wh(device, q, highest(cc))
                runs[q] = (wrap, run(cc, interval_s, max_power_w=max_power, wrap_wh=wrap))
        for day in group:
            o = (day - step - lead) // step  # the run's interval D − I
            own = slice(o + 1, o + 1 + per_day)
            highs: dict[str, float] = {}
            for q, c in cols.items():
                seen = c["count"][own] > 0
                if seen.any():
                    highs[q] = float(c["maximum"][own][seen].max())
            sides: list[SideRun] = []
            for side, prefs in (("supply", supply_q), ("draw", draw_q)):
                # the counter a reading of this day alone (closing interval included) would take
                chosen = next(
                    (q for q in prefs if q in cols and (cols[q]["count"][o : o + per_day + 3] > 0).any()), None
                )
                if chosen is not None:
                    wrap, e = runs[chosen]
                    part = slice(o, o + per_day + 2)
                    sides.append(
                        SideRun(
                            side,
                            chosen,
                            wrap,
                            e.energy[o + 2 : o + per_day + 2].tobytes(),
                            e.status[part].tobytes(),
                            e.anomaly[part].tobytes(),
                        )
                    )
            out.append(
                BalanceDay(device.id, site, district, day, interval_s, device.rated_power_w, clock_rate, highs, sides)
            )
    return out
