// @ts-check
// The operator's control panel of a device with writable points (docs/commands.md): one field per
// point (a number with its unit and range, or a choice of its allowed values), the battery's
// setpoint helper, "send" with the result in words, and the recent commands (admin key). Hidden
// for a key that may not command (403) and for a device without writable points.

import * as fmt from "../format.js";
import { el, panel } from "../dom.js";
import { ApiError } from "../api.js";
import { batterySetpoint } from "../setpoint.js";

const WAIT_S = 10;

/** Writes in the order the device applies them: modes last (docs/commands.md). @param {{point: string, value: number}[]} writes */
export function ordered(writes) {
  const mode = (/** @type {string} */ p) => (p.endsWith("_Mod") || p === "SetOp" ? 1 : 0);
  return [...writes].sort((a, b) => mode(a.point) - mode(b.point));
}

/** @param {import("../context.js").Context} ctx @param {string} device */
export function controlPanel(ctx, device) {
  const { section, title } = panel("control", "");
  section.hidden = true;
  const intro = el("p", { className: "summary" });
  const form = /** @type {HTMLFormElement} */ (el("form", { id: "control-form", className: "control-form" }));
  const helper = el("div", { id: "setpoint-helper", className: "controls", hidden: true });
  const send = el("button", { type: "submit", id: "control-send" }, "");
  const result = el("p", { id: "control-result", attrs: { role: "status", "aria-live": "polite" } });
  const logTitle = el("h3", { className: "subtitle" }, "");
  const log = el("ul", { id: "command-log", className: "log" });
  const logBox = el("div", { hidden: true }, logTitle, log);
  section.append(intro, helper, form, el("div", { className: "controls" }, send), result, logBox);
  /** @type {any[]} */
  let points = [];
  /** @type {Map<string, HTMLInputElement | HTMLSelectElement>} */
  const fields = new Map();
  /** @type {any} */
  let last = null;
  /** @type {any[]} */
  let history = [];

  function field(/** @type {any} */ p) {
    const values = Object.entries(p.values);
    if (values.length) {
      const s = /** @type {HTMLSelectElement} */ (el("select", { name: p.name, id: "cp-" + p.name }, el("option", { value: "" }, "—"),
        ...values.map(([v, meaning]) => el("option", { value: v }, v + " · " + meaning))));
      return s;
    }
    return /** @type {HTMLInputElement} */ (el("input", { type: "number", name: p.name, id: "cp-" + p.name, step: "any",
      min: p.minimum === null ? "" : String(p.minimum), max: p.maximum === null ? "" : String(p.maximum) }));
  }

  function resultText(/** @type {any} */ r) {
    const L = ctx.lang;
    let text = ctx.t("status." + r.status);
    if (r.status === "applied" && r.readback) {
      text += " — " + ctx.t("readback") + " : " + Object.entries(r.readback).map(([k, v]) => k + " = " + fmt.number(/** @type {number} */ (v), 1, L)).join(", ");
    }
    if (r.detail) text += " — " + r.detail;
    if (r.exception_code !== null && r.exception_code !== undefined) text += " (" + ctx.t("exception", r.exception_code) + ")";
    return text;
  }

  function render() {
    title.textContent = ctx.t("control");
    intro.textContent = points.length ? ctx.t("control_intro") : ctx.t("no_writable");
    send.textContent = ctx.t("send");
    logTitle.textContent = ctx.t("recent_commands");
    if (last) {
      result.textContent = (last.status === "applied" ? "✔ " : last.status === "sent" ? "… " : "✖ ") + resultText(last);
      result.dataset.status = last.status;
    }
    log.replaceChildren(...(history.length ? history.map((c) => el("li", { dataset: { status: c.status } },
      fmt.shortDateTime(c.issued_ms) + " · " + c.writes.map((/** @type {any} */ w) => w.point + "=" + w.value).join(", ")
      + " · " + ctx.t("issued_by") + " " + c.issued_by + " · " + resultText(c))) : [el("li", null, ctx.t("no_commands"))]));
  }

  function buildForm() {
    fields.clear();
    form.replaceChildren(...points.map((p) => {
      const f = field(p);
      fields.set(p.name, f);
      const range = p.minimum !== null && p.maximum !== null ? " [" + p.minimum + " … " + p.maximum + "]" : "";
      return el("label", { className: "point" }, el("span", null, p.name + (p.unit ? " (" + p.unit + ")" : "") + range), f,
        el("small", null, p.description || ""));
    }));
    const dev = ctx.devices.get(device);
    const names = new Set(points.map((p) => p.name));
    if (dev && dev.rated_power_w && ["InWRte", "OutWRte", "StorCtl_Mod"].every((n) => names.has(n))) {
      const kwIn = /** @type {HTMLInputElement} */ (el("input", { type: "number", id: "sp-kw", step: "any", value: "0" }));
      const revert = /** @type {HTMLInputElement} */ (el("input", { type: "number", id: "sp-revert", min: "0", max: "65534", value: "600" }));
      const fill = el("button", { type: "button", id: "sp-fill" }, ctx.t("fill"));
      const kwLabel = el("span"), revertLabel = el("span");
      ctx.onRender(() => { kwLabel.textContent = ctx.t("setpoint_kw"); revertLabel.textContent = ctx.t("revert_s"); fill.textContent = ctx.t("fill"); });
      fill.addEventListener("click", () => {
        batterySetpoint(Number(kwIn.value), /** @type {number} */ (dev.rated_power_w), Number(revert.value)).forEach((w) => {
          const f = fields.get(w.point);
          if (f) f.value = String(w.value);
        });
      });
      helper.replaceChildren(el("strong", null, "⚡"), el("label", null, kwLabel, " ", kwIn), el("label", null, revertLabel, " ", revert), fill);
      helper.hidden = false;
    }
  }

  async function loadLog() {
    try {
      history = (await ctx.api.call("/commands", { device, limit: 10 })).commands;
      logBox.hidden = false;
      render();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e; // an operator key may not read the audit log (admin)
    }
  }

  form.addEventListener("submit", (ev) => ev.preventDefault());
  send.addEventListener("click", async () => {
    /** @type {{point: string, value: number}[]} */
    const writes = [];
    points.forEach((p) => {
      const f = fields.get(p.name);
      if (f && f.value !== "") writes.push({ point: p.name, value: Number(f.value) });
    });
    if (!writes.length) return;
    result.textContent = ctx.t("sending");
    send.setAttribute("disabled", "");
    try {
      last = await ctx.api.call("/devices/" + encodeURIComponent(device) + "/commands", { wait_s: WAIT_S },
        { method: "POST", body: { writes: ordered(writes), expires_in_s: 60 } });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      last = { status: "refused", detail: e.message, exception_code: null, readback: {} };
    } finally {
      send.removeAttribute("disabled");
    }
    render();
    loadLog();
  });

  async function load() {
    const dev = ctx.devices.get(device);
    if (!dev || !dev.writable) return; // no command path: no profile, or an MQTT device without an output
    try {
      points = (await ctx.api.call("/devices/" + encodeURIComponent(device) + "/commands/points")).points;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 403) return; // a viewer: nothing to show (the POST would answer 403)
      points = []; // nothing to write (an MQTT device without an output, a device without a profile)
    }
    section.hidden = points.length === 0;
    buildForm();
    render();
    if (points.length) loadLog();
  }
  ctx.onRender(render);
  load();
  return { section, render };
}
