// @ts-check
// A device's live values: every quantity it reported, its latest value, time and quality.

import * as fmt from "../format.js";
import { STATE_ICON, deviceState } from "../health.js";
import { el, panel } from "../dom.js";

/** @param {import("../context.js").Context} ctx @param {string} device */
export function deviceLivePanel(ctx, device) {
  const { section, title } = panel("live", "");
  const stateLine = el("p", { id: "device-state", className: "device-state" });
  const head = el("tr");
  const tbody = el("tbody");
  section.append(stateLine, el("div", { className: "scroll" }, el("table", { id: "live-table" }, el("thead", null, head), tbody)));

  function render() {
    const L = ctx.lang, now = Date.now();
    title.textContent = ctx.t("live_values");
    const dev = ctx.devices.get(device);
    if (dev) {
      const s = deviceState(dev, now);
      stateLine.dataset.state = s.state;
      stateLine.textContent = STATE_ICON[s.state] + " " + ctx.t(s.state) + " · " + ctx.t("last_seen") + " : "
        + (s.seen ? fmt.shortDateTime(s.seen) + " (" + ctx.t("ago", fmt.age(now - s.seen, L)) + ")" : ctx.t("never"));
    }
    head.replaceChildren(...["quantity", "now_value", "time", "quality"].map((k) => el("th", null, ctx.t(k))));
    /** @type {[string, any][]} */
    const rows = [];
    ctx.latest.forEach((v, k) => { const [id, q] = k.split("|"); if (id === device) rows.push([q, v]); });
    rows.sort((a, b) => a[0].localeCompare(b[0]));
    tbody.replaceChildren(...rows.map(([q, v]) => el("tr", { dataset: { quantity: q }, className: v.quality === "good" ? "" : "bad" },
      el("td", null, q),
      el("td", { className: "num" }, v.value === null ? fmt.DASH : q === "active_power_w" ? fmt.power(v.value, L)
        : q.endsWith("_wh") ? fmt.energy(v.value, L) : fmt.number(v.value, 2, L) + (v.unit && v.unit !== "1" ? " " + v.unit : "")),
      el("td", null, fmt.shortDateTime(v.ts)),
      el("td", null, v.quality === "good" ? "✔ good" : "⚠ " + v.quality))));
  }
  ctx.onRender(render);
  return { section, render };
}
