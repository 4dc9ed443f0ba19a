// @ts-check
// The alarms on every page: the bell in the header with the count of firing alarms by severity
// (a link to the alarm list), and the banner under the header while any alarm fires, naming the
// most severe one and linking to its page. Both are the server's counts (the stream's `alarms`
// event, docs/alerts.md): the page counts nothing.

import { el, byId, link } from "./dom.js";
import { ICONS, SEVERITIES, alarmRoute, firingTotal, ordered, worst } from "./alarmlist.js";

/** @param {import("./context.js").Context} ctx */
export function renderAlarmBar(ctx) {
  const data = ctx.alarms;
  const bell = byId("alarm-bell");
  const banner = byId("alarm-banner");
  if (!data) { bell.dataset.state = "unknown"; banner.hidden = true; return; }
  const counts = data.counts;
  const level = worst(counts);
  bell.dataset.state = level || "none";
  const badges = /** @type {HTMLElement} */ (bell.querySelector(".counts"));
  badges.replaceChildren(...SEVERITIES.map((s) => el("span", { className: "sev", dataset: { severity: s, count: String(counts.firing[s] || 0) } },
    ICONS[s] + " " + (counts.firing[s] || 0))));
  const words = SEVERITIES.map((s) => (counts.firing[s] || 0) + " " + ctx.t("severity." + s)).join(", ");
  bell.title = ctx.t("alarms") + " — " + ctx.t("firing") + " : " + words;
  bell.setAttribute("aria-label", bell.title);
  const total = firingTotal(counts);
  const firing = ordered(data.alarms.filter((/** @type {any} */ a) => a.state === "firing"));
  if (!total || !level) { banner.hidden = true; banner.replaceChildren(); return; }
  const top = firing[0];
  banner.hidden = false;
  banner.dataset.severity = level;
  const parts = [el("span", { className: "count" }, ICONS[level] + " " + ctx.t("banner_count", total, counts.unacknowledged))];
  if (top) {
    parts.push(" ", link(ctx.href(alarmRoute(top)), top.summary, { className: "top-alarm", dataset: { alarm: top.id } }),
      " (" + ctx.t("severity." + top.severity) + ")");
    if (total > 1) parts.push(" · " + ctx.t("and_more", total - 1));
  }
  parts.push(" · ", link("#panel-alarms", ctx.t("see_alarms"), { className: "to-list" }));
  banner.replaceChildren(...parts);
}
