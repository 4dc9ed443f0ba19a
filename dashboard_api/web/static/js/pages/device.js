// @ts-check
// One device: live values, health, alarms, history of any of its quantities, its
// registers and quality, and the operator's control panel.

import * as fmt from "../format.js";
import { draw, seriesFigure } from "../charts.js";
import { el, panel } from "../dom.js";
import { ApiError } from "../api.js";
import { alarmsPanel } from "../panels/alarms.js";
import { deviceLivePanel } from "../panels/device-live.js";
import { deviceDetailsPanel } from "../panels/device-details.js";
import { controlPanel } from "../panels/control.js";
import { rangeControls } from "../panels/history.js";

/** Raw points up to 6 hours, 15-min rollups up to 7 days, hourly beyond (GET /series). @param {number} spanMs */
export function resolutionFor(spanMs) {
  return spanMs <= 6 * 3600000 ? "raw" : spanMs <= 7 * 86400000 ? "15m" : "1h";
}

/** @param {import("../context.js").Context} ctx @param {string} device */
function deviceHistory(ctx, device) {
  const { section, title } = panel("history", "");
  const what = /** @type {HTMLSelectElement} */ (el("select", { id: "h-what" }));
  const whatLabel = el("span");
  const chart = el("div", { id: "history-chart", className: "chart" });
  const note = el("p", { id: "history-coverage", className: "summary" });
  const range = rangeControls(ctx, () => load());
  section.append(el("div", { className: "controls" }, el("label", null, whatLabel, " ", what)), range.node, chart, note);
  /** @type {any} */
  let shown = null;

  function choices() {
    const dev = ctx.devices.get(device);
    const qs = ["active_power_w"].concat(dev && dev.role === "storage" ? ["soc_pct"] : []);
    ctx.latest.forEach((_, k) => { const [id, q] = k.split("|"); if (id === device && !qs.includes(q)) qs.push(q); });
    const keep = ctx.state.q || what.value;
    what.replaceChildren(...qs.map((q) => el("option", { value: q }, q)));
    if (keep && qs.includes(keep)) what.value = keep;
  }

  async function load() {
    choices();
    const quantity = what.value || "active_power_w";
    try {
      // the server resolves the range (a preset, or local times), then the right resolution is asked
      const p = range.params();
      const span = "preset" in p ? await ctx.api.call("/ranges", { preset: p.preset })
        : await ctx.api.call("/series", { device, quantity, resolution: "1d", ...p });
      const resolution = resolutionFor(span.end_ms - span.start_ms);
      const r = await ctx.api.call("/series", { device, quantity, start: span.start_ms, end: span.end_ms, resolution });
      const step = resolution === "raw" ? Math.max(1000, medianStep(r.points)) : resolution === "15m" ? 900000 : 3600000;
      shown = { r, step, quantity };
      range.resolved(fmt.localIso(span.start_ms).slice(0, 16).replace(" ", "T"), fmt.localIso(span.end_ms).slice(0, 16).replace(" ", "T"));
      render();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      note.textContent = e.status === 403 ? ctx.t("needs_role", "operator") : e.message;
    }
  }

  function render() {
    title.textContent = ctx.t("history");
    whatLabel.textContent = ctx.t("what");
    if (!shown) return;
    const { r, step, quantity } = shown;
    const fig = seriesFigure(r.points, step, r.start_ms, r.end_ms, device + " · " + quantity, r.unit, ctx.lang, ctx.colours());
    draw(chart, fig, ctx.lang, { static: ctx.state.kiosk });
    note.textContent = fig.runs.length ? "▒ " + ctx.t("coverage_note", fmt.percent(fig.missing, ctx.lang)) : ctx.t("coverage_full");
    chart.dataset.points = String(r.points.length);
    chart.dataset.missing = String(fig.runs.length);
  }
  what.addEventListener("change", () => { ctx.update({ q: what.value }); load(); });
  ctx.onRender(render);
  load();
  return { section, render };
}

/** @param {{ts: number}[]} pts */
function medianStep(pts) {
  const d = [];
  for (let i = 1; i < pts.length; i++) d.push(pts[i].ts - pts[i - 1].ts);
  d.sort((a, b) => a - b);
  return d.length ? d[Math.floor(d.length / 2)] : 60000;
}

/** @param {import("../context.js").Context} ctx @param {HTMLElement} board @returns {() => void} live render */
export function devicePage(ctx, board) {
  const device = /** @type {string} */ (ctx.route.id);
  const live = deviceLivePanel(ctx, device);
  const details = deviceDetailsPanel(ctx, device);
  board.append(live.section, alarmsPanel(ctx), controlPanel(ctx, device).section, deviceHistory(ctx, device).section, details.section);
  return () => { live.render(); details.render(); };
}
