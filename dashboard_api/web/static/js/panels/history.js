// @ts-check
// Power history of the page's scope (GET /power): consumption, generation, grid and battery in kW
// over a preset (today, yesterday, 7 days, this month, last month) or a custom range typed in
// 24-hour local time; the server resolves presets and local times in Europe/Paris. Only the newest
// request's answer is shown (latest.js: a range chosen while another loads aborts it); the panel is
// busy (dimmed) until that answer or its error, which replaces the chart.

import * as fmt from "../format.js";
import { draw, powerFigure } from "../charts.js";
import { el, panel } from "../dom.js";
import { RANGES } from "../urlstate.js";
import { formatLocal, parseLocal, zoned } from "../pickers.js";
import { ApiError } from "../api.js";
import { latestOnly } from "../latest.js";

/** The preset buttons and the custom range fields, shared with the device page. @param {import("../context.js").Context} ctx @param {() => void} onChange */
export function rangeControls(ctx, onChange) {
  const presets = el("div", { className: "tabs", id: "range-presets", attrs: { role: "group" } });
  const from = /** @type {HTMLInputElement} */ (el("input", { id: "h-start", type: "text", inputMode: "numeric", size: 16, autocomplete: "off" }));
  const to = /** @type {HTMLInputElement} */ (el("input", { id: "h-end", type: "text", inputMode: "numeric", size: 16, autocomplete: "off" }));
  const fromLabel = el("span", null, ""), toLabel = el("span", null, "");
  const show = el("button", { type: "submit" }, "");
  const error = el("span", { className: "error", id: "h-error", attrs: { role: "alert" } });
  const form = el("form", { id: "history-form", className: "custom" }, el("label", null, fromLabel, " ", from), el("label", null, toLabel, " ", to), show, error);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const a = parseLocal(from.value), b = parseLocal(to.value);
    if (!a || !b) { error.textContent = ctx.t("bad_date"); return; }
    error.textContent = "";
    ctx.update({ range: "custom", from: a, to: b });
    render();
    onChange();
  });
  function render() {
    fromLabel.textContent = ctx.t("from"); toLabel.textContent = ctx.t("to"); show.textContent = ctx.t("show");
    from.placeholder = to.placeholder = ctx.t("date_hint");
    presets.replaceChildren(...RANGES.filter((r) => r !== "custom").map((r) => {
      const b = el("button", { type: "button", dataset: { range: r }, attrs: { "aria-pressed": String(ctx.state.range === r) } }, ctx.t("range." + r));
      b.addEventListener("click", () => { ctx.update({ range: r, from: null, to: null }); render(); onChange(); });
      return b;
    }));
  }
  /** The range parameters of the API. */
  function params() {
    const s = ctx.state;
    return s.range === "custom" && s.from && s.to ? { start: zoned(s.from), end: zoned(s.to) } : { preset: s.range };
  }
  /** Show the range the server resolved. @param {string} startLocal @param {string} endLocal */
  function resolved(startLocal, endLocal) { from.value = formatLocal(startLocal); to.value = formatLocal(endLocal); }
  ctx.onRender(render);
  return { node: el("div", { className: "controls" }, presets, form), params, resolved, error };
}

/** Busy (dimmed, `aria-busy`) while the newest request awaits its answer. Shared with the device page.
 * @param {HTMLElement} section @param {{busy: () => boolean}} latest */
export function busy(section, latest) { section.setAttribute("aria-busy", String(latest.busy())); }

/** The newest request failed: nothing of an older answer stays shown. @param {HTMLElement} section @param {HTMLElement} chart */
export function cleared(section, chart) {
  chart.replaceChildren();
  delete chart.dataset.points; delete chart.dataset.missing; delete section.dataset.shown;
}

/** @param {import("../context.js").Context} ctx @param {string} scope */
export function historyPanel(ctx, scope) {
  const { section, title } = panel("history", "");
  const chart = el("div", { id: "history-chart", className: "chart" });
  const note = el("p", { id: "history-coverage", className: "summary" });
  const range = rangeControls(ctx, () => load());
  section.append(range.node, chart, note);
  /** @type {any} the newest answer shown, or null (none yet, or the newest request failed) */
  let data = null;
  const latest = latestOnly();

  async function load() {
    const params = range.params();
    let current = true;
    try {
      const answer = latest.run((signal) => ctx.api.call("/power", { scope, ...params }, { signal }));
      busy(section, latest);
      const got = await answer;
      current = got.current; // else a newer request owns the panel
      if (!got.current) return;
      data = { ...got.value, asked: "preset" in params ? params.preset : "custom" };
      range.error.textContent = "";
      range.resolved(data.start_local, data.end_local);
      render();
    } catch (e) {
      data = null;
      cleared(section, chart);
      note.textContent = e instanceof ApiError && e.status === 403 ? ctx.t("needs_role", "viewer") : /** @type {Error} */ (e).message;
      range.error.textContent = e instanceof ApiError && e.status === 400 ? e.message : "";
      if (!(e instanceof ApiError)) throw e;
    } finally {
      if (current) busy(section, latest); // the newest request's end: never left busy
    }
  }

  function render() {
    title.textContent = ctx.t("history");
    if (!data) return;
    const fig = powerFigure(data, ctx.lang, ctx.t.bind(ctx), ctx.colours());
    draw(chart, fig, ctx.lang, { static: ctx.state.kiosk });
    note.textContent = fig.runs.length ? "▒ " + ctx.t("coverage_note", fmt.percent(fig.missing, ctx.lang)) : ctx.t("coverage_full");
    chart.dataset.points = String(data.times_ms.length);
    chart.dataset.missing = String(fig.runs.length);
    section.dataset.shown = data.asked;
  }
  ctx.onRender(render);
  load();
  return { section, render, load };
}
