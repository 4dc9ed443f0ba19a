// @ts-check
// The road to 2050 as plotly traces and sentences, from GET /api/v1/trajectory. Pure.
import { points, ratio } from "./format.js";
import { staffLabel as t } from "../js/labels.js";

/** @typedef {import("./format.js").Lang} Lang */
/**
 * @typedef {{label: string, self_sufficiency: number | null, generation_wh: number | null,
 *   avoided_co2_kg: number | null, coverage: number, target: number | null}} Point
 * @typedef {{scope: string, scope_name: string, months: Point[], years: Point[],
 *   path: {year: number, self_sufficiency: number}[], targets: {year: number, self_sufficiency: number}[],
 *   measured_pace_per_year: number | null, required_pace_per_year: number | null, latest_self_sufficiency?: number | null,
 *   next_target: {year: number, self_sufficiency: number} | null}} Trajectory
 */

/**
 * A fractional year (2026.5) as an ISO date for plotly's date axis.
 * @param {number} year
 * @returns {string}
 */
export function yearDate(year) {
  const y = Math.floor(year);
  const start = Date.UTC(y, 0, 1);
  const end = Date.UTC(y + 1, 0, 1);
  return new Date(start + (year - y) * (end - start)).toISOString().slice(0, 10);
}

/**
 * Monthly bars, yearly points and the target path (shares as %); missing months are gaps.
 * @param {Trajectory} data
 * @param {Lang} lang
 * @returns {object[]}
 */
export function traces(data, lang) {
  const pct = (/** @type {number | null} */ v) => (v === null ? null : 100 * v);
  /** @type {object[]} */
  const out = [
    {
      type: "bar",
      name: t(lang, "trajectory.monthly"),
      x: data.months.map((m) => `${m.label}-15`),
      y: data.months.map((m) => pct(m.self_sufficiency)),
      marker: { color: "#009E73" },
      hovertemplate: "%{y:.1f} %<extra></extra>",
    },
    {
      type: "scatter",
      mode: "markers",
      name: t(lang, "trajectory.yearly"),
      x: data.years.map((y) => `${y.label}-07-01`),
      y: data.years.map((y) => pct(y.self_sufficiency)),
      marker: { color: "#0072B2", size: 11, symbol: "diamond" },
    },
  ];
  if (data.path.length) {
    out.push({
      type: "scatter",
      mode: "lines+markers",
      name: t(lang, "trajectory.target"),
      x: data.path.map((p) => yearDate(p.year)),
      y: data.path.map((p) => 100 * p.self_sufficiency),
      line: { color: "#D55E00", dash: "dash" },
    });
  }
  return out;
}

/**
 * @param {Trajectory} data
 * @param {Lang} lang
 * @returns {string}
 */
export function paceLine(data, lang) {
  if (!data.targets.length) return t(lang, "trajectory.none");
  if (!data.years.some((y) => y.self_sufficiency !== null)) return t(lang, "trajectory.nodata");
  const next = data.next_target || data.targets[data.targets.length - 1];
  const latest = data.latest_self_sufficiency;
  if (latest !== null && latest !== undefined && latest >= next.self_sufficiency) {
    return t(lang, "trajectory.reached", { measured: points(data.measured_pace_per_year, lang), target: ratio(next.self_sufficiency, lang, 0), year: String(next.year), latest: ratio(latest, lang) });
  }
  return t(lang, "trajectory.pace", {
    measured: points(data.measured_pace_per_year, lang),
    target: ratio(next.self_sufficiency, lang, 0),
    year: String(next.year),
    needed: points(data.required_pace_per_year, lang),
  });
}

/**
 * @param {Lang} lang
 * @returns {string} the decimal separator plotly should use, then the thousands one
 */
export function separators(lang) {
  return lang === "fr" ? ",\u202f" : ".,";
}

/**
 * Rows of the yearly table.
 * @param {Trajectory} data
 * @param {Lang} lang
 * @returns {string[][]}
 */
export function yearRows(data, lang) {
  return data.years.map((y) => [y.label, ratio(y.self_sufficiency, lang), ratio(y.target, lang), ratio(y.coverage, lang, 0)]);
}

