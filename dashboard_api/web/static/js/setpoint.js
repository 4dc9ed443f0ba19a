// @ts-check
// The battery's "setpoint" helper of the control panel (docs/commands.md): a power in kW (charge −,
// discharge +) and a revert time become the SunSpec model 124 writes, which the operator sees and
// may edit before sending. Pure.

/**
 * The writes that hold `kw` on a battery rated `ratedW` [W]: a window of rates in % of the
 * rating (InWRte/OutWRte, the opposite one negative to force the direction), the revert time,
 * then the mode (both limits), in the order the device applies them (docs/registers/sunspec-battery-802.md).
 * @param {number} kw   − charge, + discharge
 * @param {number} ratedW
 * @param {number} revertS 0 … 65534 (0: never revert)
 * @returns {{point: string, value: number}[]}
 */
export function batterySetpoint(kw, ratedW, revertS) {
  if (!(ratedW > 0)) throw new RangeError("the battery has no rated power");
  const pct = Math.round(Math.min(100, Math.max(-100, (Math.abs(kw) * 1000 / ratedW) * 100)) * 10) / 10;
  const charge = kw < 0;
  const revert = Math.max(0, Math.min(65534, Math.round(revertS)));
  if (pct === 0) {
    return [{ point: "InWRte", value: 0 }, { point: "OutWRte", value: 0 }, { point: "InOutWRte_RvrtTms", value: revert },
      { point: "StorCtl_Mod", value: 3 }];
  }
  return [
    { point: "InWRte", value: charge ? pct : -pct },
    { point: "OutWRte", value: charge ? -pct : pct },
    { point: "InOutWRte_RvrtTms", value: revert },
    { point: "StorCtl_Mod", value: 3 },
  ];
}
