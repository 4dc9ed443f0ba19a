// @ts-check
// What the page's scope is made of, now: the city's districts, a district's sites (the server's
// flows now of each), a site's devices (their power now). Every name links to its page.

import * as fmt from "../format.js";
import { el, link, panel } from "../dom.js";

/** @param {import("../context.js").Context} ctx */
export function childrenPanel(ctx) {
  const { section, title } = panel("children", "");
  const head = el("tr");
  const tbody = el("tbody");
  section.append(el("div", { className: "scroll" }, el("table", { id: "children-table" }, el("thead", null, head), tbody)));
  const r = ctx.route;
  const kind = r.kind === "city" ? "district" : r.kind === "district" ? "site" : "device";

  /** @returns {{route: import("../urlstate.js").Route, name: string, scope: string | null}[]} */
  function children() {
    const topo = ctx.topology;
    if (!topo) return [];
    if (kind === "district") return topo.districts.map((/** @type {any} */ d) => ({ route: { kind: "district", id: d.id }, name: d.name || d.id, scope: "district:" + d.id }));
    if (kind === "site") {
      const d = topo.districts.find((/** @type {any} */ x) => x.id === r.id);
      return d ? d.sites.map((/** @type {any} */ s) => ({ route: { kind: "site", id: s.id }, name: s.name || s.id, scope: "site:" + s.id })) : [];
    }
    return ctx.scopeDevices().map((d) => ({ route: { kind: "device", id: d.id }, name: d.name ? d.name + " (" + d.id + ")" : d.id, scope: null }));
  }

  function render() {
    const L = ctx.lang;
    title.textContent = ctx.t("children_now", ctx.t(kind + "s").toLowerCase());
    const cols = kind === "device" ? [ctx.t(kind), ctx.t("role"), ctx.t("now_value")]
      : [ctx.t(kind), ctx.t("generation"), ctx.t("load"), ctx.t("grid"), ctx.t("self_sufficiency")];
    head.replaceChildren(...cols.map((c) => el("th", null, c)));
    tbody.replaceChildren(...children().map((c) => {
      const name = el("td", null, link(ctx.href(c.route), c.name));
      if (c.scope === null) {
        const dev = ctx.devices.get(/** @type {string} */ (c.route.id));
        const p = ctx.latest.get(c.route.id + "|active_power_w");
        return el("tr", { dataset: { id: c.route.id } }, name,
          el("td", null, dev ? ctx.t("role." + dev.role) + (dev.source ? " · " + ctx.t("source." + dev.source) : "") : ""),
          el("td", { className: "num" }, p && p.value !== null ? fmt.power(p.value, L) : fmt.DASH));
      }
      const f = ctx.flows.get(c.scope);
      const grid = !f ? fmt.DASH : f.import_w > 1 ? "⬇ " + fmt.power(f.import_w, L) : f.export_w > 1 ? "⬆ " + fmt.power(f.export_w, L) : "⇆ 0 W";
      return el("tr", { dataset: { id: c.route.id } }, name,
        el("td", { className: "num" }, f ? fmt.power(f.generation_w, L) : fmt.DASH),
        el("td", { className: "num" }, f ? fmt.power(f.load_w, L) : fmt.DASH),
        el("td", { className: "num" }, grid),
        el("td", { className: "num" }, f ? fmt.percent(f.self_sufficiency, L) + (f.partial ? " ⚠" : "") : fmt.DASH));
    }));
  }
  ctx.onRender(render);
  return { section, render };
}
