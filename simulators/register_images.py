"""Register images: device values → the 16-bit words a Modbus client reads (pure).

One encoder per register map of docs/registers/: the SunSpec header and common model 1, meter
model 203, inverter model 103, battery model 802 + storage controls 124 + a model 203 meter on
the battery's AC side (its energy counters; standard models only, so that any SunSpec client
decodes every model), and the IKO hydro vendor map. Words are big-endian, 32/64-bit values high word first. Values
out of a type's range saturate (a real meter pins, it does not wrap) except accumulators, which
wrap modulo 2^32 as SunSpec acc32 does.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ville_autonome.simulators.storage_controls import SET_OP_DISCONNECT, BatteryControls

SUNSPEC_BASE = 40000
SUNSPEC_MARKER = (0x5375, 0x6E53)
COMMON_LEN = 66
NI_INT16 = 0x8000
NI_UINT16 = 0xFFFF
NI_SF = 0x8000
VERSION = "0.1.0"
NOMINAL_PHASE_V = 230.0
MIN_POWER_FACTOR = 0.8
BATTERY_MIN_V = 600.0  # the battery's lowest DC voltage (802 VMin)
MANUFACTURER = "Ville Autonome"


@dataclass(frozen=True, slots=True)
class RegisterMap:
    """Where a profile's image sits: first address and number of registers."""

    profile: str
    start: int
    length: int
    writable: frozenset[int]


MAPS: dict[str, RegisterMap] = {
    "sunspec-meter-203": RegisterMap("sunspec-meter-203", SUNSPEC_BASE, 179, frozenset()),
    "sunspec-inverter-103": RegisterMap("sunspec-inverter-103", SUNSPEC_BASE, 124, frozenset()),
    "sunspec-battery-802": RegisterMap(
        "sunspec-battery-802", SUNSPEC_BASE, 269, frozenset({40120, 40139, 40146, 40147, 40149})
    ),
    "va-hydro-iko": RegisterMap("va-hydro-iko", 0, 16, frozenset({1})),
}

# addresses of the writable registers (docs/registers/)
BATTERY_SET_OP = 40120
BATTERY_STOR_CTL_MOD = 40139
BATTERY_OUT_W_RTE = 40146
BATTERY_IN_W_RTE = 40147
BATTERY_RVRT_TMS = 40149
HYDRO_COMMAND = 1


def sf_for(max_abs: float, minimum: int, limit: int = 32767) -> int:
    """Smallest scale factor ≥ ``minimum`` for which 1.5 × ``max_abs`` fits in ``limit`` raw counts."""
    sf = minimum
    while abs(max_abs) * 1.5 / 10.0**sf > limit and sf < 10:
        sf += 1
    return sf


def energy_sf(rated_power_w: float) -> int:
    """Smallest SF ≥ 0 for which ten years at the rated power stay below 2^32 raw Wh."""
    sf = 0
    while rated_power_w * 87_600.0 / 10.0**sf >= 2**32 and sf < 10:
        sf += 1
    return sf


@dataclass(frozen=True, slots=True)
class Scales:
    """A device's fixed scale factors (SunSpec sunssf registers)."""

    w: int
    a: int
    wh: int

    @classmethod
    def for_rating(cls, rated_power_w: float) -> Scales:
        """Sized from the largest value each register can hold: the total current (model 203 ``A``,
        the sum of three phases) at rated power and a power factor down to 0.8; apparent power at
        that power factor; powers at rating (``sf_for`` adds 50 % headroom to each)."""
        return cls(
            w=sf_for(rated_power_w / MIN_POWER_FACTOR, 0),
            a=sf_for(rated_power_w / NOMINAL_PHASE_V / MIN_POWER_FACTOR, -2),
            wh=energy_sf(rated_power_w),
        )


def _raw(value: float, sf: int) -> float:
    return value / 10.0**sf if sf >= 0 else value * 10.0 ** (-sf)


