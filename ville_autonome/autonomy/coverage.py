"""Data coverage of a result: how much of the scope's energy was measured. Pure numpy.

**Energy-weighted** (method 2.0): each device weighs what it usually carries, its *expected
energy per interval* — the mean of ``supply + draw`` over the intervals of the window (warm-up
and period) where it was measured, and never less than ``rated_power_w × interval ×
FLOOR_LOAD_FACTOR`` (a PV inverter measured only at night still weighs); an interval where a device
went silent for good (``STALE``) counts as not measured; a device never measured in the window weighs
``rated_power_w × interval × FALLBACK_LOAD_FACTOR``, and without a rating the median weight of
the scope's other devices. Per interval, coverage = Σ weight of the devices measured (by counter
or power) / Σ weights; over the period, the mean of that. A site carrying 15 % of the city's
energy silent all day leaves the city at about 0.85: below the default threshold (0.9).

The same share is computed per role (production, consumption, storage, grid): a result is
complete only when each is at or above the threshold, so a silent PV inverter is not hidden by
well-measured loads. The device-interval share (every device counts the same, method 1.0's
ratio) stays, under its own name ``device_interval_ratio``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ville_autonome.autonomy.counters import Anomaly, BoolArray, FloatArray, Status
from ville_autonome.autonomy.inputs import DeviceEnergy, ScopeInputs

FALLBACK_LOAD_FACTOR = 0.25  # expected energy of a never-measured device: a quarter of its rating
FLOOR_LOAD_FACTOR = 0.05  # and of any rated device at least this share of its rating (a PV seen only at night)
_IMPLAUSIBLE_BITS = Anomaly.JUMP | Anomaly.GLITCH | Anomaly.REJECTED  # an implausible reading, excluded


@dataclass(frozen=True)
class DeviceCoverage:
    device: str
    site: str
    measured: int  # intervals from the counter
    integrated: int  # intervals from mean power (fallback)
    imputed: int  # intervals spread from a counter rise
    missing: int  # intervals without data
    implausible: int  # intervals holding an implausible reading (excluded): jump, glitch, impossible power
    resets: int  # intervals with a counter reset
    stale: int  # intervals where it went silent for good (its energy there stops at its last reading)
    expected_wh: float  # its expected energy per interval (its weight) [Wh]
    energy_share: float  # its share of the scope's expected energy
    rated: bool  # has a rated power: its counters are bounded by the plausibility rule


@dataclass(frozen=True)
class Coverage:
    """How much of a result rests on data, and whether it is complete."""

    ratio: float  # energy-weighted measured share: what the threshold is compared with
    threshold: float
    by_role: dict[str, float]  # the same per role (production, consumption, storage, grid): each ≥ threshold
    complete: bool  # ratio ≥ threshold, and no implausible reading, counter reset or unbalanced interval in the period
    device_interval_ratio: float  # measured + integrated share of device-intervals (each device counts the same)
    device_intervals: int
    measured_share: float
    integrated_share: float
    imputed_share: float
    missing_share: float
    implausible_intervals: int  # device-intervals holding an implausible reading
    unbalanced_intervals: int  # site-intervals whose balance did not close
    incomplete_devices: list[str]
    devices: list[DeviceCoverage]


def expected_energy(inputs: ScopeInputs, interval_s: int) -> dict[str, float]:
    """Each device's expected energy per interval [Wh] (module docstring)."""
    out: dict[str, float] = {}
    unknown: list[str] = []
    for s in inputs.sites:
        for d in s.devices:
            measured = (d.status <= Status.INTEGRATED) & ~(d.anomalies & Anomaly.STALE).astype(bool)
            full = d.rated_power_w * interval_s / 3600.0 if d.rated_power_w else None
            if measured.any():
                seen = float((d.supply_wh + d.draw_wh)[measured].mean())
                out[d.device] = max(seen, full * FLOOR_LOAD_FACTOR) if full is not None else seen
            elif full is not None:
                out[d.device] = full * FALLBACK_LOAD_FACTOR
            else:
                unknown.append(d.device)
    fill = float(np.median(sorted(out.values()))) if out else 1.0
    for name in unknown:
        out[name] = fill
    return out


def _weights(inputs: ScopeInputs, interval_s: int) -> dict[str, float]:
    """Each device's weight: its expected energy, or 1 for all when nothing carried any energy."""
    weights = expected_energy(inputs, interval_s)
    if sum(sorted(weights.values())) < 1e-6:  # nothing carried any energy: every device counts the same
        weights = dict.fromkeys(weights, 1.0)
    return weights


