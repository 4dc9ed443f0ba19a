// @ts-check
// Energy of the page's scope by period (GET /energy): day, week, month or year bars [kWh] with
// previous/next, the totals against the previous period, and who fed whom over the period. The
// server cuts the period (Europe/Paris) and computes every figure; the page only displays them.
// Only the newest request's answer is shown (latest.js: a period chosen while another loads aborts
// it); the panel is busy (dimmed) until that answer or its error, which replaces the chart.

import * as fmt from "../format.js";
import { draw, energyFigure, partialBar, sankeyFigure } from "../charts.js";
import { el, panel } from "../dom.js";
import { PERIODS } from "../urlstate.js";
import { ApiError } from "../api.js";
import { latestOnly } from "../latest.js";

const REFRESH_MS = 300000; // a period in progress is read again this often

/** @param {import("../context.js").Context} ctx @param {string} scope */
export function energyPanel(ctx, scope) {
  const { section, title } = panel("energy", "");
  const tabs = el("div", { className: "tabs", attrs: { role: "group" } });
  const prev = el("button", { type: "button", id: "energy-prev" }, "◀");
  const next = el("button", { type: "button", id: "energy-next" }, "▶");
  const todayBtn = el("button", { type: "button", id: "energy-today" }, "");
  const heading = el("h3", { id: "energy-title", className: "period-title" }, "…");
  const tiles = el("div", { className: "tiles", id: "energy-tiles" });
  const chart = el("div", { id: "energy-chart", className: "chart" });
  const note = el("p", { id: "energy-note", className: "summary" });
  const sankeyTitle = el("h3", { className: "subtitle" }, "");
  const sankey = el("div", { id: "sankey-period", className: "sankey" });
  section.append(el("div", { className: "controls" }, tabs, el("div", { className: "nav" }, prev, heading, next, todayBtn)),
    tiles, chart, note, sankeyTitle, sankey);
  /** @type {any} the newest answer shown, or null (none yet, or the newest request failed) */
  let data = null;
  const latest = latestOnly();

  async function load() {
    let current = true;
    try {
      const answer = latest.run((signal) => ctx.api.call("/energy", { scope, period: ctx.state.period, date: ctx.state.date, compare: true }, { signal }));
      busy();
      const got = await answer;
      current = got.current; // else a newer request owns the panel
      if (!got.current) return;
      data = got.value;
      render();
    } catch (err) {
      data = null;
      heading.textContent = "…"; chart.replaceChildren(); sankey.replaceChildren(); tiles.replaceChildren();
      delete chart.dataset.period; delete chart.dataset.date; delete chart.dataset.bars;
      note.textContent = err instanceof ApiError && err.status === 403 ? ctx.t("needs_role", "viewer") : /** @type {Error} */ (err).message;
      if (!(err instanceof ApiError)) throw err;
    } finally {
      if (current) { busy(); section.dataset.loaded = "true"; } // the newest request's end: never left busy
    }
  }

  /** Busy (dimmed) while the newest request awaits its answer. */
  function busy() { section.setAttribute("aria-busy", String(latest.busy())); }

  /** @param {string} key @param {string} value @param {string} delta @param {string} [id] */
  const tile = (key, value, delta, id) => el("div", { className: "tile", dataset: { key } },
    el("span", { className: "tile-label" }, ctx.t(key)), el("strong", { id: id || "" }, value), el("span", { className: "tile-delta" }, delta));

  function render() {
    const L = ctx.lang;
    title.textContent = ctx.t("energy");
    sankeyTitle.textContent = ctx.t("flow_diagram_period");
    todayBtn.textContent = ctx.t("today");
    prev.title = ctx.t("previous"); prev.setAttribute("aria-label", ctx.t("previous"));
    next.title = ctx.t("next"); next.setAttribute("aria-label", ctx.t("next"));
    tabs.replaceChildren(...PERIODS.map((p) => {
      const b = el("button", { type: "button", dataset: { period: p }, attrs: { "aria-pressed": String(ctx.state.period === p) } }, ctx.t("period." + p));
      b.addEventListener("click", () => { ctx.update({ period: /** @type {any} */ (p) }); load(); });
      return b;
    }));
    if (!data) return;
    heading.textContent = fmt.periodTitle(data.period, data.date, L);
    const c = data.change, tot = data.totals;
    const vs = (/** @type {number | null | undefined} */ r) => (c ? fmt.change(r, L) + " " + ctx.t("vs_previous") : "");
    // a period without any data has no total (missing is never zero)
    const none = !data.bars.some((/** @type {any} */ b) => b.totals !== null);
    const kwh = (/** @type {number | null} */ wh) => (none ? fmt.DASH : fmt.energy(wh, L));
    tiles.replaceChildren(
      tile("load", kwh(tot.load_wh), vs(c && c.load), "v-energy-load"),
      tile("generation", kwh(tot.generation_wh), vs(c && c.generation), "v-energy-generation"),
      tile("grid_import", kwh(tot.import_wh), vs(c && c.imported)),
      tile("grid_export", kwh(tot.export_wh), vs(c && c.exported)),
      tile("self_sufficiency", fmt.percent(tot.self_sufficiency, L), c ? fmt.points(c.self_sufficiency_points, L) + " " + ctx.t("vs_previous") : "", "v-energy-ss"),
    );
    draw(chart, energyFigure(data, L, ctx.t.bind(ctx), ctx.colours(), window.innerWidth < 700), L, { static: ctx.state.kiosk });
    draw(sankey, sankeyFigure(data.links, "Wh", L, ctx.t.bind(ctx), ctx.colours()), L, { static: ctx.state.kiosk });
    const partial = data.bars.filter(partialBar).length;
    const parts = [(data.complete ? "✔ " + ctx.t("complete") : "⚠ " + ctx.t("incomplete")) + " · " + fmt.percent(data.coverage, L)];
    if (partial || data.bars.some((/** @type {any} */ b) => !b.future && b.totals === null)) parts.push(ctx.t("partial_bars"));
    if (data.in_progress && data.previous) parts.push(ctx.t("in_progress"));
    note.textContent = parts.join(" — ");
    chart.dataset.bars = String(data.bars.length);
    chart.dataset.period = data.period;
    chart.dataset.date = data.date;
  }

  prev.addEventListener("click", () => { if (data) { ctx.update({ date: data.previous_date }); load(); } });
  next.addEventListener("click", () => { if (data) { ctx.update({ date: data.next_date }); load(); } });
  todayBtn.addEventListener("click", () => { ctx.update({ date: null }); load(); });
  ctx.onRender(render);
  load();
  window.setInterval(() => { if (data && data.in_progress) load(); }, REFRESH_MS);
  return { section, render, load };
}
