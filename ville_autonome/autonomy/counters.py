"""Energy per interval from cumulative counters (and, as a flagged fallback, from mean power).

Pure numpy, no I/O. Inputs are per-interval aggregates of one counter (what
``storage.base.IntervalStat`` carries): ``first``, ``last``, ``minimum``, ``maximum`` and ``count``
of the good readings inside each aligned interval [Wh]. Output: energy per interval [Wh, ≥ 0] and
a :class:`Status` per interval.

Rules (docs/metrics.md, "Energy from counters"):

- energy of interval *i* = ``last[i] − last[j]`` where *j* is the previous interval with data
  (or ``prev_last``, the last value before the period); a counter is robust to missed polls;
- a decrease is a **reset** (meter cleared or replaced): the energy before it is
  ``maximum − previous`` (when the counter ends the interval below that peak; otherwise the
  pre-reset rise is unknown and left out) and after it ``last − minimum`` (the rise from the
  first post-reset reading): energy is lost at a reset, never invented;
- with ``wrap_wh`` given (a register that rolls over at that value), a decrease is a
  **wrap-around**: energy = ``wrap_wh − previous + last``;
- intervals without data between two intervals with data share the counter's rise evenly and are
  marked ``IMPUTED`` (the total is measured, its split in time is not); intervals without data
  and no later reading are ``MISSING`` (0 Wh).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
StatusArray = npt.NDArray[np.int8]


class Status(IntEnum):
    """How the energy of one device in one interval was obtained."""

    MEASURED = 0  # from the device's cumulative counter
    INTEGRATED = 1  # from its mean power × interval length (fallback, flagged)
    IMPUTED = 2  # a counter rise spread over intervals without readings
    MISSING = 3  # no data: counted as 0 Wh


def counter_energy(
    first: npt.ArrayLike,
    last: npt.ArrayLike,
    minimum: npt.ArrayLike,
    maximum: npt.ArrayLike,
    count: npt.ArrayLike,
    *,
    prev_last: float | None = None,
    wrap_wh: float | None = None,
) -> tuple[FloatArray, StatusArray]:
    """Energy per interval [Wh] and its :class:`Status` from per-interval counter aggregates [Wh].

    Intervals with ``count == 0`` have no data (their other values are ignored).
    """
    f = np.asarray(first, dtype=np.float64)
    la = np.asarray(last, dtype=np.float64)
    mn = np.asarray(minimum, dtype=np.float64)
    mx = np.asarray(maximum, dtype=np.float64)
    present = np.asarray(count) > 0
    n = la.shape[0]
    energy = np.zeros(n)
    status = np.full(n, Status.MISSING, dtype=np.int8)
    if n == 0 or not present.any():
        return energy, status

    idx = np.arange(n)
    last_present = np.maximum.accumulate(np.where(present, idx, -1))
    prev_idx = np.concatenate(([-1], last_present[:-1]))
    start = np.nan if prev_last is None else float(prev_last)
    prev = np.where(prev_idx >= 0, la[np.maximum(prev_idx, 0)], start)
    has_prev = ~np.isnan(prev)
    base = np.where(has_prev, prev, f)  # without a previous value, the interval's own first reading

    inside_drop = (mn < f) | (la < mx)  # the counter went down within the interval
    boundary_drop = has_prev & (f < prev)
    if wrap_wh is not None:
        wrapped = inside_drop | boundary_drop
        e = np.where(wrapped, float(wrap_wh) - base + la, la - base)
    else:
        # the maximum is the pre-reset peak only if the counter ended below it; otherwise the
        # rise before the reset is unknown and left out (never invented)
        peak_known = inside_drop & (mx > la)
        pre = np.where(peak_known, np.maximum(mx - np.where(boundary_drop, f, base), 0.0), 0.0)
        post_from = np.where(inside_drop | boundary_drop, mn, base)
        e = pre + (la - post_from)
    e = np.where(present, np.maximum(e, 0.0), 0.0)

    # spread a rise over the empty intervals before it (when something came before the gap)
    next_present = np.minimum.accumulate(np.where(present, idx, n)[::-1])[::-1]
    gap_start = prev_idx + 1  # first interval after the previous reading, per present interval
    span = np.where(present & has_prev & (prev_idx >= 0), idx - gap_start + 1, 1)
    share = np.where(present, e / span, 0.0)
    fill = ~present & (next_present < n) & (last_present >= 0)
    nxt = np.minimum(next_present, n - 1)
    energy = np.where(present, share, np.where(fill, share[nxt], 0.0))
    status = np.where(present, Status.MEASURED, np.where(fill, Status.IMPUTED, Status.MISSING)).astype(np.int8)
    return energy, status


def power_energy(mean_w: npt.ArrayLike, count: npt.ArrayLike, interval_s: int) -> tuple[FloatArray, StatusArray]:
    """Fallback: energy per interval [Wh] = mean power [W] × interval [s] / 3600, status ``INTEGRATED``.

    The sign of ``mean_w`` is kept (grid: + import; battery: + discharge); intervals without data
    are ``MISSING``.
    """
    p = np.asarray(mean_w, dtype=np.float64)
    present = (np.asarray(count) > 0) & ~np.isnan(p)
    energy = np.where(present, p * (interval_s / 3600.0), 0.0)
    status = np.where(present, Status.INTEGRATED, Status.MISSING).astype(np.int8)
    return energy, status
