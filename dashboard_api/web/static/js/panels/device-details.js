// @ts-check
// A device's details (GET /devices/{id}/details, operator key): where it sits, how it is read
// (registers or MQTT topics), its gateway's health report with read errors by kind.

import * as fmt from "../format.js";
import { el, link, panel } from "../dom.js";
import { ApiError } from "../api.js";

/** @param {import("../context.js").Context} ctx @param {string} device */
export function deviceDetailsPanel(ctx, device) {
  const { section, title } = panel("registers", "");
  const facts = el("dl", { className: "facts", id: "device-facts" });
  const head = el("tr");
  const tbody = el("tbody");
  const note = el("p", { className: "summary", id: "registers-note" });
  section.append(facts, note, el("div", { className: "scroll" }, el("table", { id: "registers-table" }, el("thead", null, head), tbody)));
  /** @type {any} */
  let d = null;

  function render() {
    const L = ctx.lang;
    title.textContent = ctx.t("registers");
    if (!d) return;
    /** @type {[string, Node | string][]} */
    const items = [
      ["site", link(ctx.href({ kind: "site", id: d.site }), d.site_name || d.site)],
      ["district", link(ctx.href({ kind: "district", id: d.district }), d.district_name || d.district)],
      ["role", ctx.t("role." + d.role) + (d.source ? " · " + ctx.t("source." + d.source) : "")],
      ["protocol", d.protocol], ["address", d.address + (d.unit_id !== null ? " · " + ctx.t("unit_id") + " " + d.unit_id : "")],
      ["profile", (d.profile || fmt.DASH) + (d.profile_description ? " — " + d.profile_description : "")],
      ["poll_interval", fmt.number(d.poll_interval_s, 1, L) + " s"], ["gateway", d.gateway],
      ["rated_power", d.rated_power_w ? fmt.power(d.rated_power_w, L) : fmt.DASH],
      ["errors", d.health && Object.keys(d.health.errors).length
        ? Object.entries(d.health.errors).map(([k, n]) => k + " : " + n).join(", ") : ctx.t("none")],
    ];
    if (d.capacity_wh) items.push(["capacity", fmt.energy(d.capacity_wh, L)]);
    facts.replaceChildren(...items.flatMap(([k, v]) => [el("dt", null, ctx.t(k)), el("dd", null, v)]));
    head.replaceChildren(...["register", "quantity", "source_reg", "datatype", "scale"].map((k) => el("th", null, ctx.t(k))));
    tbody.replaceChildren(...d.registers.map((/** @type {any} */ r) => {
      const v = ctx.latest.get(device + "|" + r.quantity);
      return el("tr", { dataset: { register: r.name }, className: v && v.quality !== "good" ? "bad" : "" },
        el("td", null, r.name + (r.writable ? " ✎" : "")),
        el("td", null, r.quantity + (v && v.quality !== "good" ? " ⚠ " + v.quality : "")),
        el("td", null, r.source), el("td", null, r.datatype || ""), el("td", null, r.scale || ""));
    }));
  }

  async function load() {
    try {
      d = await ctx.api.call("/devices/" + encodeURIComponent(device) + "/details");
      render();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      note.textContent = e.status === 403 ? ctx.t("needs_role", "operator") : e.message;
    }
  }
  ctx.onRender(render);
  load();
  return { section, render };
}