def _device_coverage(d: DeviceEnergy, site: str, w0: int, w: float, total_w: float) -> tuple[DeviceCoverage, BoolArray]:
    """One device's :class:`DeviceCoverage` over the period and its measured mask per interval."""
    status, anomaly = d.status[w0:], d.anomalies[w0:]
    counts = np.bincount(status.astype(np.int64), minlength=4)
    measured = (status <= Status.INTEGRATED) & ~(anomaly & Anomaly.STALE).astype(bool)
    cov = DeviceCoverage(
        device=d.device,
        site=site,
        measured=int(counts[Status.MEASURED]),
        integrated=int(counts[Status.INTEGRATED]),
        imputed=int(counts[Status.IMPUTED]),
        missing=int(counts[Status.MISSING]),
        implausible=int(np.count_nonzero(anomaly & _IMPLAUSIBLE_BITS)),
        resets=int(np.count_nonzero(anomaly & Anomaly.RESET)),
        stale=int(np.count_nonzero(anomaly & Anomaly.STALE)),
        expected_wh=w,
        energy_share=w / total_w if total_w > 0 else 0.0,
        rated=d.rated_power_w is not None,
    )
    return cov, measured


def _status_shares(per_device: list[DeviceCoverage], n: int) -> tuple[int, list[float]]:
    """The device-interval count and the measured, integrated, imputed and missing shares of it."""
    total = n * len(per_device)
    sums = [sum(getattr(c, k) for c in per_device) for k in ("measured", "integrated", "imputed", "missing")]
    return total, [x / total if total else 0.0 for x in sums]


def _is_complete(
    ratio: float,
    threshold: float,
    by_role: dict[str, float],
    per_device: list[DeviceCoverage],
    unbalanced_intervals: int,
) -> bool:
    """Every flow measured enough (a silent PV is not hidden by well-measured loads), and no
    implausible reading, counter reset (it loses the energy between the last reading before it and
    the first after it) or unbalanced interval."""
    return (
        ratio >= threshold
        and all(v >= threshold for v in by_role.values())
        and sum(c.implausible for c in per_device) == 0
        and sum(c.resets for c in per_device) == 0
        and unbalanced_intervals == 0
    )


def coverage(
    inputs: ScopeInputs, interval_s: int, threshold: float, unbalanced_intervals: int
) -> tuple[Coverage, FloatArray]:
    """The period's :class:`Coverage` and the energy-weighted coverage per interval of the period."""
    n, w0 = inputs.n_intervals, inputs.warmup
    weights = _weights(inputs, interval_s)
    total_w = 0.0
    for name in sorted(weights):
        total_w += weights[name]
    per_interval = np.zeros(n)
    role_measured: dict[str, float] = {}  # Σ weight × measured intervals, per role
    role_expected: dict[str, float] = {}  # Σ weight × intervals, per role
    per_device: list[DeviceCoverage] = []
    ordered = sorted(((d, s.site) for s in inputs.sites for d in s.devices), key=lambda p: p[0].device)
    for d, site in ordered:  # in a fixed order: the sums do not depend on the order of the inputs
        w = weights[d.device]
        device_cov, measured = _device_coverage(d, site, w0, w, total_w)
        per_interval += w * measured
        role_measured[d.role] = role_measured.get(d.role, 0.0) + w * float(np.count_nonzero(measured))
        role_expected[d.role] = role_expected.get(d.role, 0.0) + w * n
        per_device.append(device_cov)
    per_interval = per_interval / total_w  # the same additions in the same order: exactly 1 where all measured
    per_device.sort(key=lambda c: c.device)
    total, shares = _status_shares(per_device, n)
    ratio = float(per_interval.mean()) if n and total_w > 0 else 0.0
    by_role = {r: (role_measured[r] / e if e > 0 else 1.0) for r, e in sorted(role_expected.items())}
    cov = Coverage(
        ratio=ratio,
        threshold=threshold,
        complete=_is_complete(ratio, threshold, by_role, per_device, unbalanced_intervals),
        by_role=by_role,
        device_interval_ratio=shares[0] + shares[1],
        device_intervals=total,
        measured_share=shares[0],
        integrated_share=shares[1],
        imputed_share=shares[2],
        missing_share=shares[3],
        implausible_intervals=sum(c.implausible for c in per_device),
        unbalanced_intervals=unbalanced_intervals,
        incomplete_devices=[c.device for c in per_device if c.imputed or c.missing or c.implausible or c.stale],
        devices=per_device,
    )
    return cov, per_interval
