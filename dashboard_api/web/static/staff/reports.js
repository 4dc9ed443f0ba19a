// @ts-check
// The stored monthly reports (GET /api/v1/reports/scheduled), grouped by month and scope. Pure.
import { size } from "./format.js";

/** @typedef {import("./format.js").Lang} Lang */
/**
 * @typedef {{month: string, scope: string, lang: string, fmt: string, name: string, size: number, url: string}} Stored
 * @typedef {{label: string, url: string, name: string}} FileLink
 * @typedef {{scope: string, name: string, files: FileLink[]}} ScopeRow
 * @typedef {{month: string, label: string, scopes: ScopeRow[]}} MonthGroup
 */

const MONTHS = {
  fr: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
  en: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
};

/**
 * "2026-11" → "novembre 2026" / "November 2026".
 * @param {string} month
 * @param {Lang} lang
 * @returns {string}
 */
export function monthLabel(month, lang) {
  const [y, m] = month.split("-").map(Number);
  return `${MONTHS[lang][m - 1]} ${y}`;
}

/**
 * Newest month first; in a month the city first, then the districts by name; in a scope the
 * files in the page's language first.
 * @param {Stored[]} list
 * @param {Record<string, string>} names scope → name
 * @param {Lang} lang
 * @returns {MonthGroup[]}
 */
export function groupByMonth(list, names, lang) {
  /** @type {Map<string, Map<string, Stored[]>>} */
  const months = new Map();
  for (const r of list) {
    if (!months.has(r.month)) months.set(r.month, new Map());
    const scopes = /** @type {Map<string, Stored[]>} */ (months.get(r.month));
    if (!scopes.has(r.scope)) scopes.set(r.scope, []);
    /** @type {Stored[]} */ (scopes.get(r.scope)).push(r);
  }
  const order = (/** @type {string} */ s) => (s === "city" ? "" : names[s] || s);
  return [...months.keys()].sort().reverse().map((month) => ({
    month,
    label: monthLabel(month, lang),
    scopes: [.../** @type {Map<string, Stored[]>} */ (months.get(month)).entries()]
      .sort(([a], [b]) => order(a).localeCompare(order(b), lang))
      .map(([scope, files]) => ({
        scope,
        name: names[scope] || scope,
        files: files
          .slice()
          .sort((a, b) => Number(b.lang === lang) - Number(a.lang === lang) || a.fmt.localeCompare(b.fmt))
          .map((f) => ({ label: `${f.fmt.toUpperCase()} ${f.lang.toUpperCase()} · ${size(f.size, lang)}`, url: f.url, name: f.name })),
      })),
  }));
}
