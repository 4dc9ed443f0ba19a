// @ts-check
// Numbers, powers, energies, ratios, ages and local dates as the page shows them, in French or
// English. Pure: no DOM, no clock. Times are shown in Europe/Paris with the browser's tz database
// (Intl formatting only: the server resolves every local time the page sends).

/** @typedef {"fr" | "en"} Lang */

export const TZ = "Europe/Paris";
/** @type {Record<Lang, string>} */
export const LOCALES = { fr: "fr-FR", en: "en-GB" };
export const DASH = "–";

/** @param {unknown} v @returns {v is number} */
export function isNumber(v) {
  return typeof v === "number" && Number.isFinite(v);
}

/** @param {number} v @param {number} digits @param {Lang} lang */
export function number(v, digits, lang) {
  return new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v);
}

/** A power [W] in W, kW or MW. @param {number | null | undefined} w @param {Lang} lang */
export function power(w, lang) {
  if (!isNumber(w)) return DASH;
  const a = Math.abs(w);
  if (a >= 1e6) return number(w / 1e6, 2, lang) + " MW";
  if (a >= 1e3) return number(w / 1e3, 1, lang) + " kW";
  return number(w, 0, lang) + " W";
}

/** An energy [Wh] in Wh, kWh, MWh or GWh. @param {number | null | undefined} wh @param {Lang} lang */
export function energy(wh, lang) {
  if (!isNumber(wh)) return DASH;
  const a = Math.abs(wh);
  if (a >= 1e9) return number(wh / 1e9, 2, lang) + " GWh";
  if (a >= 1e6) return number(wh / 1e6, 2, lang) + " MWh";
  if (a >= 1e3) return number(wh / 1e3, 1, lang) + " kWh";
  return number(wh, 0, lang) + " Wh";
}

/** A ratio in [0, 1] as a percentage. @param {number | null | undefined} r @param {Lang} lang */
export function percent(r, lang, digits = 1) {
  return isNumber(r) ? number(100 * r, digits, lang) + " %" : DASH;
}

/** A relative change (0.12) as "+12 %", "−5 %". @param {number | null | undefined} r @param {Lang} lang */
export function change(r, lang) {
  if (!isNumber(r)) return DASH;
  const sign = r > 0.0005 ? "+" : r < -0.0005 ? "−" : "±";
  return sign + number(Math.abs(100 * r), 0, lang) + " %";
}

/** A difference of ratios (0.032) in percentage points. @param {number | null | undefined} d @param {Lang} lang */
export function points(d, lang) {
  if (!isNumber(d)) return DASH;
  const sign = d > 0.0005 ? "+" : d < -0.0005 ? "−" : "±";
  return sign + number(Math.abs(100 * d), 1, lang) + (lang === "fr" ? " pts" : " pts");
}

/** How long ago, short. @param {number} ms @param {Lang} lang */
export function age(ms, lang) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return s + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  if (s < 172800) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + (lang === "fr" ? " j" : " d");
}

/** A duration [s] in words: "45 min", "4 h", "2 h 30 min", "3 j" / "3 d". @param {number} seconds @param {Lang} lang */
export function duration(seconds, lang) {
  const min = Math.round(seconds / 60);
  const day = lang === "fr" ? " j" : " d";
  if (min < 60) return min + " min";
  if (min % 1440 === 0) return min / 1440 + day;
  const h = Math.floor(min / 60);
  return h + " h" + (min % 60 ? " " + (min % 60) + " min" : "");
}

const isoFmt = new Intl.DateTimeFormat("sv-SE", {
  timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

/** Paris wall-clock time of an instant: "2026-11-30 14:30:05" (what a plotly date axis takes). @param {number} ms */
export function localIso(ms) {
  return isoFmt.format(new Date(ms)).replace(",", "");
}

/** "30/11 14:30" (FR and EN alike: 24-hour clock). @param {number} ms */
export function shortDateTime(ms) {
  const s = localIso(ms);
  return s.slice(8, 10) + "/" + s.slice(5, 7) + " " + s.slice(11, 16);
}

/** @param {string} localDate "2026-12-01" @returns {Date} that day at noon UTC, for formatting alone */
function calendarDay(localDate) {
  const [y, m, d] = localDate.split("-").map(Number);
  return new Date(Date.UTC(y, (m || 1) - 1, d || 1, 12));
}

/**
 * A local calendar date (from the server) in words.
 * @param {string} localDate "2026-12-01"
 * @param {Lang} lang
 * @param {"short" | "long" | "weekday"} style short "1 déc.", long "1 décembre 2026", weekday "lun. 1"
 */
export function dayLabel(localDate, lang, style = "short") {
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = style === "long" ? { weekday: "long", day: "numeric", month: "long", year: "numeric" }
    : style === "weekday" ? { weekday: "short", day: "numeric" } : { day: "numeric", month: "short" };
  return new Intl.DateTimeFormat(LOCALES[lang], { ...opts, timeZone: "UTC" }).format(calendarDay(localDate));
}

/** "2026-11" → "nov." (short) or "novembre 2026" (long). @param {string} localMonth @param {Lang} lang */
export function monthLabel(localMonth, lang, long = false) {
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = long ? { month: "long", year: "numeric" } : { month: "short" };
  return new Intl.DateTimeFormat(LOCALES[lang], { ...opts, timeZone: "UTC" }).format(calendarDay(localMonth + "-01"));
}

/** The label of one bar of a period (server label: "2026-11-30T14:00", "2026-11-30", "2026-11"). */
export function barLabel(/** @type {string} */ label, /** @type {string} */ period, /** @type {Lang} */ lang) {
  if (label.length > 10) return label.slice(11, 16);
  if (label.length === 7) return monthLabel(label, lang);
  return period === "week" ? dayLabel(label, lang, "weekday") : dayLabel(label, lang);
}

/** The title of a period named by its first local day. */
export function periodTitle(/** @type {string} */ kind, /** @type {string} */ firstDay, /** @type {Lang} */ lang) {
  if (kind === "year") return firstDay.slice(0, 4);
  if (kind === "month") return monthLabel(firstDay.slice(0, 7), lang, true);
  if (kind === "week") {
    const day = new Intl.DateTimeFormat(LOCALES[lang], { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
      .format(calendarDay(firstDay));
    return (lang === "fr" ? "semaine du " : "week of ") + day;
  }
  return dayLabel(firstDay, lang, "long");
}

/** Month names of a language, for plotly's locale. @param {Lang} lang */
export function monthNames(lang, style = /** @type {"long" | "short"} */ ("long")) {
  const f = new Intl.DateTimeFormat(LOCALES[lang], { month: style, timeZone: "UTC" });
  return Array.from({ length: 12 }, (_, m) => f.format(new Date(Date.UTC(2026, m, 15))));
}

/** Day names (Sunday first, as d3 wants them). @param {Lang} lang */
export function dayNames(lang, style = /** @type {"long" | "short"} */ ("long")) {
  const f = new Intl.DateTimeFormat(LOCALES[lang], { weekday: style, timeZone: "UTC" });
  return Array.from({ length: 7 }, (_, d) => f.format(new Date(Date.UTC(2026, 10, 1 + d)))); // 1 Nov 2026: a Sunday
}

/** plotly's `separators` (decimal, then thousands). @param {Lang} lang */
export function separators(lang) {
  return lang === "fr" ? ", " : ".,";
}
