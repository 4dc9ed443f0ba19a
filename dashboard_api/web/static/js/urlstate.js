// @ts-check
// The page's state in its URL, so that a link shows what its sender saw: the page (from the path)
// and its query (language, period and date of the energy chart, time range of the history,
// device quantity, window of the alarm history, kiosk mode and theme). A change of state rewrites
// only these parameters: any other one in the address (`refresh=`, one the page does not know)
// is kept as written; an API key never (api.js takes `key=` out of the address bar). Pure.

import { HISTORY_RANGES } from "./alarmhistory.js";

/** @typedef {{kind: "city" | "district" | "site" | "device", id: string | null}} Route */
/**
 * @typedef {object} PageState
 * @property {"fr" | "en" | null} lang
 * @property {"day" | "week" | "month" | "year"} period
 * @property {string | null} date      local date of the energy period (YYYY-MM-DD), null: today
 * @property {string} range            today | yesterday | 7d | this_month | last_month | custom
 * @property {string | null} from      custom range start, local "2026-11-30T14:30"
 * @property {string | null} to
 * @property {string | null} q         device page: the quantity of the history
 * @property {string} alarmRange       window of the alarm history: a key of HISTORY_RANGES (24h | 7d | 30d)
 * @property {boolean} kiosk
 * @property {"light" | "dark"} theme
 */

export const PERIODS = ["day", "week", "month", "year"];
export const RANGES = ["today", "yesterday", "7d", "this_month", "last_month", "custom"];
const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** @returns {PageState} */
export function defaults() {
  return { lang: null, period: "day", date: null, range: "today", from: null, to: null, q: null, alarmRange: "24h", kiosk: false, theme: "light" };
}

/** The page shown by a path: "/", "/districts/x", "/sites/x", "/devices/x"; null when unknown. */
export function parseRoute(/** @type {string} */ path) {
  if (path === "/" || path === "") return /** @type {Route} */ ({ kind: "city", id: null });
  const m = path.match(/^\/(districts|sites|devices)\/([^/]+)\/?$/);
  if (!m) return null;
  const kind = /** @type {Route["kind"]} */ ({ districts: "district", sites: "site", devices: "device" }[m[1]]);
  return { kind, id: decodeURIComponent(m[2]) };
}

/** The path of a page. @param {Route} route */
export function routePath(route) {
  if (route.kind === "city" || !route.id) return "/";
  return "/" + route.kind + "s/" + encodeURIComponent(route.id);
}

/** The API scope of a page (a device page has none). @param {Route} route */
export function scopeOf(route) {
  if (route.kind === "city") return "city";
  return route.kind === "device" ? null : route.kind + ":" + route.id;
}

/** @param {string} search "?period=month&…" @returns {PageState} */
export function parseState(search) {
  const p = new URLSearchParams(search);
  const s = defaults();
  const lang = p.get("lang");
  if (lang === "fr" || lang === "en") s.lang = lang;
  const period = p.get("period") || "";
  if (PERIODS.includes(period)) s.period = /** @type {PageState["period"]} */ (period);
  const date = p.get("date") || "";
  if (DATE.test(date)) s.date = date;
  const range = p.get("range") || "";
  if (RANGES.includes(range)) s.range = range;
  const from = p.get("from") || "", to = p.get("to") || "";
  if (LOCAL.test(from) && LOCAL.test(to)) { s.from = from; s.to = to; } else if (s.range === "custom") s.range = "today";
  s.q = p.get("q") || null;
  if (!refusedAlarmRange(search)) s.alarmRange = p.get("alarm_range") || s.alarmRange;
  s.kiosk = p.get("kiosk") === "1";
  s.theme = p.get("theme") === "dark" ? "dark" : "light";
  return s;
}

/**
 * The alarm history's window asked by the URL when the page cannot show it ("?alarm_range=3w"):
 * the page says so and shows the default window. Null when absent or known.
 * @param {string} search @returns {string | null}
 */
export function refusedAlarmRange(search) {
  const asked = new URLSearchParams(search).get("alarm_range");
  return asked === null || Object.hasOwn(HISTORY_RANGES, asked) ? null : asked;
}

/**
 * The parameters of the URL the page tracks but cannot take as written ("?period=decade"), in the
 * address's order, each with its value: the page says so and shows its default instead (the alarm
 * history's window has its own message: refusedAlarmRange). Empty when every one was taken.
 * @param {string} search @returns {[string, string][]}
 */
