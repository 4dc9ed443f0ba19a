// @ts-check
// Energy flows now of the page's scope: generation (by source), consumption, battery, grid, and
// the diagram of who feeds whom — all the server's flows (GET /live, then the stream's `flows`).

import * as fmt from "../format.js";
import { draw, sankeyFigure } from "../charts.js";
import { el, panel } from "../dom.js";

const SANKEY_EVERY_MS = 1000; // the diagram is redrawn at most this often

/** @param {import("../context.js").Context} ctx @param {string} scope */
export function flowsPanel(ctx, scope) {
  const { section, title } = panel("flows", "");
  const v = (/** @type {string} */ id) => el("span", { id }, fmt.DASH);
  const card = (/** @type {string} */ id, /** @type {string} */ key, /** @type {Node[]} */ ...body) => {
    const h = el("h3", null, "");
    ctx.onRender(() => { h.textContent = ctx.t(key); });
    return el("article", { className: "card", id }, h, ...body);
  };
  const sources = el("ul", { id: "v-sources", className: "sources" });
  const batteryState = el("span", { id: "v-battery-state" }, fmt.DASH);
  const soc = el("span", { id: "v-soc" }, fmt.DASH);
  const socBar = el("div", { id: "soc-bar" });
  const socLabel = el("span", null, "");
  const gridDir = el("p", { className: "detail", id: "v-grid-direction" }, fmt.DASH);
  const cards = el("div", { className: "cards" },
    card("card-generation", "generation", el("p", { className: "value" }, v("v-generation")), sources),
    card("card-load", "load", el("p", { className: "value" }, v("v-load"))),
    card("card-battery", "battery", el("p", { className: "value" }, v("v-battery")),
      el("p", { className: "detail" }, batteryState, el("span", { className: "soc" }, " · ", socLabel, " ", soc)),
      el("div", { className: "bar", attrs: { "aria-hidden": "true" } }, socBar)),
    card("card-grid", "grid", el("p", { className: "value" }, v("v-grid")), gridDir));
  const diagramTitle = el("h3", { className: "subtitle" }, "");
  const diagram = el("div", { id: "sankey-now", className: "sankey" });
  section.append(cards, diagramTitle, diagram);
  let lastSankey = 0;
  let sankeyTimer = 0;

  const hasBattery = () => ctx.scopeDevices().some((d) => d.role === "storage");

  function drawSankey() {
    const f = ctx.flows.get(scope);
    lastSankey = Date.now();
    sankeyTimer = 0;
    if (f) draw(diagram, sankeyFigure(f.links || [], "W", ctx.lang, ctx.t.bind(ctx), ctx.colours()), ctx.lang, { static: ctx.state.kiosk });
  }

  function render() {
    title.textContent = ctx.t("flows_now");
    diagramTitle.textContent = ctx.t("flow_diagram_now");
    socLabel.textContent = ctx.t("soc");
    const f = ctx.flows.get(scope);
    if (!f) return;
    const L = ctx.lang;
    const battery = hasBattery();
    /** @type {HTMLElement} */ (section.querySelector("#v-generation")).textContent = fmt.power(f.generation_w, L);
    sources.replaceChildren(...Object.keys(f.generation_by_source_w).sort().map((src) => el("li", { dataset: { source: src } },
      ctx.t("source." + src) + " : " + fmt.power(f.generation_by_source_w[src], L))));
    /** @type {HTMLElement} */ (section.querySelector("#v-load")).textContent = fmt.power(f.load_w, L);
    const batteryW = f.discharge_w > 0 ? f.discharge_w : f.charge_w; // one of them is 0 (the server's flows)
    /** @type {HTMLElement} */ (section.querySelector("#v-battery")).textContent = battery ? fmt.power(batteryW, L) : fmt.DASH;
    batteryState.textContent = !battery ? ctx.t("no_battery")
      : f.discharge_w > 1 ? "▼ " + ctx.t("discharging") : f.charge_w > 1 ? "▲ " + ctx.t("charging") : "■ " + ctx.t("idle");
    soc.textContent = f.soc_pct === null ? fmt.DASH : fmt.number(f.soc_pct, 0, L) + " %";
    /** @type {HTMLElement} */ (section.querySelector(".soc")).hidden = !battery;
    /** @type {HTMLElement} */ (section.querySelector(".bar")).hidden = !battery;
    socBar.style.width = (f.soc_pct === null ? 0 : f.soc_pct) + "%";
    /** @type {HTMLElement} */ (section.querySelector("#v-grid")).textContent = fmt.power(f.import_w > 0 ? f.import_w : f.export_w, L);
    gridDir.textContent = f.import_w > 1 ? "⬇ " + ctx.t("importing") : f.export_w > 1 ? "⬆ " + ctx.t("exporting") : "⇆ " + ctx.t("balanced");
    const wait = SANKEY_EVERY_MS - (Date.now() - lastSankey);
    if (wait <= 0) drawSankey(); else if (!sankeyTimer) sankeyTimer = window.setTimeout(drawSankey, wait);
  }
  ctx.onRender(render);
  return { section, render };
}