def i16(value: float, sf: int = 0) -> int:
    if not math.isfinite(value):
        return NI_INT16
    raw = max(-32767, min(32767, round(_raw(value, sf))))
    return raw & 0xFFFF


def u16(value: float, sf: int = 0) -> int:
    if not math.isfinite(value):
        return NI_UINT16
    return max(0, min(0xFFFE, round(_raw(value, sf))))


def sunssf(sf: int) -> int:
    return sf & 0xFFFF


def u32(value: float, sf: int = 0) -> list[int]:
    raw = max(0, min(0xFFFFFFFE, round(_raw(value, sf))))
    return [raw >> 16, raw & 0xFFFF]


def acc32(value: float, sf: int = 0) -> list[int]:
    raw = int(_raw(max(value, 0.0), sf)) % (1 << 32)
    return [raw >> 16, raw & 0xFFFF]


def u64(value: float) -> list[int]:
    raw = max(0, min((1 << 64) - 2, int(value)))
    return [(raw >> 48) & 0xFFFF, (raw >> 32) & 0xFFFF, (raw >> 16) & 0xFFFF, raw & 0xFFFF]


def string(text: str, registers: int) -> list[int]:
    data = text.encode("utf-8")[: registers * 2].ljust(registers * 2, b"\0")
    return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]


@dataclass(frozen=True, slots=True)
class Identity:
    device_id: str
    profile: str
    role: str
    unit_id: int


def common_model(ident: Identity) -> list[int]:
    """Addresses 40000–40069: 'SunS', model 1 (L 66)."""
    return list(_common_model(ident))


@functools.lru_cache(maxsize=4096)
def _common_model(ident: Identity) -> tuple[int, ...]:
    words = [*SUNSPEC_MARKER, 1, COMMON_LEN]
    words += string(MANUFACTURER, 16) + string(ident.profile, 16) + string(ident.role, 8)
    words += string(VERSION, 8) + string(ident.device_id, 16) + [ident.unit_id & 0xFFFF, 0]
    return tuple(words)


def _g(values: Mapping[str, float], name: str, default: float = float("nan")) -> float:
    return float(values.get(name, default))


def model_203(v: Mapping[str, float], s: Scales) -> list[int]:
    """Model 203 (ID, L and 105 registers) of a three-phase wye meter."""
    phases = (1, 2, 3)
    amps = [_g(v, f"current_l{i}_a", 0.0) for i in phases]
    volts = [_g(v, f"voltage_l{i}_v", 230.0) for i in phases]
    watts = [_g(v, f"active_power_l{i}_w", _g(v, "active_power_w", 0.0) / 3.0) for i in phases]
    pf = _g(v, "power_factor", 1.0) * 100.0
    va = _g(v, "apparent_power_va", abs(_g(v, "active_power_w", 0.0)))
    var = _g(v, "reactive_power_var", 0.0)
    ll = [x * math.sqrt(3.0) for x in volts]
    imported = _g(v, "energy_import_wh", _g(v, "energy_consumed_wh", 0.0))
    exported = _g(v, "energy_export_wh", 0.0)
    w: list[int] = [203, 105]
    w += [i16(sum(amps), s.a), *(i16(a, s.a) for a in amps), sunssf(s.a)]
    w += [i16(sum(volts) / 3.0, -1), *(i16(x, -1) for x in volts), i16(sum(ll) / 3.0, -1), *(i16(x, -1) for x in ll)]
    w += [sunssf(-1), i16(_g(v, "frequency_hz", 50.0), -2), sunssf(-2)]
    w += [i16(_g(v, "active_power_w", 0.0), s.w), *(i16(x, s.w) for x in watts), sunssf(s.w)]
    w += [i16(va, s.w), *(i16(va / 3.0, s.w) for _ in phases), sunssf(s.w)]
    w += [i16(var, s.w), *(i16(var / 3.0, s.w) for _ in phases), sunssf(s.w)]
    w += [i16(pf, -2), *(i16(pf, -2) for _ in phases), sunssf(-2)]
    w += acc32(exported, s.wh) + [0] * 6 + acc32(imported, s.wh) + [0] * 6 + [sunssf(s.wh)]
    w += [0] * 16 + [NI_SF] + [0] * 32 + [NI_SF] + [0, 0]
    return w


