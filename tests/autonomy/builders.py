"""Build engine inputs from plain lists in tests: one device per role, energies per interval [Wh]."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ville_autonome.autonomy import DeviceEnergy, SiteInputs, Status


def device(
    name: str,
    role: str,
    supply: Sequence[float] | None = None,
    draw: Sequence[float] | None = None,
    *,
    source: str | None = None,
    missing: Sequence[int] = (),
) -> DeviceEnergy:
    n = len(supply if supply is not None else draw or [])
    s = np.asarray(supply if supply is not None else [0.0] * n, dtype=float)
    d = np.asarray(draw if draw is not None else [0.0] * n, dtype=float)
    status = np.full(n, Status.MEASURED, dtype=np.int8)
    for i in missing:
        status[i] = Status.MISSING
        s[i] = d[i] = 0.0
    return DeviceEnergy(name, role, s, d, status, source)


def site(
    name: str,
    *,
    load: Sequence[float] | None = None,
    pv: Sequence[float] | None = None,
    charge: Sequence[float] | None = None,
    discharge: Sequence[float] | None = None,
    imp: Sequence[float] | None = None,
    exp: Sequence[float] | None = None,
    district: str = "d",
) -> SiteInputs:
    devices = []
    if load is not None:
        devices.append(device(f"{name}-load", "consumption", draw=load))
    if pv is not None:
        devices.append(device(f"{name}-pv", "production", supply=pv, source="pv"))
    if charge is not None or discharge is not None:
        n = len(charge if charge is not None else discharge or [])
        devices.append(device(f"{name}-battery", "storage", supply=discharge or [0.0] * n, draw=charge or [0.0] * n))
    if imp is not None or exp is not None:
        n = len(imp if imp is not None else exp or [])
        devices.append(device(f"{name}-grid", "grid", supply=imp or [0.0] * n, draw=exp or [0.0] * n))
    return SiteInputs(name, district, devices)
