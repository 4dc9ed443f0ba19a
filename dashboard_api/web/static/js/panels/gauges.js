// @ts-check
// Autonomy of the page's scope: self-sufficiency and self-consumption now (gauges, the number said
// once under each), battery hours, and today's figures from GET /energy (the server's engine).

import * as fmt from "../format.js";
import { draw, gaugeFigure } from "../charts.js";
import { el, panel } from "../dom.js";

/** @param {import("../context.js").Context} ctx @param {string} scope */
export function gaugesPanel(ctx, scope) {
  const { section, title } = panel("autonomy", "");
  const gauge = (/** @type {string} */ id, /** @type {string} */ valueId) => {
    const g = el("div", { id, className: "gauge" });
    const label = el("span", null, "");
    const value = el("strong", { id: valueId, className: "gauge-value" }, fmt.DASH);
    return { g, label, value, fig: el("figure", null, g, el("figcaption", null, label, el("br"), value)) };
  };
  const ss = gauge("gauge-ss", "v-ss-now");
  const sc = gauge("gauge-sc", "v-sc-now");
  /** @type {Record<string, HTMLElement>} */
  const dd = {};
  const facts = el("dl", { className: "facts" });
  ["battery_hours", "today_ss", "today_sc", "today_coverage"].forEach((k) => {
    const dt = el("dt", { dataset: { key: k } }, "");
    dd[k] = el("dd", { id: "v-" + k.replace("_", "-") }, fmt.DASH);
    facts.append(dt, dd[k]);
  });
  section.append(el("div", { className: "gauges" }, ss.fig, sc.fig, facts));
  /** @type {any} */
  let today = null;

  function render() {
    const L = ctx.lang;
    title.textContent = ctx.t("autonomy_now");
    ss.label.textContent = ctx.t("self_sufficiency");
    sc.label.textContent = ctx.t("self_consumption");
    facts.querySelectorAll("dt").forEach((dt) => { dt.textContent = ctx.t(/** @type {string} */ (/** @type {HTMLElement} */ (dt).dataset.key)); });
    const f = ctx.flows.get(scope);
    if (f) {
      ss.value.textContent = fmt.percent(f.self_sufficiency, L);
      sc.value.textContent = fmt.percent(f.self_consumption, L);
      draw(ss.g, gaugeFigure(f.self_sufficiency, L, ctx.colours()), L, { static: true });
      draw(sc.g, gaugeFigure(f.self_consumption, L, ctx.colours()), L, { static: true });
      dd.battery_hours.textContent = f.battery_hours !== null ? fmt.number(f.battery_hours, 1, L) + " h"
        : f.soc_pct !== null && !f.partial && f.load_w <= f.generation_w ? ctx.t("surplus") : fmt.DASH;
    }
    if (today) {
      dd.today_ss.textContent = fmt.percent(today.totals.self_sufficiency, L);
      dd.today_sc.textContent = fmt.percent(today.totals.self_consumption, L);
      dd.today_coverage.textContent = fmt.percent(today.coverage, L) + " " + (today.complete ? "✔" : "⚠ " + ctx.t("incomplete"));
    }
  }

  async function refreshToday() {
    try {
      today = await ctx.api.call("/energy", { scope, period: "day", compare: false });
      render();
    } catch (e) {
      if (!(e instanceof Error)) throw e; // the API unreachable: the stream's pill says so; kept as it was
    }
  }
  ctx.onRender(render);
  refreshToday();
  window.setInterval(refreshToday, 60000);
  return { section, render };
}
