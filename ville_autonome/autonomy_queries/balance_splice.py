"""One device's counter run over a period spliced from its day balances and, where a day is not
usable, its rollups (:mod:`autonomy_queries.balance_read` reads the balances and calls it).

**Why splicing is exact.** ``autonomy.counter_energy`` decides each interval from the good
readings around it (the base before it, the next reading after a gap or a suspicious value), so
a run's numbers near its ends depend on where it starts and stops. Call an interval *p* **firm**
in a run when *p* and the interval before it are both ``MEASURED`` and *p* was neither a reset
nor a wrap-around. Then *p − 1* is good in every pass of the glitch rules, so *p*'s base never
changes, and a ``MEASURED`` *p* with that base was never a candidate: nothing left of *p* and
nothing right of it ever see each other through it. Hence, for two runs over the same rollups
(with the same bound and wrap-around), if *a* is firm in both and *b* is firm in the first, *b* is
firm in the second, and both give the same numbers on ``(a, b]``; and the interval a run starts
from (its lead) counts as firm in it when its own status is ``MEASURED``. The wrap-around value
only matters where a reading dropped, which always leaves an anomaly bit, so a day compiled with
another wrap-around is used only where it has none.

So a period's run (from the interval before the period's warm-up, closed by the interval after
its end) is rebuilt from left to right: the first intervals from the rollups (the period's own
lead), then whole days from the balances, day after day while each day boundary is firm in both
days, and from the rollups wherever a day is not usable — not compiled yet (a rollup mark still
outstanding), compiled with other parameters, another counter, or no firm interval to join on —,
up to the next firm join, and to the end. Partial days at both ends come from the rollups, read
once; which counter a side uses and its wrap-around come from the days' masks and highest
values, and the rollups of the partial days.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy import Status
from ville_autonome.autonomy.counters import Anomaly, AnomalyArray, FloatArray, StatusArray
from ville_autonome.autonomy_queries.counter_runs import (
    COUNTER_FIELDS,
    closed,
    interval_arrays,
    max_counter_power_w,
    newest,
    run,
)
from ville_autonome.autonomy_queries.wraps import counter_wrap_wh
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.series.balance_days import DAY_MS, BalanceDay, BalanceTable, Outstanding
from ville_autonome.storage.base import Store

MEASURED = int(Status.MEASURED)
DROP_BITS = int(Anomaly.RESET | Anomaly.WRAP)
COUNTER_BITS = int(Anomaly.JUMP | Anomaly.GLITCH | Anomaly.RESET | Anomaly.WRAP)
EDGE = 3  # intervals read past a partial day into the whole day next to it: room for a firm join
JOIN_TRIES = 4  # usable days tried in turn to join a stretch read from the rollups; then to the end

Side = tuple[FloatArray, StatusArray, AnomalyArray, str, int | None]  # energy, status, anomaly, counter, newest
Read = tuple[int, int, "dict[str, FloatArray] | None"]  # rollups read: first interval, intervals, aggregates


def run_geometry(first_ms: int, n: int, interval_s: int) -> tuple[int, int, list[int]]:
    """A period's run over ``n`` intervals from ``first_ms``: its lead (first interval), its
    closing interval, and the whole days in it (UTC day starts, their joins included)."""
    step = interval_s * 1000
    lead = first_ms - step
    end = lead + (n + 1) * step
    first_day = lead - lead % DAY_MS
    first_day += DAY_MS if first_day < lead else 0
    return lead, end, list(range(first_day, end - step - DAY_MS + 1, DAY_MS))


def edge_windows(first_ms: int, n: int, interval_s: int) -> list[tuple[int, int]]:
    """The rollups every device's run reads at both ends (first interval, intervals): the partial
    day before the whole days with the :data:`JOIN_TRIES` days a join is first sought in, and the
    partial day after them with :data:`EDGE` intervals before it; none without whole days."""
    step = interval_s * 1000
    lead, end, days = run_geometry(first_ms, n, interval_s)
    if not days:
        return []
    head_end = min(days[0] + (JOIN_TRIES - 1) * DAY_MS + (EDGE + 1) * step, end + step)
    tail_start = days[-1] + DAY_MS - EDGE * step
    return [(lead, (head_end - lead) // step), (tail_start, (end + step - tail_start) // step)]


@dataclass
class Balances:
    """The day balances of a period's devices, as read once for a scope."""

    table: BalanceTable
    interval_s: int
    clock_rate: float
    digests: dict[str, str]  # device → what its days were compiled with
    days: dict[str, dict[int, BalanceDay]]  # device → day start → day
    outstanding: Outstanding
    deferred: dict[str, set[int]]  # device → days noted to compile again
    # (device, counter) → rollups already read for every device at once (:func:`edge_windows`)
    edges: dict[tuple[str, str], list[Read]] = field(default_factory=dict)


