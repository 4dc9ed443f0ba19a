"""Interval boundaries: a counter reading stamped exactly at an interval boundary closes the
interval before it. Pure numpy.

Stores aggregate readings over half-open intervals ``[start, start + interval)``, so a reading at
``t = start_k`` lands in interval *k*. For a cumulative counter that reading is the energy counted
*up to* ``start_k``: it is the end of interval *k − 1* (docs/metrics.md, "Interval boundaries").
:func:`close_at_boundary` moves it there: it becomes the ``last`` of interval *k − 1* (and its
only reading when *k − 1* had none), and interval *k* keeps its other readings.

Every reading of a backfill is stamped on a boundary (docs/simulators.md): without this rule each
backfilled interval would be booked one interval late, and the interval where live data takes
over would count two intervals' energy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ville_autonome.autonomy.counters import FloatArray

BOUNDARY_FIELDS = ("count", "first", "last", "minimum", "maximum", "first_ts_ms", "last_ts_ms")


def close_at_boundary(cols: dict[str, npt.NDArray[Any]], start_ms: int, interval_ms: int) -> dict[str, FloatArray]:
    """Counter aggregates on a regular grid of intervals from ``start_ms`` (``count``, ``first``,
    ``last``, ``minimum``, ``maximum``, ``first_ts_ms``, ``last_ts_ms``; zeros where ``count`` is 0),
    with every reading stamped on a boundary moved to the interval it closes. The first interval's
    boundary reading closes an interval outside the grid: it stays where it is."""
    count = np.asarray(cols["count"], dtype=np.float64).copy()
    n = count.shape[0]
    out = {k: np.asarray(cols[k], dtype=np.float64).copy() for k in BOUNDARY_FIELDS}
    out["count"] = count
    if n < 2:
        return out
    starts = start_ms + np.arange(n, dtype=np.float64) * interval_ms
    on_edge = (count > 0) & (out["first_ts_ms"] == starts)
    on_edge[0] = False
    k = np.flatnonzero(on_edge)
    if not k.size:
        return out
    j = k - 1
    value, ts = out["first"][k], out["first_ts_ms"][k]
    empty = count[j] == 0
    out["first"][j] = np.where(empty, value, out["first"][j])
    out["first_ts_ms"][j] = np.where(empty, ts, out["first_ts_ms"][j])
    out["minimum"][j] = np.where(empty, value, np.minimum(out["minimum"][j], value))
    out["maximum"][j] = np.where(empty, value, np.maximum(out["maximum"][j], value))
    out["last"][j] = value
    out["last_ts_ms"][j] = ts
    count[j] += 1
    count[k] -= 1
    return out
