// @ts-check
// How each metric the API returns is written, and what a change of it means. Pure.
import { co2, energy, na, points, power, ratio } from "./format.js";

/** @typedef {import("./format.js").Lang} Lang */

/** Metrics that are shares in [0, 1]: a change is in points. */
export const RATIOS = new Set([
  "self_sufficiency",
  "self_consumption",
  "load_cover_factor",
  "supply_cover_factor",
  "time_autonomy",
  "grid_interaction_index",
]);

/**
 * A metric's value as text.
 * @param {string} metric
 * @param {number | null | undefined} v
 * @param {Lang} lang
 * @param {boolean} [signed] a change rather than a value
 * @returns {string}
 */
export function show(metric, v, lang, signed = false) {
  if (v === null || v === undefined) return na(lang);
  if (RATIOS.has(metric)) return signed ? points(v, lang) : ratio(v, lang);
  if (metric === "peak_import_w") return power(v, lang);
  if (metric === "avoided_co2_kg") return co2(v, lang, signed);
  return energy(v, lang, signed);
}

/** Metrics whose change is neither good nor bad news in itself. */
const NEUTRAL = new Set(["export_wh", "charge_wh", "discharge_wh"]);

/**
 * Whether a change is good news for the city (more local energy, less import): "up" | "down" | "same".
 * @param {string} metric
 * @param {number | null | undefined} change
 * @returns {"better" | "worse" | "same"}
 */
export function direction(metric, change) {
  if (change === null || change === undefined || Math.abs(change) < 1e-9) return "same";
  if (NEUTRAL.has(metric)) return "same";
  const lowerIsBetter = new Set(["import_wh", "peak_import_w", "grid_interaction_index", "load_wh"]);
  const better = lowerIsBetter.has(metric) ? change < 0 : change > 0;
  return better ? "better" : "worse";
}