class DeviceRun:
    """One device's run over a period (module docstring): ``side()`` gives each counter side."""

    def __init__(self, balances: Balances, store: Store, device: DeviceConfig, first_ms: int, n: int) -> None:
        self.b, self.store, self.device = balances, store, device
        self.step = balances.interval_s * 1000
        self.fed = n + 1  # intervals of the run; the next one closes it
        # the run's first interval, the closing one, the whole days ((D, D + 1 d] within the run)
        self.lead, self.end, self.full_days = run_geometry(first_ms, n, balances.interval_s)
        self.days = balances.days.get(device.id, {})
        self.blocks = [self.days.get(day) for day in self.full_days]
        self.max_power = max_counter_power_w(device, balances.clock_rate)
        self._dirty: dict[str, set[int]] = {}
        self._reads: dict[str, list[Read]] = {
            q: list(reads) for (d, q), reads in balances.edges.items() if d == device.id
        }

    # ------------------------------------------------------------------ the rollups, read where needed

    def _cols(self, q: str, lo: int, size: int) -> dict[str, FloatArray] | None:
        """Counter aggregates of ``q`` on ``size`` intervals from ``lo`` (None: no data there),
        sliced from an earlier read when one covers them."""
        for start, count, cols in self._reads.get(q, []):
            if start <= lo and lo + size * self.step <= start + count * self.step:
                if cols is None:
                    return None
                o = (lo - start) // self.step
                part = {k: v[o : o + size] for k, v in cols.items()}
                return part if (part["count"] > 0).any() else None
        cols = interval_arrays(self.store, self.device.id, q, lo, size, self.b.interval_s, COUNTER_FIELDS)
        self._reads.setdefault(q, []).append((lo, size, cols))
        return cols

    def _edges(self, q: str) -> list[dict[str, FloatArray] | None]:
        """The partial days at both ends of the run (with :data:`EDGE` intervals of the whole days
        next to them), closing interval included: read once per counter."""
        head_end = self.full_days[0] + EDGE * self.step
        tail_start = self.full_days[-1] + DAY_MS - EDGE * self.step
        head = self._cols(q, self.lead, (head_end - self.lead) // self.step)
        tail = self._cols(q, tail_start, (self.end + self.step - tail_start) // self.step)
        return [head, tail]

    def _partial(self, q: str) -> list[tuple[dict[str, FloatArray], slice]]:
        """The partial days' aggregates of ``q`` (head, tail) with the slice that is not in a whole day."""
        head, tail = self._edges(q)
        out = []
        if head is not None:
            out.append((head, slice(0, (self.full_days[0] - self.lead) // self.step)))
        if tail is not None:
            out.append((tail, slice(EDGE, None)))
        return out

    # ------------------------------------------------------------------ which counter, its wrap-around

    def _scan(self, q: str) -> tuple[bool, float]:
        """Whether ``q`` has data anywhere in the run (closing interval included), and the largest
        value read there: what the rollups' reading decides the counter and the wrap-around from."""
        found, high = False, -np.inf
        dirty = self._dirty_days(q)
        highs = [
            h
            for i, d in enumerate(self.blocks)
            if d is not None and i not in dirty and (h := d.highest.get(q)) is not None
        ]
        if highs:  # a day without a balance has no data
            found, high = True, max(high, max(highs))
        for first, last in _stretches(sorted(dirty)):  # days whose masks may lag the rollups: from them
            lo, hi = self.full_days[first], self.full_days[last] + DAY_MS
            # read through the run's end when the stretch reaches it: the run is then computed from it
            upto = self.end + self.step if last == len(self.full_days) - 1 else hi
            read = self._cols(q, lo, (upto - lo) // self.step)
            if read is not None:
                seen = read["count"][: (hi - lo) // self.step] > 0
                if seen.any():
                    found, high = True, max(high, float(read["maximum"][: (hi - lo) // self.step][seen].max()))
        for cols, part in self._partial(q):
            seen = cols["count"][part] > 0
            if seen.any():
                found, high = True, max(high, float(cols["maximum"][part][seen].max()))
        return found, (high if found else 0.0)

    # ------------------------------------------------------------------ one side

    def _stack(self, side: str, q: str, wrap: float | None) -> _Days:
        """The whole days' runs of this side as arrays, and which can be joined (module docstring)."""
        per_day, n = DAY_MS // self.step, len(self.full_days)
        usable = np.zeros(n, dtype=bool)
        zero_e, zero_s = bytes(8 * per_day), bytes(per_day + 2)
        energy, status, anomaly = [zero_e] * n, [zero_s] * n, [zero_s] * n
        wraps_ok = np.ones(n, dtype=bool)
        dirty = self._dirty_days(q)
        for i, d in enumerate(self.blocks):
            if d is None or i in dirty or d.rated_power_w != self.device.rated_power_w:
                continue
            got = next((r for r in d.sides if r.side == side and r.quantity == q), None)
            if got is None or d.clock_rate != self.b.clock_rate:
                continue
            usable[i] = True
            energy[i], status[i], anomaly[i] = got.energy, got.status, got.anomaly
            wraps_ok[i] = got.wrap_wh == wrap
        st = np.frombuffer(b"".join(status), dtype=np.int8).reshape(n, per_day + 2)
        an = np.frombuffer(b"".join(anomaly), dtype=np.int8).reshape(n, per_day + 2)
        # a day compiled with another wrap-around only where no reading dropped (no counter anomaly)
        usable &= wraps_ok | ~(an & COUNTER_BITS).any(axis=1)
        firm = (st[:, :-1] == MEASURED) & (st[:, 1:] == MEASURED) & ~(an[:, 1:] & DROP_BITS).astype(bool)
        firm &= usable[:, None]  # firm[i, j - 1]: interval j of day i's run is firm (j = 1 … per_day + 1)
        en = np.frombuffer(b"".join(energy), dtype=np.float64).reshape(n, per_day)
        return _Days(usable, st, an, en, firm)

    def _dirty_days(self, q: str) -> set[int]:
        """Indexes of the whole days whose runs may lag the rollups: a mark not compiled yet in
        [D − I, D + 1 d + 2 I), or the day or one next to it noted to compile again."""
        if q not in self._dirty:
            self._dirty[q] = self._find_dirty(q)
        return self._dirty[q]

    def _find_dirty(self, q: str) -> set[int]:
        o, step, first, n = self.b.outstanding, self.step, self.full_days[0], len(self.full_days)
        if o.everything:
            return set(range(n))
        buckets = np.concatenate(
            [
                np.asarray(o.by_series.get((self.device.id, q), ()), dtype=np.int64),
                np.asarray(o.any_series, dtype=np.int64),
            ]
        )
        out: set[int] = set()
        if buckets.size:  # day D's run lags when a bucket of [D − I, D + 1 d + 2 I) does
            c = (buckets + step - first) // DAY_MS
            for idx in (c - 1, c):
                day_ms = first + idx * DAY_MS
                out.update(np.unique(idx[(buckets - DAY_MS - 2 * step < day_ms) & (day_ms <= buckets + step)]).tolist())
        for day in self.b.deferred.get(self.device.id, ()):
            i = (day - first) // DAY_MS
            out.update((i - 1, i, i + 1))
        return {i for i in out if 0 <= i < n}

    def side(self, side: str, quantities: tuple[str, ...]) -> Side | None:
        """This side of the period's run, or None when none of its counters has data."""
        for q in quantities:
            found, high = self._scan(q)
            if found:
                return self._splice(side, q, counter_wrap_wh(self.device, q, high))
        return None

    def _recompute(
        self, q: str, pos: int, stop: int, wrap: float | None
    ) -> tuple[FloatArray, StatusArray, AnomalyArray, int | None]:
        """The run from interval ``pos`` (its lead) through ``stop − 1``, closed by ``stop``, from the rollups."""
        lo = self.lead + pos * self.step
        cols = self._cols(q, lo, stop - pos + 1)
        if cols is None:
            size = stop - pos
            return np.zeros(size), np.full(size, Status.MISSING, dtype=np.int8), np.zeros(size, dtype=np.int8), None
        c = closed(cols, lo, self.step)
        e = run(c, self.b.interval_s, max_power_w=self.max_power, wrap_wh=wrap)
        return e.energy, e.status, e.anomaly, newest(c)

    def _splice(self, side: str, q: str, wrap: float | None) -> Side:
        d = self._stack(side, q, wrap)
        per_day = DAY_MS // self.step
        # the run's interval ``base + i × per_day + j`` is interval j of day i's run (j = 1: the day's start)
        base = (self.full_days[0] - self.step - self.lead) // self.step
        out = _Spliced(d, base, per_day, len(self.full_days), self.fed)
        pos = 0  # the run is known on (0, pos]; pos > 0 is firm in it
        while True:
            pos = out.through_days(pos)
            joined = self._join_next(out, q, pos, wrap)
            if joined is not None:
                pos = joined
                continue
            e, st, an, last_ms = self._recompute(q, pos, self.fed, wrap)
            out.energy[pos + 1 :], out.status[pos + 1 :], out.anomaly[pos + 1 :] = e[1:], st[1:], an[1:]
            return out.energy[1:], out.status[1:], out.anomaly[1:], q, last_ms

    def _join_next(self, out: _Spliced, q: str, pos: int, wrap: float | None) -> int | None:
        """From the rollups, to a firm join with the first of the next usable days that allows one
        (one run through all the candidates: a longer run is as good); the new ``pos``, or None."""
        d, base, per_day = out.days, out.base, out.per_day
        targets = [x for x in np.flatnonzero(d.usable).tolist() if base + x * per_day + 2 > pos][:JOIN_TRIES]
        if not targets:
            return None
        e, st, an, _ = self._recompute(q, pos, base + targets[-1] * per_day + 3, wrap)
        for x in targets:
            start = base + x * per_day + 1  # the run's interval at day x's start
            joined = next(
                (p for p in (start, start + 1) if p > pos and _firm(st, an, p - pos) and d.firm[x, p - start]),
                None,
            )
            if joined is not None:
                k = joined - pos
                out.energy[pos + 1 : joined + 1], out.status[pos + 1 : joined + 1] = e[1 : k + 1], st[1 : k + 1]
                out.anomaly[pos + 1 : joined + 1] = an[1 : k + 1]
                return joined
        return None


class _Spliced:
    """A side's run over the period being spliced from whole days' runs (``days``) and recomputed
    stretches: the arrays filled so far, and how the days' intervals map onto the run's."""

    def __init__(self, days: _Days, base: int, per_day: int, n: int, fed: int) -> None:
        self.days, self.base, self.per_day, self.n = days, base, per_day, n
        self.energy = np.zeros(fed)
        self.status = np.full(fed, Status.MISSING, dtype=np.int8)
        self.anomaly = np.zeros(fed, dtype=np.int8)
        # day i joins day i + 1 at its end
        self.joins = days.usable[:-1] & days.usable[1:] & days.firm[:-1, -1] & days.firm[1:, 0]

    def copy(self, i: int, ja: int, jb: int) -> None:
        """Day i's numbers on its run's intervals (ja, jb]."""
        d = self.days
        a, b = self.base + i * self.per_day + ja, self.base + i * self.per_day + jb
        self.energy[a + 1 : b + 1] = d.energy[i, ja - 1 : jb - 1]
        self.status[a + 1 : b + 1], self.anomaly[a + 1 : b + 1] = (
            d.status[i, ja + 1 : jb + 1],
            d.anomaly[i, ja + 1 : jb + 1],
        )

    def whole(self, i: int, k: int) -> None:
        """Days i … k − 1 whole, (D_i, D_k]."""
        d = self.days
        a, b = self.base + i * self.per_day + 1, self.base + k * self.per_day + 1
        self.energy[a + 1 : b + 1] = d.energy[i:k].ravel()
        self.status[a + 1 : b + 1], self.anomaly[a + 1 : b + 1] = d.status[i:k, 2:].ravel(), d.anomaly[i:k, 2:].ravel()

    def through_days(self, pos: int) -> int:
        """When interval ``pos`` is firm in a whole day's run: that day's numbers and those of the
        days joined to it, as far as the last firm interval; the new ``pos`` (unchanged otherwise)."""
        d, base, per_day = self.days, self.base, self.per_day
        i = (pos - base - 1) // per_day  # the whole day holding interval ``pos`` …
        j = pos - base - i * per_day  # … as its run's interval j (1 … per_day)
        if not (pos > 0 and 0 <= i < self.n and d.firm[i, j - 1]):
            return pos
        rest = self.joins[i:]
        k = i + (int(np.argmin(rest)) if rest.size and not rest.all() else rest.size)  # the last day joined
        m = max(x for x in range(j if k == i else 1, per_day + 2) if d.firm[k, x - 1])
        if k == i:
            self.copy(i, j, m)
        else:
            self.copy(i, j, per_day + 1)
            self.whole(i + 1, k)
            self.copy(k, 1, m)
        return base + k * per_day + m


@dataclass(frozen=True)
class _Days:
    """The whole days of one side of a period's run (``n`` days, ``per_day`` intervals a day)."""

    usable: npt.NDArray[np.bool_]  # (n,): its run can be joined to the period's
    status: StatusArray  # (n, per_day + 2): the day's run over [D − I, D + 1 d]
    anomaly: AnomalyArray  # (n, per_day + 2)
    energy: FloatArray  # (n, per_day): over (D, D + 1 d]
    firm: npt.NDArray[np.bool_]  # (n, per_day + 1): interval j (1 … per_day + 1) of the day's run is firm


def _stretches(indexes: list[int]) -> list[tuple[int, int]]:
    """Sorted ``indexes`` as (first, last) runs of consecutive ones."""
    out: list[tuple[int, int]] = []
    for i in indexes:
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def _firm(status: StatusArray, anomaly: AnomalyArray, k: int) -> bool:
    """Interval ``k`` of a run is firm (module docstring): it and the one before are ``MEASURED``,
    and it was neither a reset nor a wrap-around."""
    return bool(status[k - 1] == MEASURED and status[k] == MEASURED and not anomaly[k] & DROP_BITS)
