// @ts-check
// History of one of a device's quantities (GET /ranges, then GET /series) over a preset or a custom
// range, at a resolution fit for its span. Only the newest request's answers are shown (latest.js:
// a quantity or range chosen while another loads aborts it); the panel is busy (dimmed) until that
// answer or its error, which replaces the chart.

import * as fmt from "../format.js";
import { draw, seriesFigure } from "../charts.js";
import { el, panel } from "../dom.js";
import { ApiError } from "../api.js";
import { latestOnly } from "../latest.js";
import { busy, cleared, rangeControls } from "./history.js";

/** Raw points up to 6 hours, 15-min rollups up to 7 days, hourly beyond (GET /series). @param {number} spanMs */
export function resolutionFor(spanMs) {
  return spanMs <= 6 * 3600000 ? "raw" : spanMs <= 7 * 86400000 ? "15m" : "1h";
}

/** @param {{ts: number}[]} pts */
function medianStep(pts) {
  const d = [];
  for (let i = 1; i < pts.length; i++) d.push(pts[i].ts - pts[i - 1].ts);
  d.sort((a, b) => a - b);
  return d.length ? d[Math.floor(d.length / 2)] : 60000;
}

/** @param {import("../context.js").Context} ctx @param {string} device */
export function deviceHistoryPanel(ctx, device) {
  const { section, title } = panel("history", "");
  const what = /** @type {HTMLSelectElement} */ (el("select", { id: "h-what" }));
  const whatLabel = el("span");
  const chart = el("div", { id: "history-chart", className: "chart" });
  const note = el("p", { id: "history-coverage", className: "summary" });
  const range = rangeControls(ctx, () => load());
  section.append(el("div", { className: "controls" }, el("label", null, whatLabel, " ", what)), range.node, chart, note);
  /** @type {any} the newest answer shown, or null (none yet, or the newest request failed) */
  let shown = null;
  const latest = latestOnly();

  function choices() {
    const dev = ctx.devices.get(device);
    const qs = ["active_power_w"].concat(dev && dev.role === "storage" ? ["soc_pct"] : []);
    ctx.latest.forEach((_, k) => { const [id, q] = k.split("|"); if (id === device && !qs.includes(q)) qs.push(q); });
    const keep = ctx.state.q || what.value;
    what.replaceChildren(...qs.map((q) => el("option", { value: q }, q)));
    if (keep && qs.includes(keep)) what.value = keep;
  }

  /** The range the server resolves (a preset, or local times), then the series at the right resolution.
   * @param {string} quantity @param {AbortSignal} signal */
  async function fetchSeries(quantity, signal) {
    const p = range.params();
    const span = "preset" in p ? await ctx.api.call("/ranges", { preset: p.preset }, { signal })
      : await ctx.api.call("/series", { device, quantity, resolution: "1d", ...p }, { signal });
    const resolution = resolutionFor(span.end_ms - span.start_ms);
    const r = await ctx.api.call("/series", { device, quantity, start: span.start_ms, end: span.end_ms, resolution }, { signal });
    const step = resolution === "raw" ? Math.max(1000, medianStep(r.points)) : resolution === "15m" ? 900000 : 3600000;
    return { r, step, quantity, span, asked: "preset" in p ? p.preset : "custom" };
  }

  async function load() {
    choices();
    const quantity = what.value || "active_power_w";
    let current = true;
    try {
      const answer = latest.run((signal) => fetchSeries(quantity, signal));
      busy(section, latest);
      const got = await answer;
      current = got.current; // else a newer request owns the panel
      if (!got.current) return;
      shown = got.value;
      range.resolved(fmt.localIso(shown.span.start_ms).slice(0, 16).replace(" ", "T"), fmt.localIso(shown.span.end_ms).slice(0, 16).replace(" ", "T"));
      render();
    } catch (e) {
      shown = null;
      cleared(section, chart);
      note.textContent = e instanceof ApiError && e.status === 403 ? ctx.t("needs_role", "operator") : /** @type {Error} */ (e).message;
      if (!(e instanceof ApiError)) throw e;
    } finally {
      if (current) busy(section, latest); // the newest request's end: never left busy
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
    chart.dataset.quantity = quantity;
    section.dataset.shown = shown.asked;
  }
  what.addEventListener("change", () => { ctx.update({ q: what.value }); load(); });
  ctx.onRender(render);
  load();
  return { section, render };
}
