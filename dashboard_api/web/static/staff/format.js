// @ts-check
// Numbers as each language writes them (the same rules as the reports, docs/reports.md): French
// with a narrow no-break space between thousands and before %, a decimal comma and the true
// minus sign; English with commas and points. A value that does not exist is "n. d." / "n/a",
// never 0. Pure functions: tested with `node --test` (tests/staff_web/).

/** @typedef {"fr" | "en"} Lang */

export const NNBSP = "\u202f";
export const MINUS = "\u2212";

/**
 * @param {Lang} lang
 * @returns {string}
 */
export function na(lang) {
  return lang === "fr" ? "n. d." : "n/a";
}

/**
 * A number with `digits` decimals; `signed` writes + before a positive value.
 * @param {number} v
 * @param {Lang} lang
 * @param {number} [digits]
 * @param {boolean} [signed]
 * @returns {string}
 */
export function number(v, lang, digits = 1, signed = false) {
  const abs = Math.abs(v).toFixed(digits);
  const [whole, frac] = abs.split(".");
  const sep = lang === "fr" ? NNBSP : ",";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  const body = frac !== undefined ? grouped + (lang === "fr" ? "," : ".") + frac : grouped;
  const zero = Number(abs) === 0;
  const sign = zero ? (signed ? "±" : "") : v < 0 ? MINUS : signed ? "+" : "";
  return sign + body;
}

/**
 * @param {number | null | undefined} v a share in [0, 1]
 * @param {Lang} lang
 * @param {number} [digits]
 * @returns {string}
 */
export function ratio(v, lang, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(v)) return na(lang);
  return number(100 * v, lang, digits) + (lang === "fr" ? NNBSP + "%" : "%");
}

/**
 * A change of a share in percentage points.
 * @param {number | null | undefined} delta
 * @param {Lang} lang
 * @returns {string}
 */
export function points(delta, lang) {
  if (delta === null || delta === undefined || !Number.isFinite(delta)) return na(lang);
  return number(100 * delta, lang, 1, true) + " points";
}

/**
 * An energy [Wh] with the unit that keeps 3–4 significant digits.
 * @param {number | null | undefined} wh
 * @param {Lang} lang
 * @param {boolean} [signed]
 * @returns {string}
 */
export function energy(wh, lang, signed = false) {
  if (wh === null || wh === undefined || !Number.isFinite(wh)) return na(lang);
  const units = /** @type {[string, number][]} */ ([["GWh", 1e9], ["MWh", 1e6], ["kWh", 1e3], ["Wh", 1]]);
  const [unit, scale] = units.find(([, k]) => Math.abs(wh) >= k) || ["Wh", 1];
  const v = wh / scale;
  const digits = Math.abs(v) >= 100 || v === 0 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return number(v, lang, digits, signed) + (lang === "fr" ? NNBSP : " ") + unit;
}

/**
 * @param {number | null | undefined} kg
 * @param {Lang} lang
 * @param {boolean} [signed]
 * @returns {string}
 */
export function co2(kg, lang, signed = false) {
  if (kg === null || kg === undefined || !Number.isFinite(kg)) return na(lang);
  const space = lang === "fr" ? NNBSP : " ";
  if (Math.abs(kg) >= 1000) return number(kg / 1000, lang, Math.abs(kg) >= 10000 ? 1 : 2, signed) + space + "t CO₂";
  return number(kg, lang, 0, signed) + space + "kg CO₂";
}

/**
 * @param {number | null | undefined} w
 * @param {Lang} lang
 * @returns {string}
 */
export function power(w, lang) {
  if (w === null || w === undefined || !Number.isFinite(w)) return na(lang);
  return number(w / 1000, lang, 1) + (lang === "fr" ? NNBSP : " ") + "kW";
}

/**
 * A file size in bytes, for download lists.
 * @param {number} bytes
 * @param {Lang} lang
 * @returns {string}
 */
export function size(bytes, lang) {
  const space = lang === "fr" ? NNBSP : " ";
  if (bytes >= 1e6) return number(bytes / 1e6, lang, 1) + space + (lang === "fr" ? "Mo" : "MB");
  return number(Math.max(1, Math.round(bytes / 1e3)), lang, 0) + space + (lang === "fr" ? "ko" : "kB");
}
