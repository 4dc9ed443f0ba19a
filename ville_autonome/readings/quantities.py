"""Standard quantity names, their SI unit and plausible physical range.

Every quantity name ends with its unit (``active_power_w``, ``energy_import_wh``), as
docs/conventions.md says. The table is the single source for units: gateways map vendor
registers onto these names, the ingest checks units against them, the API labels series with them.

Sign conventions (docs/conventions.md):
- grid ``active_power_w``: + import, − export;
- battery ``active_power_w``: + discharge, − charge;
- production and consumption ``active_power_w`` are ≥ 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    GAUGE = "gauge"  # an instantaneous value (power, voltage, state of charge)
    COUNTER = "counter"  # a cumulative, non-decreasing counter (energy); resets and wraps happen
    STATE = "state"  # an enumerated state or alarm bit field, stored as a number


@dataclass(frozen=True, slots=True)
class Quantity:
    name: str
    unit: str
    kind: Kind
    minimum: float
    maximum: float
    description: str


_GW = 1e9
_TWH = 1e15

QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in [
        Quantity("active_power_w", "W", Kind.GAUGE, -_GW, _GW, "active power, total of phases"),
        Quantity("active_power_l1_w", "W", Kind.GAUGE, -_GW, _GW, "active power, phase 1"),
        Quantity("active_power_l2_w", "W", Kind.GAUGE, -_GW, _GW, "active power, phase 2"),
        Quantity("active_power_l3_w", "W", Kind.GAUGE, -_GW, _GW, "active power, phase 3"),
        Quantity("reactive_power_var", "var", Kind.GAUGE, -_GW, _GW, "reactive power, total"),
        Quantity("apparent_power_va", "VA", Kind.GAUGE, 0.0, _GW, "apparent power, total"),
        Quantity("voltage_l1_v", "V", Kind.GAUGE, 0.0, 1e6, "phase 1 to neutral voltage"),
        Quantity("voltage_l2_v", "V", Kind.GAUGE, 0.0, 1e6, "phase 2 to neutral voltage"),
        Quantity("voltage_l3_v", "V", Kind.GAUGE, 0.0, 1e6, "phase 3 to neutral voltage"),
        Quantity("current_l1_a", "A", Kind.GAUGE, -1e5, 1e5, "phase 1 current"),
        Quantity("current_l2_a", "A", Kind.GAUGE, -1e5, 1e5, "phase 2 current"),
        Quantity("current_l3_a", "A", Kind.GAUGE, -1e5, 1e5, "phase 3 current"),
        Quantity("current_a", "A", Kind.GAUGE, -1e5, 1e5, "current (DC or single phase)"),
        Quantity("voltage_v", "V", Kind.GAUGE, 0.0, 1e6, "voltage (DC or single phase)"),
        Quantity("frequency_hz", "Hz", Kind.GAUGE, 40.0, 70.0, "grid frequency"),
        Quantity("power_factor", "1", Kind.GAUGE, -1.0, 1.0, "power factor (signed)"),
        Quantity("energy_import_wh", "Wh", Kind.COUNTER, 0.0, _TWH, "cumulative active energy imported"),
        Quantity("energy_export_wh", "Wh", Kind.COUNTER, 0.0, _TWH, "cumulative active energy exported"),
        Quantity("energy_produced_wh", "Wh", Kind.COUNTER, 0.0, _TWH, "cumulative energy produced"),
        Quantity("energy_consumed_wh", "Wh", Kind.COUNTER, 0.0, _TWH, "cumulative energy consumed"),
        Quantity("energy_charged_wh", "Wh", Kind.COUNTER, 0.0, _TWH, "cumulative energy into a battery"),
        Quantity("energy_discharged_wh", "Wh", Kind.COUNTER, 0.0, _TWH, "cumulative energy out of a battery"),
        Quantity("heat_produced_wh", "Wh", Kind.COUNTER, 0.0, _TWH, "cumulative heat produced"),
        Quantity("heat_power_w", "W", Kind.GAUGE, 0.0, _GW, "thermal power"),
        Quantity("soc_pct", "%", Kind.GAUGE, 0.0, 100.0, "battery state of charge"),
        Quantity("soh_pct", "%", Kind.GAUGE, 0.0, 100.0, "battery state of health"),
        Quantity("capacity_wh", "Wh", Kind.GAUGE, 0.0, _TWH, "battery usable capacity"),
        Quantity("power_setpoint_w", "W", Kind.GAUGE, -_GW, _GW, "power setpoint (battery: + discharge)"),
        Quantity("cycle_count", "1", Kind.COUNTER, 0.0, 1e7, "battery full-equivalent cycles"),
        Quantity("temperature_c", "°C", Kind.GAUGE, -60.0, 200.0, "temperature"),
        Quantity("flow_m3_s", "m3/s", Kind.GAUGE, 0.0, 1e4, "water volume flow"),
        Quantity("head_m", "m", Kind.GAUGE, 0.0, 2000.0, "net hydraulic head"),
        Quantity("water_level_m", "m", Kind.GAUGE, -100.0, 1000.0, "water level above reference"),
        Quantity("gas_flow_m3_h", "m3/h", Kind.GAUGE, 0.0, 1e6, "gas volume flow"),
        Quantity("gas_volume_m3", "m3", Kind.COUNTER, 0.0, 1e12, "cumulative gas volume"),
        Quantity("water_volume_m3", "m3", Kind.COUNTER, 0.0, 1e12, "cumulative water volume"),
        Quantity("irradiance_w_m2", "W/m2", Kind.GAUGE, 0.0, 2000.0, "plane-of-array irradiance"),
        Quantity("wind_speed_m_s", "m/s", Kind.GAUGE, 0.0, 100.0, "wind speed"),
        Quantity("operating_state", "1", Kind.STATE, 0.0, 65535.0, "device operating state code"),
        Quantity("alarm_flags", "1", Kind.STATE, 0.0, 4294967295.0, "device alarm bit field"),
    ]
}


class UnknownQuantityError(KeyError):
    """A quantity name that is not in :data:`QUANTITIES`."""


def quantity(name: str) -> Quantity:
    """The :class:`Quantity` named ``name``; raises :class:`UnknownQuantityError`."""
    try:
        return QUANTITIES[name]
    except KeyError as exc:
        raise UnknownQuantityError(name) from exc
