"""Balance closure of a site, per interval: does what was measured add up? Pure numpy.

Where every side of a site's balance is measured by a counter in an interval (grid and
consumption meters, and every other device of the site, all ``MEASURED``), the residual

    r = G + D + I − L − C − X   [Wh]

should be metering noise. An interval whose ``|r|`` exceeds ``max(tolerance × throughput,
floor_wh)`` (throughput ``= max(G + D + I, L + C + X)``) is **unbalanced**: a meter is out of step
(stuck, lagging, catching up), and the attribution's per-interval cap ``min(I, L)`` would silently
drop or invent energy there. Such an interval makes the result incomplete (``unbalanced:<site>``).
Where a side is derived from the others (no grid or no load meter) the balance closes by
construction and is not checked; an interval still open (ending after now) is not checked either:
its meters were read at slightly different instants of a few seconds of data.

Where the grid and load meters both have a value but some side is not measured (a counter rise
spread over a gap), the residual is unknown; an import beyond what the load and the battery could
take (``I − Cg − L``, what the cap ``min(I, L)`` would drop) above the same tolerance is still
unbalanced: surplus import is never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ville_autonome.autonomy.counters import BoolArray, FloatArray
from ville_autonome.autonomy.flows import SiteFlows

DEFAULT_TOLERANCE = 0.05  # share of the interval's throughput
DEFAULT_FLOOR_WH = 50.0  # residuals below this are noise whatever the throughput [Wh]


@dataclass(frozen=True)
class Balance:
    """Balance closure over a period: how many intervals were checked, how many did not close,
    and the worst residual (its site and interval)."""

    checked_intervals: int  # site-intervals whose four sides were measured
    unbalanced_intervals: int  # of those, residual above the tolerance
    worst_residual_wh: float | None  # signed residual G + D + I − L − C − X [Wh]
    worst_residual_share: float | None  # |residual| / throughput
    worst_site: str | None
    worst_interval_ms: int | None  # start of that interval [UTC ms]
    unbalanced_sites: list[str]


def residual(f: SiteFlows) -> tuple[FloatArray, FloatArray]:
    """Residual ``G + D + I − L − C − X`` and throughput ``max(G + D + I, L + C + X)`` per interval [Wh]."""
    supply = f.generation_wh + f.discharge_wh + f.import_wh
    draw = f.load_wh + f.charge_wh + f.export_wh
    return supply - draw, np.maximum(supply, draw)


def unbalanced(f: SiteFlows, tolerance: float, floor_wh: float) -> tuple[BoolArray, FloatArray, FloatArray]:
    """(unbalanced mask, residual, throughput) of one site per interval (only metered intervals can be unbalanced)."""
    r, through = residual(f)
    limit = np.maximum(tolerance * through, floor_wh)
    bad = f.metered & (np.abs(r) > limit)
    cg = np.clip(f.charge_wh - np.maximum(f.generation_wh - f.load_wh, 0.0), 0.0, f.import_wh)
    bad |= f.sides_known & (f.import_wh - cg - f.load_wh > limit)  # import the cap would drop
    return bad, r, through


def summarise(
    flows: list[SiteFlows],
    start: int,
    start_ms: int,
    interval_s: int,
    tolerance: float,
    floor_wh: float,
    closed: BoolArray | None = None,
) -> tuple[Balance, BoolArray]:
    """The :class:`Balance` of ``flows`` over the intervals from ``start`` on (the period after the
    warm-up), and the mask of intervals where any site is unbalanced. Only ``closed`` intervals
    (per interval of the period; default all) are checked: an open one is still being measured."""
    n = flows[0].load_wh.shape[0] - start if flows else 0
    any_bad = np.zeros(max(n, 0), dtype=bool)
    checked = bad_count = 0
    worst: tuple[float, float, str, int] | None = None  # (|r| / through, r, site, interval)
    sites: list[str] = []
    done = np.ones(max(n, 0), dtype=bool) if closed is None else closed
    for f in flows:
        bad, r, through = unbalanced(f, tolerance, floor_wh)
        bad, r, through, metered = bad[start:] & done, r[start:], through[start:], f.metered[start:] & done
        checked += int(metered.sum())
        bad_count += int(bad.sum())
        any_bad |= bad
        if bad.any():
            sites.append(f.site)
        if metered.any():
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(metered & (through > 0), np.abs(r) / np.where(through > 0, through, 1.0), -1.0)
            i = int(np.argmax(share))
            if share[i] >= 0 and (worst is None or share[i] > worst[0]):
                worst = (float(share[i]), float(r[i]), f.site, i)
    return (
        Balance(
            checked_intervals=checked,
            unbalanced_intervals=bad_count,
            worst_residual_wh=worst[1] if worst else None,
            worst_residual_share=worst[0] if worst else None,
            worst_site=worst[2] if worst else None,
            worst_interval_ms=start_ms + worst[3] * interval_s * 1000 if worst else None,
            unbalanced_sites=sorted(sites),
        ),
        any_bad,
    )
