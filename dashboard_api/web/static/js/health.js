// @ts-check
// A device's state as the health table shows it: the gateway's report and the readings' age. Pure.

export const SILENT_AFTER_MS = 120000; // a device with no good reading for this long is silent
export const STATE_ICON = { online: "✔", offline: "✖", silent: "⚠", unknown: "?" };
const ORDER = { offline: 0, silent: 1, unknown: 2, online: 3 };

/**
 * @typedef {object} DeviceInfo
 * @property {string} id
 * @property {string} status          the gateway's report: online | offline | unknown
 * @property {number | null} [last_seen_ms]
 * @property {number | null} [last_reading_ms]  newest good reading seen by the page
 */

/**
 * offline (the gateway says so), silent (no good reading for SILENT_AFTER_MS), unknown (nothing
 * known yet) or online; `seen`: the last good reading, else the gateway's last contact.
 * @param {DeviceInfo} dev @param {number} nowMs
 * @returns {{state: "online" | "offline" | "silent" | "unknown", seen: number}}
 */
export function deviceState(dev, nowMs) {
  const seen = dev.last_reading_ms || dev.last_seen_ms || 0;
  if (dev.status === "offline") return { state: "offline", seen };
  if (!seen) return { state: dev.status === "online" ? "online" : "unknown", seen };
  if (nowMs - seen > SILENT_AFTER_MS) return { state: "silent", seen };
  return { state: "online", seen };
}

/** Sort rows: offline first, then silent, unknown, online; by id within a state. */
export function byUrgency(/** @type {{state: string, id: string}} */ a, /** @type {{state: string, id: string}} */ b) {
  return (ORDER[/** @type {keyof ORDER} */ (a.state)] - ORDER[/** @type {keyof ORDER} */ (b.state)]) || a.id.localeCompare(b.id);
}
