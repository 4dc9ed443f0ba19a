"""Where a device's energy counter rolls over, from its register profile (``registers.profile``).

A counter held in an integer register of *b* bits, scaled by ``scale`` (and, for SunSpec, by
``10^SF`` with SF a scale-factor register read at run time), rolls over at
``W = 2^b × scale × 10^SF`` [Wh]. The SF is not in the profile: it is the smallest non-negative
value of ``registers.codec.SCALE_FACTOR_RANGE`` that puts ``W`` above the largest value the counter
was ever read at (a register's top is above every value it held; an energy counter in fractions
of a Wh would roll over within days, so SF < 0 is not taken: a young counter that has read little
is never given a tiny wrap). Floats never wrap; a device
without a profile (MQTT) has no known wrap (``None``).
"""

from __future__ import annotations

import functools

from ville_autonome.configuration.errors import ConfigError
from ville_autonome.configuration.topology import DeviceConfig
from ville_autonome.registers.codec import SCALE_FACTOR_RANGE, is_integer_type, register_count
from ville_autonome.registers.profile import load_profile


def counter_wrap_wh(device: DeviceConfig, quantity: str, highest_wh: float) -> float | None:
    """The value [Wh] at which ``device``'s ``quantity`` counter rolls over, or None (no integer
    register known). ``highest_wh``: the largest value read from it."""
    if not device.profile:
        return None
    register = _register_top(device.profile, device.role, quantity)
    if register is None:
        return None
    top, scaled = register
    if not scaled:
        return top
    return next((top * 10.0**sf for sf in SCALE_FACTOR_RANGE if sf >= 0 and top * 10.0**sf > highest_wh), None)


@functools.lru_cache(maxsize=4096)
def _register_top(profile_name: str, role: str, quantity: str) -> tuple[float, bool] | None:
    """``2^bits × scale`` of the integer register of ``quantity`` in the profile, and whether a
    SunSpec scale factor multiplies it; None when it is not an integer register (once per profile:
    a year of day balances asks thousands of times)."""
    try:
        profile = load_profile(profile_name)
    except (ConfigError, OSError):  # "sunspec" (discovered at run time) or a profile file gone: no known width
        return None
    point = next((p for p in profile.points if p.quantity_for(role) == quantity), None)
    if point is None or not is_integer_type(point.datatype):
        return None
    return float(2 ** (16 * register_count(point.datatype))) * point.scale, point.scale_factor is not None