def meter_203(ident: Identity, v: Mapping[str, float], s: Scales) -> list[int]:
    """Model 203 image from 40000 (docs/registers/sunspec-meter-203.md)."""
    return [*common_model(ident), *model_203(v, s), 0xFFFF, 0]


def inverter_103(ident: Identity, v: Mapping[str, float], s: Scales) -> list[int]:
    """Model 103 image from 40000 (docs/registers/sunspec-inverter-103.md)."""
    phases = (1, 2, 3)
    amps = [_g(v, f"current_l{i}_a", 0.0) for i in phases]
    volts = [_g(v, f"voltage_l{i}_v", 230.0) for i in phases]
    power = _g(v, "active_power_w", 0.0)
    has_dc = "irradiance_w_m2" in v
    w: list[int] = [*common_model(ident), 103, 50]
    w += [u16(sum(amps), s.a), *(u16(a, s.a) for a in amps), sunssf(s.a)]
    w += [*(u16(x * math.sqrt(3.0), -1) for x in volts), *(u16(x, -1) for x in volts), sunssf(-1)]
    w += [i16(power, s.w), sunssf(s.w), u16(_g(v, "frequency_hz", 50.0), -2), sunssf(-2)]
    w += [i16(_g(v, "apparent_power_va", power), s.w), sunssf(s.w)]
    w += [i16(_g(v, "reactive_power_var", 0.0), s.w), sunssf(s.w)]
    w += [i16(_g(v, "power_factor", 1.0) * 100.0, -2), sunssf(-2)]
    w += [*acc32(_g(v, "energy_produced_wh", 0.0), s.wh), sunssf(s.wh)]
    if has_dc:
        dc_w = power / 0.97
        dc_v = 600.0 if power > 0 else 0.0
        w += [u16(dc_w / 600.0, -1), sunssf(-1), u16(dc_v, -1), sunssf(-1), i16(dc_w, s.w), sunssf(s.w)]
    else:
        w += [NI_UINT16, sunssf(-1), NI_UINT16, sunssf(-1), NI_INT16, sunssf(s.w)]
    w += [i16(_g(v, "temperature_c", 25.0), -1), NI_INT16, NI_INT16, NI_INT16, sunssf(-1)]
    w += [u16(_g(v, "operating_state", 4.0)), 0]
    w += u32(_g(v, "alarm_flags", 0.0)) + [0] * 10
    w += [0xFFFF, 0]
    return w


