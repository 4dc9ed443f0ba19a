"""Energy per interval from cumulative counters (and, as a flagged fallback, from mean power).

Pure numpy, no I/O. Inputs are per-interval aggregates of one counter (what
``series.values.IntervalStat`` carries): ``first``, ``last``, ``minimum``, ``maximum`` and ``count``
of the good readings inside each aligned interval [Wh], and ``last_ts_ms``, when the last one was
read [UTC ms]. Output: a :class:`CounterEnergy` — energy per interval [Wh, ≥ 0], a :class:`Status`
and an :class:`Anomaly` bit mask per interval.

Rules (docs/metrics.md, "Energy from counters", method 2.0):

- energy of interval *i* = ``last[i] − base``, *base* the ``last`` of the previous interval with a
  good reading (or ``prev_last``); a counter is robust to missed polls; without a base, an
  interval counts its own rise (``last − first``), and a lone reading (a device's first, a
  backfill's first boundary reading) measured nothing: its interval is ``MISSING``;
- **plausibility**: a counter cannot rise faster than ``max_power_w`` (the device's rated power ×
  margin × the lab's clock rate): ``rise ≤ max_power_w × (elapsed + SLACK_S) / 3600``;
- a reading that leaves the counter's course and comes back at the next good reading (a value
  that jumps up or drops, then returns to where the counter was going) is a **glitch**: it is
  excluded, the rise from *base* to the next good reading is spread over the intervals between
  (``IMPUTED``), and the interval carries ``JUMP`` (rose too fast) or ``GLITCH`` (dropped);
- a drop that stays (the next reading is still below *base*) is a **reset** (meter cleared or
  replaced): energy = the rise before it (``maximum − base`` when the counter ended below that
  peak) + the rise after it (``last − minimum``), each capped by the plausible rise: energy is
  lost at a reset, never invented;
- with ``wrap_wh`` given (a register that rolls over at that value), a drop whose completion
  ``wrap_wh − base + last`` is a plausible rise is a **wrap-around** (exact);
- a jump that stays (the counter continues from the new level) is a **level shift**: the jump is
  excluded (the interval is ``MISSING`` with ``JUMP``) and the counter continues from it;
- inside an interval whose end is fine, a peak above the plausible rise (``JUMP``) or a dip below
  *base* (``GLITCH``) is counted; the interval's energy (``last − base``) does not use it;
- intervals without good data between two good readings share the counter's rise evenly and are
  ``IMPUTED`` (the total is measured, its split in time is not); without a later good reading they
  are ``MISSING`` (0 Wh, never presented as a measured zero).

Limit (documented): a drop lasting past the next good reading is taken as a reset; if the counter
later comes back, that return is a level shift (``JUMP``): both are flagged, never silent.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
StatusArray = npt.NDArray[np.int8]
AnomalyArray = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]

SLACK_S = 60.0  # timing slack of the plausibility bound: one minute at full power [s]
GLITCH_PASSES = 16  # rounds of glitch removal per series (a cluster of glitches needs one per glitch)


class Status(IntEnum):
    """How the energy of one device in one interval was obtained."""

    MEASURED = 0  # from the device's cumulative counter
    INTEGRATED = 1  # from its mean power × interval length (fallback, flagged)
    IMPUTED = 2  # a counter rise spread over intervals without (good) readings
    MISSING = 3  # no data: 0 Wh, and never shown as a measured zero


class Anomaly(IntFlag):
    """What the plausibility rules found in one interval of one device (bits)."""

    JUMP = 1  # a reading rose faster than the device can (excluded): implausible_jump
    GLITCH = 2  # a reading dropped and came back (excluded, not a reset): counter_glitch
    RESET = 4  # the counter was reset and stayed low: counter_reset
    WRAP = 8  # the register rolled over (exact)
    REJECTED = 16  # an impossible power value (NaN, beyond rating, negative consumption): implausible_power
    STALE = 32  # the device went silent in this interval and never came back: its energy stops early


class CounterEnergy(NamedTuple):
    energy: FloatArray  # [Wh] per interval, ≥ 0
    status: StatusArray  # Status per interval
    anomaly: AnomalyArray  # Anomaly bits per interval


def _previous(good: BoolArray) -> npt.NDArray[np.int64]:
    """Index of the previous good interval (−1: none), per interval."""
    idx = np.arange(good.shape[0])
    last_good = np.maximum.accumulate(np.where(good, idx, -1))
    return np.concatenate(([-1], last_good[:-1])).astype(np.int64)


def _next(good: BoolArray) -> npt.NDArray[np.int64]:
    """Index of the next good interval (n: none), per interval."""
    n = good.shape[0]
    idx = np.arange(n)
    nxt = np.minimum.accumulate(np.where(good, idx, n)[::-1])[::-1]
    return np.concatenate((nxt[1:], [n])).astype(np.int64)


def counter_energy(
    first: npt.ArrayLike,
    last: npt.ArrayLike,
    minimum: npt.ArrayLike,
    maximum: npt.ArrayLike,
    count: npt.ArrayLike,
    *,
    prev_last: float | None = None,
    wrap_wh: float | None = None,
    last_ts_ms: npt.ArrayLike | None = None,
    interval_s: float = 900.0,
    max_power_w: float | None = None,
) -> CounterEnergy:
    """Energy per interval [Wh], its :class:`Status` and :class:`Anomaly` bits from per-interval
    counter aggregates [Wh] (module docstring). Intervals with ``count == 0`` have no data.

    ``last_ts_ms``: when each interval's last reading was taken [UTC ms] (the elapsed time of the
    plausibility bound; without it, whole intervals of ``interval_s`` [s]); ``max_power_w``: the
    fastest plausible rise [W] (None: no bound); ``prev_last``: the counter before the period [Wh].
    """
    f = np.asarray(first, dtype=np.float64)
    la = np.asarray(last, dtype=np.float64)
    mn = np.asarray(minimum, dtype=np.float64)
    mx = np.asarray(maximum, dtype=np.float64)
    cnt = np.asarray(count, dtype=np.float64)
    present = (cnt > 0) & np.isfinite(la) & np.isfinite(f)
    n0 = la.shape[0]
    t = (
        (np.arange(n0, dtype=np.float64) + 1.0) * interval_s
        if last_ts_ms is None
        else np.asarray(last_ts_ms, dtype=np.float64) / 1000.0
    )
    lead = prev_last is not None
    if lead:  # the value before the period, as a virtual interval 0 (its energy is dropped)
        v = float(prev_last)  # type: ignore[arg-type]
        f, la, mn, mx = (np.concatenate(([v], a)) for a in (f, la, mn, mx))
        cnt = np.concatenate(([1.0], cnt))
        present = np.concatenate(([True], present))
        t0 = (t[present[1:]][0] if present[1:].any() else interval_s) - interval_s if last_ts_ms is not None else 0.0
        t = np.concatenate(([t0], t))
    n = la.shape[0]
    energy = np.zeros(n)
    status = np.full(n, Status.MISSING, dtype=np.int8)
    anomaly = np.zeros(n, dtype=np.int8)
    if n == 0 or not present.any():
        return CounterEnergy(energy[int(lead) :], status[int(lead) :], anomaly[int(lead) :])

    good = present.copy()

    def bound(elapsed_s: FloatArray) -> FloatArray:
        """The largest plausible rise over ``elapsed_s`` [Wh]."""
        if max_power_w is None:
            return np.full(elapsed_s.shape, np.inf)
        return float(max_power_w) * (elapsed_s + SLACK_S) / 3600.0

    def bases(good: BoolArray) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray]:
        prev = _previous(good)
        has = prev >= 0
        p = np.maximum(prev, 0)
        base = np.where(has, la[p], f)
        elapsed = np.where(has, np.maximum(t - t[p], 0.0), interval_s)
        return has, base, elapsed, t[p]

    for _ in range(GLITCH_PASSES):
        has, base, elapsed, base_t = bases(good)
        allowed = bound(elapsed)
        rise = la - base
        eps = 1e-9 * np.abs(base) + 1e-6
        drop = good & has & (rise < -eps)
        jump = good & (rise > allowed)
        if wrap_wh is not None:
            drop &= ~((float(wrap_wh) - base + la <= allowed) & (float(wrap_wh) > base))
        cand = drop | jump
        if not cand.any():
            break
        nxt = _next(good)
        has_next = nxt < n
        ni = np.minimum(nxt, n - 1)
        back = la[ni] - base
        returns = has_next & (back >= -eps) & (back <= bound(np.maximum(t[ni] - base_t, 0.0)))
        # a candidate whose own base is a candidate waits for the next pass (its base may be the glitch)
        prev = _previous(good)
        glitch = cand & returns & ~np.where(prev >= 0, cand[np.maximum(prev, 0)], False)
        if not glitch.any():
            break
        good &= ~glitch
        anomaly[glitch & drop] |= Anomaly.GLITCH
        anomaly[glitch & jump] |= Anomaly.JUMP

    has, base, elapsed, _ = bases(good)
    allowed = bound(elapsed)
    rise = la - base
    eps = 1e-9 * np.abs(base) + 1e-6
    down = good & has & (rise < -eps)
    wrapped = np.zeros(n, dtype=bool)
    if wrap_wh is not None:
        wrapped = down & (float(wrap_wh) > base) & (float(wrap_wh) - base + la <= allowed)
    reset = down & ~wrapped
    shift = good & (rise > allowed)
    peak_known = mx > la
    pre = np.where(peak_known, np.clip(mx - base, 0.0, allowed), 0.0)
    post = np.clip(la - mn, 0.0, allowed)
    e = np.where(wrapped, float(wrap_wh or 0.0) - base + la, np.where(reset, np.minimum(pre + post, allowed), rise))
    plain = good & ~reset & ~wrapped & ~shift
    anomaly[plain & (mx - base > allowed)] |= Anomaly.JUMP  # a spike inside the interval, back by its end
    anomaly[plain & (mn < np.minimum(base, f) - eps)] |= Anomaly.GLITCH  # a dip inside, back by its end
    anomaly[reset] |= Anomaly.RESET
    anomaly[wrapped] |= Anomaly.WRAP
    anomaly[shift] |= Anomaly.JUMP
    # a lone reading with nothing before it (a device's first, a backfill's first boundary reading)
    # measured nothing: it is the base of what follows, its own interval's energy is unknown
    alone = good & ~has & (cnt <= 1)
    counted = good & ~shift & ~alone
    e = np.where(counted, np.maximum(e, 0.0), 0.0)

    # spread a rise over the intervals without good data before it (when a good reading came before the gap)
    idx = np.arange(n)
    prev = _previous(good)
    span = np.where(counted & (prev >= 0), idx - prev, 1)
    share = np.where(counted, e / span, 0.0)
    nxt_good = np.where(good, idx, _next(good))
    fill = ~good & (nxt_good < n) & (np.maximum.accumulate(np.where(good, idx, -1)) >= 0)
    ng = np.minimum(nxt_good, n - 1)
    fill &= counted[ng]
    energy = np.where(counted, share, np.where(fill, share[ng], 0.0))
    status = np.where(counted, Status.MEASURED, np.where(fill, Status.IMPUTED, Status.MISSING)).astype(np.int8)
    s = int(lead)
    return CounterEnergy(energy[s:], status[s:], anomaly[s:])


def stale_at(
    last_reading_ms: int | None, start_ms: int, interval_ms: int, n: int, now_ms: int, max_age_ms: float
) -> int | None:
    """The interval (of ``n`` from ``start_ms``) holding a device's last reading when that reading is
    older than ``max_age_ms`` at the interval's end (or at ``now_ms``, for the open interval): the
    device went silent there, and the interval's energy stops at that reading (``STALE``). A
    reading on a boundary belongs to the interval it closes. None: not stale, or outside."""
    if last_reading_ms is None:
        return None
    i = -(-(last_reading_ms - start_ms) // interval_ms) - 1  # ceil − 1: a boundary reading closes the one before
    if not 0 <= i < n:
        return None
    end = min(start_ms + (i + 1) * interval_ms, now_ms)
    return i if end - last_reading_ms > max_age_ms else None


def power_energy(
    mean_w: npt.ArrayLike,
    count: npt.ArrayLike,
    interval_s: int,
    *,
    role: str = "grid",
    max_power_w: float | None = None,
) -> CounterEnergy:
    """Fallback: energy per interval [Wh] = mean power [W] × interval [s] / 3600, ``INTEGRATED``.

    The sign of ``mean_w`` is kept (grid: + import; battery: + discharge). Impossible values are
    rejected (``MISSING`` with ``REJECTED``), never ``abs()``-ed: NaN, a magnitude above
    ``max_power_w``, a negative consumption, a production below −2 % of ``max_power_w`` (a
    production slightly below zero, an inverter's own night draw, counts as 0).
    """
    p = np.asarray(mean_w, dtype=np.float64)
    has = np.asarray(count) > 0
    bad = has & ~np.isfinite(p)
    finite = np.where(np.isfinite(p), p, 0.0)
    if max_power_w is not None:
        bad |= has & (np.abs(finite) > max_power_w)
    if role == "consumption":
        bad |= has & (finite < 0.0)
    elif role == "production":
        floor = -0.02 * max_power_w if max_power_w is not None else 0.0
        bad |= has & (finite < floor)
        finite = np.maximum(finite, 0.0)
    ok = has & ~bad
    energy = np.where(ok, finite * (interval_s / 3600.0), 0.0)
    status = np.where(ok, Status.INTEGRATED, Status.MISSING).astype(np.int8)
    anomaly = np.where(bad, Anomaly.REJECTED, 0).astype(np.int8)
    return CounterEnergy(energy, status, anomaly)
