// @ts-check
// What the alarm panel shows beside the active alarms (pure): the time window of its history, a
// silence's duration typed by an operator, which events and places belong to the page's scope, and
// the admins' summary of undelivered notifications. The data are the server's (GET /api/v1/alarms
// with state=resolved and a range, GET /api/v1/notifications?status=dead, docs/alerts.md).

/** @typedef {import("./urlstate.js").Route} Route */
/** @typedef {{ts_ms: number, kind: string, key: string, alarm_id: string, by: string, detail: string}} AlarmEvent */
/** @typedef {{channel: string, created_ms: number, last_error: string, status: string}} Delivery */

const HOUR_S = 3600;
/** The history's windows: 24 hours, 7 days, 30 days back from now [s]. */
/** @type {Record<string, number>} */
export const HISTORY_RANGES = { "24h": 24 * HOUR_S, "7d": 7 * 24 * HOUR_S, "30d": 30 * 24 * HOUR_S };
/** The presets of a silence [h] ("custom" is typed: parseDuration). */
export const SILENCE_HOURS = [1, 4, 24];
/** The API refuses a silence longer than 90 days. */
export const MAX_SILENCE_S = 90 * 24 * HOUR_S;

/**
 * The query of the history for a window ending now: epoch ms, as the API takes them.
 * @param {string} range a key of HISTORY_RANGES (unknown: 24 h) @param {number} nowMs
 * @returns {{start: number, end: number}}
 */
export function historyWindow(range, nowMs) {
  const seconds = HISTORY_RANGES[range] || HISTORY_RANGES["24h"];
  return { start: nowMs - seconds * 1000, end: nowMs };
}

const UNITS_S = { j: 86400, d: 86400, h: HOUR_S, min: 60, m: 60 };
const PART = /(\d+(?:[.,]\d+)?)\s*(j|d|h|min|m)?/gy;

/**
 * A duration typed by an operator, in seconds: "2h30", "45 min", "1,5 h", "3j" / "3d", or a bare
 * number of hours ("6"). Null when it cannot be read, is zero, or exceeds 90 days.
 * @param {string} text @returns {number | null}
 */
export function parseDuration(text) {
  const s = text.trim().toLowerCase().replace(/\s+/g, "");
  if (!s) return null;
  let total = 0;
  let pos = 0;
  let lastUnit = "";
  PART.lastIndex = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m || m.index !== pos) return null;
    const value = Number(m[1].replace(",", "."));
    // a bare number after hours is minutes ("1h30"), alone it is hours ("6")
    const unit = m[2] || (lastUnit === "h" ? "min" : lastUnit ? "" : "h");
    if (!unit) return null;
    total += value * UNITS_S[/** @type {keyof typeof UNITS_S} */ (unit)];
    lastUnit = unit;
    pos = PART.lastIndex;
  }
  const seconds = Math.round(total);
  return seconds > 0 && seconds <= MAX_SILENCE_S ? seconds : null;
}

/** The subject of an alarm's key ("device-silent:iko-turbine" → "iko-turbine"). @param {string} key */
export function subjectOfKey(key) {
  const i = key.indexOf(":");
  return i < 0 ? key : key.slice(i + 1);
}

/**
 * Does an event concern the page? The city page holds every event; another page those of an
 * alarm whose subject is one of its places (itself, its sites, devices and gateways). A silence's
 * events (key "silence:<id>") are the city page's.
 * @param {AlarmEvent} e @param {Route} route @param {Set<string>} places
 */
export function eventInScope(e, route, places) {
  if (route.kind === "city") return true;
  if (e.key.startsWith("silence:")) return false;
  return places.has(subjectOfKey(e.key));
}

/**
 * The undelivered notifications (dead letters) since `sinceMs`, newest first as the API lists them.
 * `atLeast`: the API's page was full, there may be more.
 * @param {Delivery[]} dead @param {number} sinceMs @param {number} limit the `limit` asked of the API
 * @returns {{count: number, atLeast: boolean, latest: Delivery | null}}
 */
export function undelivered(dead, sinceMs, limit) {
  const recent = dead.filter((d) => d.status === "dead" && d.created_ms >= sinceMs);
  return { count: recent.length, atLeast: dead.length >= limit && recent.length === dead.length, latest: recent[0] || null };
}

/** What a silence mutes, in words: "rule on subject", "rule", "subject". @param {{rule: string | null, subject: string | null}} s */
export function silenceTarget(s) {
  return [s.rule, s.subject].filter(Boolean).join(" · ");
}
