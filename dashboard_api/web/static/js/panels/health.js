// @ts-check
// Device health of the page's scope: state in words and an icon (colour only repeats it), last
// reading, the quantities whose latest quality is not good; every name links to its page.

import * as fmt from "../format.js";
import { STATE_ICON, byUrgency, deviceState } from "../health.js";
import { el, link, panel } from "../dom.js";

const COLUMNS = ["state", "device", "site", "role", "last_seen", "quality"];

/** @param {import("../context.js").Context} ctx */
export function healthPanel(ctx) {
  const { section, title } = panel("health", "");
  const summary = el("p", { id: "health-summary", className: "summary" });
  const head = el("tr");
  const tbody = el("tbody");
  section.append(summary, el("div", { className: "scroll" }, el("table", { id: "health-table" }, el("thead", null, head), tbody)));

  /** @param {string} id */
  function problems(id) {
    /** @type {string[]} */ const bad = [];
    ctx.latest.forEach((v, k) => {
      const [dev, q] = k.split("|");
      if (dev === id && v.quality !== "good") bad.push(q + ": " + v.quality);
    });
    return bad.join(", ");
  }

  function render() {
    const now = Date.now();
    const L = ctx.lang;
    title.textContent = ctx.t("device_health");
    head.replaceChildren(...COLUMNS.map((c) => el("th", null, ctx.t(c))));
    const rows = ctx.scopeDevices().map((dev) => ({ dev, id: dev.id, ...deviceState(dev, now) }));
    rows.sort(byUrgency);
    let online = 0;
    tbody.replaceChildren(...rows.map((r) => {
      if (r.state === "online") online += 1;
      const d = r.dev;
      return el("tr", { dataset: { device: d.id, state: r.state }, className: "state-" + r.state },
        el("td", { className: "state" }, STATE_ICON[r.state] + " " + ctx.t(r.state)),
        el("td", null, link(ctx.href({ kind: "device", id: d.id }), d.name ? d.name + " (" + d.id + ")" : d.id)),
        el("td", null, link(ctx.href({ kind: "site", id: d.site }), d.siteName)),
        el("td", null, ctx.t("role." + d.role) + (d.source ? " · " + ctx.t("source." + d.source) : "")),
        el("td", null, r.seen ? fmt.shortDateTime(r.seen) + " (" + ctx.t("ago", fmt.age(now - r.seen, L)) + ")" : ctx.t("never")),
        el("td", null, problems(d.id)));
    }));
    summary.textContent = ctx.t("health_summary", online, rows.length - online, rows.length);
  }
  ctx.onRender(render);
  return { section, render };
}