def battery_802(
    ident: Identity, v: Mapping[str, float], s: Scales, capacity_wh: float, rated_w: float, ctl: BatteryControls
) -> list[int]:
    """Models 802 + 124 + 203 (AC meter) image from 40000 (docs/registers/sunspec-battery-802.md)."""
    soc = _g(v, "soc_pct", 50.0)
    soh = _g(v, "soh_pct", 100.0)
    power = _g(v, "active_power_w", 0.0)
    volts = _g(v, "voltage_v", 700.0)
    amps = power / volts if volts else 0.0
    cap_sf = sf_for(capacity_wh, 0)
    ah = capacity_wh / 700.0
    ah_sf = sf_for(ah, 0)
    a_sf = sf_for(rated_w / BATTERY_MIN_V, -1)  # DC current at rated power and the lowest voltage
    if power < -1.0:
        cha_st = 4
    elif power > 1.0:
        cha_st = 3
    else:
        cha_st = 5 if soc >= 94.9 else (2 if soc <= 10.1 else 6)
    w: list[int] = [*common_model(ident), 802, 62]
    w += [u16(ah, ah_sf), u16(capacity_wh * soh / 100.0, cap_sf), u16(rated_w, s.w), u16(rated_w, s.w), NI_UINT16]
    w += [u16(95.0, -1), u16(10.0, -1), NI_UINT16, NI_UINT16, u16(soc, -1), u16(100.0 - soc, -1), u16(soh, -1)]
    w += u32(_g(v, "cycle_count", 0.0))
    w += [cha_st, 0 if ctl.stor_ctl_mod else 1, int(_g(v, "heartbeat", 0.0)) & 0xFFFF, NI_UINT16, 0, 4]
    w += [1 if ctl.set_op == SET_OP_DISCONNECT else 3, 0, 0, 0]
    w += u32(_g(v, "alarm_flags", 0.0)) + [0] * 6
    w += [u16(volts, -1), u16(800.0, -1), u16(BATTERY_MIN_V, -1)] + [NI_UINT16] * 7
    w += [i16(amps, a_sf), u16(rated_w / BATTERY_MIN_V, a_sf), u16(rated_w / BATTERY_MIN_V, a_sf), i16(power, s.w)]
    w += [NI_UINT16, NI_INT16, ctl.set_op, 0]
    w += [sunssf(ah_sf), sunssf(cap_sf), sunssf(s.w), 0, sunssf(-1), sunssf(-1), sunssf(-1), sunssf(-1)]
    w += [sunssf(-3), sunssf(a_sf), sunssf(a_sf), sunssf(s.w)]
    # model 124 at 40134: WChaMax, gradients, StorCtl_Mod … (storage_controls holds the rules)
    w += [124, 24, u16(rated_w, s.w), 100, 100, ctl.stor_ctl_mod, NI_UINT16, u16(10.0, -1), u16(soc, -1)]
    w += [NI_UINT16, u16(volts, -1), cha_st, ctl.out_w_rte_raw & 0xFFFF, ctl.in_w_rte_raw & 0xFFFF]
    w += [0, ctl.rvrt_tms & 0xFFFF, 0, 1]
    w += [sunssf(s.w), 0, NI_SF, sunssf(-1), sunssf(-1), NI_SF, sunssf(-1), sunssf(-1)]
    # model 203 at 40160: the battery's AC meter; import = charge, export = discharge
    ac = {
        "active_power_w": -power,
        "energy_import_wh": _g(v, "energy_charged_wh", 0.0),
        "energy_export_wh": _g(v, "energy_discharged_wh", 0.0),
        "power_factor": 1.0,
        **{f"current_l{i}_a": abs(power) / 3.0 / NOMINAL_PHASE_V for i in (1, 2, 3)},
    }
    w += model_203(ac, s)
    w += [0xFFFF, 0]
    return w


def hydro_iko(v: Mapping[str, float], command: int, rated_w: float) -> list[int]:
    """IKO vendor map from address 0 (docs/registers/va-hydro-iko.md)."""
    w = [u16(_g(v, "operating_state", 0.0)), command & 0xFFFF]
    w += [u16(_g(v, "river_flow_m3_s", 0.0), -2), u16(_g(v, "flow_m3_s", 0.0), -2), u16(_g(v, "head_m", 0.0), -3)]
    w += [i16(_g(v, "water_level_m", 0.0), -3)]
    w += u32(_g(v, "active_power_w", 0.0)) + u64(_g(v, "energy_produced_wh", 0.0))
    w += [u16(_g(v, "efficiency", 0.0), -3), u16(_g(v, "alarm_flags", 0.0)), i16(_g(v, "temperature_c", 20.0), -1)]
    w += [u16(rated_w / 1000.0)]
    return w


def swap_bytes(words: list[int]) -> list[int]:
    """Every register's two bytes exchanged (the ``byte_swap`` fault)."""
    return [((x & 0xFF) << 8) | (x >> 8) for x in words]