export function refusedParams(search) {
  const p = new URLSearchParams(search);
  const custom = LOCAL.test(p.get("from") || "") && LOCAL.test(p.get("to") || "");
  /** @type {Record<string, (v: string) => boolean>} */
  const takes = {
    lang: (v) => v === "fr" || v === "en",
    period: (v) => PERIODS.includes(v),
    date: (v) => DATE.test(v),
    range: (v) => RANGES.includes(v) && (v !== "custom" || custom),
    from: (v) => LOCAL.test(v),
    to: (v) => LOCAL.test(v),
    kiosk: (v) => v === "1" || v === "0",
    theme: (v) => v === "light" || v === "dark",
  };
  /** @type {[string, string][]} */
  const refused = [];
  p.forEach((value, name) => { if (Object.hasOwn(takes, name) && !takes[name](value)) refused.push([name, value]); });
  return refused;
}

/** The query string of a state, defaults left out ("" when all are defaults). @param {PageState} s */
export function stateQuery(s) {
  const d = defaults();
  const p = new URLSearchParams();
  if (s.lang) p.set("lang", s.lang);
  if (s.period !== d.period) p.set("period", s.period);
  if (s.date) p.set("date", s.date);
  if (s.range !== d.range) p.set("range", s.range);
  if (s.range === "custom" && s.from && s.to) { p.set("from", s.from); p.set("to", s.to); }
  if (s.q) p.set("q", s.q);
  if (s.alarmRange !== d.alarmRange) p.set("alarm_range", s.alarmRange);
  if (s.kiosk) p.set("kiosk", "1");
  if (s.theme === "dark") p.set("theme", "dark");
  const q = p.toString();
  return q ? "?" + q : "";
}

/** The parameters of the page's state: parseState reads them, stateQuery writes them. */
export const TRACKED = ["lang", "period", "date", "range", "from", "to", "q", "alarm_range", "kiosk", "theme"];
/** API keys: never written into an address or a link (`key=` is read once, then stored: api.js). */
export const SECRETS = ["key", "api_key"];
/** The screen's settings outside the state that a link to another page carries: the wall's
 * refresh period (main.js), beside the state's language, kiosk mode and theme. */
export const CARRIED = ["refresh"];

/**
 * The query of the page's address after a change of its state: the parameters it tracks rewritten
 * from `s` (in stateQuery's order, where the first of them stood, else at the end, defaults left
 * out), every other parameter kept as written and in its place, an API key dropped.
 * @param {PageState} s @param {string} search the address's query now ("?refresh=30&lang=en")
 */
export function pageQuery(s, search) {
  const own = stateQuery(s).slice(1);
  /** @type {string[]} */
  const parts = [];
  let placed = false;
  kept(search).forEach(([name, part]) => {
    if (!TRACKED.includes(name)) parts.push(part);
    else if (!placed) { placed = true; if (own) parts.push(own); }
  });
  if (!placed && own) parts.push(own);
  return parts.length ? "?" + parts.join("&") : "";
}

/** The query without its API keys, every other parameter as written. @param {string} search */
export function withoutSecrets(search) {
  const parts = kept(search).map(([, part]) => part);
  return parts.length ? "?" + parts.join("&") : "";
}

/** The "name=value" pieces of a query as written, with their decoded names; no empty piece, no
 * API key. @param {string} search @returns {[string, string][]} */
function kept(search) {
  /** @type {[string, string][]} */
  const out = [];
  search.replace(/^\?/, "").split("&").forEach((part) => {
    const first = new URLSearchParams(part).keys().next();
    if (!first.done && !SECRETS.includes(first.value)) out.push([first.value, part]);
  });
  return out;
}

/**
 * The link to another page: the language, kiosk mode and theme of the state and the CARRIED
 * parameters of the address; nothing else (the period, ranges and quantity are this page's).
 * @param {Route} route @param {PageState} s @param {string} [search] the address's query now
 */
export function linkTo(route, s, search = "") {
  const keep = defaults();
  keep.lang = s.lang; keep.kiosk = s.kiosk; keep.theme = s.theme;
  const p = new URLSearchParams(stateQuery(keep));
  const now = new URLSearchParams(search);
  CARRIED.forEach((name) => now.getAll(name).forEach((v) => p.append(name, v)));
  const q = p.toString();
  return routePath(route) + (q ? "?" + q : "");
}
