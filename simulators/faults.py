"""Faults on demand: what each one does, its parameters, and the pure value transforms.

=================  ==============================================================  =====================
fault              effect (Modbus / MQTT)                                          parameters (default)
=================  ==============================================================  =====================
``silent``         no answer at all (the client times out) / no publication        –
``slow``           answers after a delay / publications delayed                    ``delay_s`` (2.0)
``stuck``          values frozen at the moment of injection (counters too)         –
``spike``          power values multiplied by ``factor``                           ``factor`` (100.0)
``byte_swap``      the two bytes of every register exchanged (wrong byte order)    –
``counter_reset``  energy counters restart from 0 (meter replaced / reset)         –
``clock_skew``     values are those of t + ``skew_s``; MQTT timestamps shifted     ``skew_s`` (3600.0)
``exception``      Modbus exception response ``code`` to every request             ``code`` (4, device failure)
``malformed_mqtt`` the MQTT payload is not valid JSON                              –
=================  ==============================================================  =====================

Errors::

    simulators.errors.SimulatorError
    └── FaultError (ValueError)     unknown fault name, unknown device, or a bad parameter
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ville_autonome.simulators.errors import SimulatorError
from ville_autonome.simulators.scenario import FAULT_NAMES

DEFAULTS: dict[str, dict[str, float]] = {
    "silent": {},
    "slow": {"delay_s": 2.0},
    "stuck": {},
    "spike": {"factor": 100.0},
    "byte_swap": {},
    "counter_reset": {},
    "clock_skew": {"skew_s": 3600.0},
    "exception": {"code": 4.0},
    "malformed_mqtt": {},
}
assert tuple(DEFAULTS) == FAULT_NAMES
MODBUS_EXCEPTION_CODES = frozenset({1, 2, 3, 4, 5, 6, 10, 11})
POWER_QUANTITIES = (
    "active_power_w",
    "active_power_l1_w",
    "active_power_l2_w",
    "active_power_l3_w",
    "apparent_power_va",
    "reactive_power_var",
)


class FaultError(SimulatorError, ValueError):
    """An unknown fault, device, or a bad fault parameter."""


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    params: Mapping[str, float]

    def param(self, key: str) -> float:
        return float(self.params.get(key, DEFAULTS[self.name][key]))


def make_fault(name: str, params: Mapping[str, object]) -> Fault:
    """Validate a fault name and its parameters (numbers, known keys, sane ranges)."""
    if name not in DEFAULTS:
        raise FaultError(f"unknown fault {name!r} (known: {', '.join(FAULT_NAMES)})")
    clean: dict[str, float] = {}
    for key, value in params.items():
        if key not in DEFAULTS[name]:
            known = ", ".join(DEFAULTS[name]) or "none"
            raise FaultError(f"fault {name!r} has no parameter {key!r} (parameters: {known})")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise FaultError(f"fault {name!r}: parameter {key!r} must be a finite number, got {value!r}")
        clean[key] = float(value)
    fault = Fault(name, clean)
    if name == "slow" and not 0.0 <= fault.param("delay_s") <= 600.0:
        raise FaultError("fault 'slow': delay_s must be within 0…600")
    if name == "exception" and int(fault.param("code")) not in MODBUS_EXCEPTION_CODES:
        raise FaultError(f"fault 'exception': code must be one of {sorted(MODBUS_EXCEPTION_CODES)}")
    return fault


def apply_spike(values: dict[str, float], factor: float) -> dict[str, float]:
    """Power values multiplied by ``factor`` (counters untouched)."""
    return {k: (v * factor if k in POWER_QUANTITIES else v) for k, v in values.items()}


def apply_counter_offsets(values: dict[str, float], offsets: Mapping[str, float]) -> dict[str, float]:
    """Counters minus the value they had when the reset was injected (never below 0)."""
    return {k: (max(v - offsets[k], 0.0) if k in offsets else v) for k, v in values.items()}
