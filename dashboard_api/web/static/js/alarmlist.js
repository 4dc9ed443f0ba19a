// @ts-check
// The alarms as the page shows them (pure): which page an alarm links to, which alarms belong to
// the page's scope, their order, and the words of the banner and the bell. The alarms themselves
// are the server's (GET /api/v1/alarms and the stream's `alarms` event, docs/alerts.md).

/** @typedef {import("./urlstate.js").Route} Route */
/**
 * @typedef {object} Alarm an alarm as in GET /api/v1/alarms (the fields the page uses)
 * @property {string} id
 * @property {string} rule
 * @property {string} subject
 * @property {string} scope      device, gateway, site, district or city
 * @property {string} severity   critical, warning or info
 * @property {string} state      pending, firing or resolved
 * @property {Record<string, string>} labels
 * @property {string} summary
 * @property {number | null} fired_ms
 * @property {number} pending_ms
 * @property {string | null} acked_by
 * @property {number | null} acked_ms
 * @property {string} [ack_comment]
 * @property {number | null} [resolved_ms]
 * @property {string | null} silenced_by
 */
/** @typedef {{firing: Record<string, number>, pending: Record<string, number>, unacknowledged: number}} Counts */

export const SEVERITIES = ["critical", "warning", "info"];
/** @type {Record<string, string>} */
export const ICONS = { critical: "‼", warning: "⚠", info: "ℹ" }; // glyphs of DejaVu Sans, the page's font
/** @type {Record<string, number>} */
const ROLE_RANK = { viewer: 0, operator: 1, staff: 2, admin: 3 };

/** May this role acknowledge and silence (operator or above)? @param {string | null} role */
export function canOperate(role) {
  return role !== null && role in ROLE_RANK && ROLE_RANK[role] >= ROLE_RANK.operator;
}

/** May this role read the notifications' dead letters (admin)? @param {string | null} role */
export function canAdmin(role) {
  return role === "admin";
}

/** The page an alarm links to: its device, else its site, its district, the city. A gateway's
 * alarm goes to its district (its devices are listed beside it: gatewayDevices). @param {Alarm} a @returns {Route} */
export function alarmRoute(a) {
  const l = a.labels || {};
  if (a.scope === "device") return { kind: "device", id: l.device || a.subject };
  if (a.scope === "site") return { kind: "site", id: l.site || a.subject };
  if (a.scope === "district") return { kind: "district", id: l.district || a.subject };
  if (l.device) return { kind: "device", id: l.device };
  if (l.site) return { kind: "site", id: l.site };
  if (l.district) return { kind: "district", id: l.district };
  return { kind: "city", id: null };
}

/**
 * The devices a gateway reads (those of the sites it serves), from the topology (GET /topology).
 * @param {{districts: {sites: {gateway: string, devices: {id: string, name?: string}[]}[]}[]}} topology
 * @param {string} gateway @returns {{id: string, name: string}[]}
 */
export function gatewayDevices(topology, gateway) {
  /** @type {{id: string, name: string}[]} */
  const out = [];
  topology.districts.forEach((d) => d.sites.filter((s) => s.gateway === gateway)
    .forEach((s) => s.devices.forEach((dev) => out.push({ id: dev.id, name: dev.name || dev.id }))));
  return out;
}

/** Does an alarm concern the page's scope? The city page holds every alarm; a gateway's alarm
 * belongs to the pages its gateway serves (`gateways`: the gateways of the page's sites).
 * @param {Alarm} a @param {Route} route @param {Set<string>} [gateways] */
export function inScope(a, route, gateways) {
  if (route.kind === "city") return true;
  const l = a.labels || {};
  if (a.subject === route.id || l[route.kind] === route.id) return true;
  return a.scope === "gateway" && Boolean(gateways && gateways.has(l.gateway || a.subject));
}

/** Firing before pending, then by severity, then newest first. @param {Alarm[]} list */
export function ordered(list) {
  const rank = (/** @type {Alarm} */ a) => [a.state === "firing" ? 0 : a.state === "pending" ? 1 : 2, SEVERITIES.indexOf(a.severity)];
  return [...list].sort((a, b) => {
    const [sa, va] = rank(a);
    const [sb, vb] = rank(b);
    return sa - sb || va - vb || (b.fired_ms || b.pending_ms) - (a.fired_ms || a.pending_ms);
  });
}

/** The most severe level with a firing alarm, or null. @param {Counts} counts */
export function worst(counts) {
  return SEVERITIES.find((s) => (counts.firing[s] || 0) > 0) || null;
}

/** The total of firing alarms. @param {Counts} counts */
export function firingTotal(counts) {
  return SEVERITIES.reduce((n, s) => n + (counts.firing[s] || 0), 0);
}
