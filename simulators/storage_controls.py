"""The battery's writable controls as SunSpec defines them (model 802 ``SetOp``, model 124). Pure.

Model 124 (SunSpec Information Model, ``model_124.json``: "Basic Storage Controls"):

- ``StorCtl_Mod`` is a bit field: bit 0 (CHARGE) makes ``InWRte`` limit the charge rate, bit 1
  (DISCHARGE) makes ``OutWRte`` limit the discharge rate; 0 = no limit, 3 = both. Other bits are
  refused (exception 03).
- ``InWRte`` / ``OutWRte`` are signed percentages of the maximum charge / discharge power
  (−100.0 … 100.0 %, ``InOutWRte_SF`` = −1). A negative limit crosses zero, as storage vendors
  implement it: ``OutWRte = −40 %`` allows at most −40 % discharge, i.e. forces a charge of at
  least 40 %; ``InWRte = −40 %`` forces a discharge of at least 40 %. So the battery's power
  (+ discharge) is kept within ``[−InWRte × WChaMax, OutWRte × WDisChaMax]`` for the bits set:
  ``StorCtl_Mod = 3, InWRte = 40, OutWRte = −40`` holds a 40 % charge.
- ``InOutWRte_RvrtTms`` (s): the time after which the rates revert to their defaults (no limit,
  ``StorCtl_Mod`` 0); 0 = no revert. The clock starts at the last write of a mode, a rate or the
  timeout itself, on the device's own clock. A controller that stops talking cannot leave the
  battery stuck at its last setpoint: that is the safety a real controller relies on.

Model 802 ``SetOp``: 1 connect, 2 disconnect (power forced to 0).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ville_autonome.simulators.errors import SimulatorError

MODE_CHARGE = 1  # bit 0
MODE_DISCHARGE = 2  # bit 1
RATE_LIMIT_RAW = 1000  # 100.0 % at InOutWRte_SF = −1
SET_OP_CONNECT, SET_OP_DISCONNECT = 1, 2


class ControlRefusedError(SimulatorError, ValueError):
    """A written value outside what the register accepts (answered with exception 03)."""


@dataclass(frozen=True, slots=True)
class BatteryControls:
    """The writable registers of the battery, as last written (rates raw: % × 10)."""

    set_op: int = SET_OP_CONNECT
    stor_ctl_mod: int = 0
    out_w_rte_raw: int = RATE_LIMIT_RAW
    in_w_rte_raw: int = RATE_LIMIT_RAW
    rvrt_tms: int = 0
    written_ms: int | None = None  # device clock at the last write of a mode, rate or timeout

    def reverted(self, now_ms: int) -> BatteryControls:
        """The controls once the revert timeout has passed at ``now_ms`` (self if it has not)."""
        if self.rvrt_tms <= 0 or self.written_ms is None or now_ms - self.written_ms < self.rvrt_tms * 1000:
            return self
        return replace(self, stor_ctl_mod=0, out_w_rte_raw=RATE_LIMIT_RAW, in_w_rte_raw=RATE_LIMIT_RAW, written_ms=None)


def signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def with_set_op(ctl: BatteryControls, word: int) -> BatteryControls:
    if word not in (SET_OP_CONNECT, SET_OP_DISCONNECT):
        raise ControlRefusedError(f"SetOp {word} is not 1 (connect) or 2 (disconnect)")
    return replace(ctl, set_op=word)


def with_mode(ctl: BatteryControls, word: int, now_ms: int) -> BatteryControls:
    if word & ~(MODE_CHARGE | MODE_DISCHARGE):
        raise ControlRefusedError(f"StorCtl_Mod {word} sets bits other than 0 (charge) and 1 (discharge)")
    return replace(ctl, stor_ctl_mod=word, written_ms=now_ms)


def with_rate(ctl: BatteryControls, word: int, now_ms: int, *, charge: bool) -> BatteryControls:
    raw = signed(word)
    if not -RATE_LIMIT_RAW <= raw <= RATE_LIMIT_RAW:
        raise ControlRefusedError(f"rate {raw / 10:g} % is outside −100…100 %")
    if charge:
        return replace(ctl, in_w_rte_raw=raw, written_ms=now_ms)
    return replace(ctl, out_w_rte_raw=raw, written_ms=now_ms)


def with_revert(ctl: BatteryControls, word: int, now_ms: int) -> BatteryControls:
    if word == 0xFFFF:
        raise ControlRefusedError("0xFFFF is the 'not implemented' marker, not a timeout")
    return replace(ctl, rvrt_tms=word, written_ms=now_ms)


def power_window_w(ctl: BatteryControls, max_charge_w: float, max_discharge_w: float) -> tuple[float, float]:
    """(lowest, highest) battery power [W, + discharge] the controls allow."""
    low = -max_charge_w
    high = max_discharge_w
    if ctl.stor_ctl_mod & MODE_CHARGE:
        low = -ctl.in_w_rte_raw / RATE_LIMIT_RAW * max_charge_w
    if ctl.stor_ctl_mod & MODE_DISCHARGE:
        high = ctl.out_w_rte_raw / RATE_LIMIT_RAW * max_discharge_w
    return low, high


def commanded_power_w(ctl: BatteryControls, dispatch_w: float, rated_w: float) -> float | None:
    """The power [W, + discharge] the controls make of the automatic dispatch's ``dispatch_w``;
    ``None`` when nothing is commanded (the dispatch runs free). When the window is empty (a forced
    charge and a forced discharge at once) the forced charge wins."""
    if ctl.set_op == SET_OP_DISCONNECT:
        return 0.0
    if ctl.stor_ctl_mod == 0:
        return None
    low, high = power_window_w(ctl, rated_w, rated_w)
    return max(low, min(dispatch_w, high)) if low <= high else high
