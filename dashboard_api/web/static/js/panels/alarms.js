// @ts-check
// The alarm list of a page (the alarms of its scope; the city's page holds them all): severity and
// state in words, what fired and since when, its page, who acknowledged it, whether a silence mutes
// it (a gateway's alarm names the devices it reads). An operator key (or above) gets "acknowledge"
// (with an optional comment) and "silence…" (1, 4, 24 h or a typed duration, and a reason) on each
// alarm; a viewer key reads only. The list follows the stream's `alarms` event; an action's answer
// is shown at once. Below: the active silences and the history (alarm-history.js).

import * as fmt from "../format.js";
import { el, link, panel } from "../dom.js";
import { ApiError } from "../api.js";
import { ICONS, alarmRoute, canOperate, gatewayDevices, inScope, ordered } from "../alarmlist.js";
import { SILENCE_HOURS, parseDuration } from "../alarmhistory.js";
import { alarmHistory } from "./alarm-history.js";

/** @param {import("../context.js").Context} ctx */
export function alarmsPanel(ctx) {
  const { section, title } = panel("alarms", ctx.t("alarms"));
  const note = el("p", { className: "summary", id: "alarms-note" });
  const list = el("ul", { id: "alarm-list", className: "alarm-list" });
  const result = el("p", { id: "alarm-result", attrs: { role: "status", "aria-live": "polite" } });
  const history = alarmHistory(ctx, result);
  section.append(history.warning, note, list, result, ...history.nodes);

  /** @param {string} id @param {any} updated the API's answer: the alarm as it now is */
  function replaceAlarm(id, updated) {
    if (!ctx.alarms) return;
    ctx.alarms.alarms = ctx.alarms.alarms.map((/** @type {any} */ a) => (a.id === id ? updated : a));
    ctx.alarmsChanged();
  }

  /** @param {Error} e */
  function failed(e) {
    result.dataset.status = "error";
    result.textContent = e instanceof ApiError && e.status === 403 ? ctx.t("needs_role", "operator") : e.message;
  }

  async function ack(/** @type {any} */ a, /** @type {HTMLButtonElement} */ button, /** @type {HTMLInputElement} */ comment) {
    button.disabled = true;
    try {
      replaceAlarm(a.id, await ctx.api.call("/alarms/" + encodeURIComponent(a.id) + "/ack", undefined,
        { method: "POST", body: { comment: comment.value.trim() } }));
      history.refresh();
      result.dataset.status = "ok";
      result.textContent = ctx.t("acked_done", a.summary);
    } catch (e) { if (!(e instanceof ApiError)) throw e; failed(e); button.disabled = false; }
  }

  function silenceForm(/** @type {any} */ a) {
    const hours = /** @type {HTMLSelectElement} */ (el("select", { name: "hours", className: "silence-hours", attrs: { "aria-label": ctx.t("silence_for") } },
      ...SILENCE_HOURS.map((h) => el("option", { value: String(h) }, h + " h")), el("option", { value: "custom" }, ctx.t("silence_custom"))));
    const custom = /** @type {HTMLInputElement} */ (el("input", { name: "duration", className: "silence-duration", hidden: true, size: 8,
      placeholder: ctx.t("silence_duration_hint"), attrs: { "aria-label": ctx.t("silence_duration") } }));
    hours.addEventListener("change", () => { custom.hidden = hours.value !== "custom"; if (!custom.hidden) custom.focus(); });
    const reason = /** @type {HTMLInputElement} */ (el("input", { name: "reason", className: "silence-reason", required: true, maxLength: 500,
      placeholder: ctx.t("silence_reason"), attrs: { "aria-label": ctx.t("silence_reason") } }));
    const form = /** @type {HTMLFormElement} */ (el("form", { className: "silence-form", hidden: true },
      el("span", null, ctx.t("silence_for") + " "), hours, custom, reason, el("button", { type: "submit", className: "silence-send" }, ctx.t("silence_send"))));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const seconds = hours.value === "custom" ? parseDuration(custom.value) : 3600 * Number(hours.value);
      if (seconds === null) {
        result.dataset.status = "error";
        result.textContent = ctx.t("bad_duration", custom.value.trim());
        return;
      }
      try {
        await ctx.api.call("/silences", undefined, { method: "POST",
          body: { rule: a.rule, subject: a.subject, duration_s: seconds, reason: reason.value.trim() } });
        result.dataset.status = "ok";
        result.textContent = ctx.t("silenced_done", a.summary, fmt.duration(seconds, ctx.lang));
        form.hidden = true;
        history.refresh();
      } catch (e) { if (!(e instanceof ApiError)) throw e; failed(e); }
    });
    return form;
  }

  /** A gateway's alarm: the devices it reads, each a link. @param {any} a */
  function gatewayLinks(a) {
    const devices = ctx.topology ? gatewayDevices(ctx.topology, a.labels.gateway || a.subject) : [];
    if (!devices.length) return null;
    const links = devices.flatMap((d, i) => [i ? ", " : "", link(ctx.href({ kind: "device", id: d.id }), d.name)]);
    return el("div", { className: "facts gateway-devices" }, ctx.t("gateway_devices") + " ", ...links);
  }

  function item(/** @type {any} */ a, /** @type {boolean} */ operator) {
    const sev = el("span", { className: "sev", dataset: { severity: a.severity } },
      ICONS[a.severity] + " " + ctx.t("severity." + a.severity).toUpperCase());
    const since = a.fired_ms || a.pending_ms;
    const dev = a.labels && a.labels.device ? ctx.devices.get(a.labels.device) : null;
    const where = link(ctx.href(alarmRoute(a)), dev && dev.name ? dev.name + " (" + dev.id + ")" : a.subject, { className: "subject" });
    const facts = [ctx.t("state." + a.state) + " " + ctx.t("since", fmt.shortDateTime(since))];
    if (a.acked_ms) facts.push(ctx.t("acked_by", a.acked_by || "?", fmt.shortDateTime(a.acked_ms)) + (a.ack_comment ? " " + ctx.t("quoted", a.ack_comment) : ""));
    if (a.silenced_by) facts.push(ctx.t("silenced"));
    const li = el("li", { className: "alarm", dataset: { alarm: a.id, severity: a.severity, state: a.state, acked: String(Boolean(a.acked_ms)) } },
      sev, " ", where, " — ", el("span", { className: "what" }, a.summary), el("div", { className: "facts" }, facts.join(" · ")),
      a.scope === "gateway" ? gatewayLinks(a) : null);
    if (operator && a.state !== "resolved") {
      const tools = el("div", { className: "controls alarm-actions" });
      if (!a.acked_ms) {
        const comment = /** @type {HTMLInputElement} */ (el("input", { name: "comment", className: "ack-comment", maxLength: 500,
          placeholder: ctx.t("ack_comment"), attrs: { "aria-label": ctx.t("ack_comment") } }));
        const b = /** @type {HTMLButtonElement} */ (el("button", { type: "button", className: "ack" }, ctx.t("ack")));
        b.addEventListener("click", () => { ack(a, b, comment); });
        tools.append(comment, b);
      }
      const form = silenceForm(a);
      const s = el("button", { type: "button", className: "silence" }, ctx.t("silence"));
      s.addEventListener("click", () => { form.hidden = !form.hidden; });
      tools.append(s);
      li.append(tools, form);
    }
    return li;
  }

  function render() {
    title.textContent = ctx.t("alarms");
    const data = ctx.alarms;
    if (!data) { note.textContent = ctx.t("alarms_unknown"); list.replaceChildren(); return; }
    const { gateways } = ctx.scopePlaces();
    const mine = ordered(data.alarms.filter((/** @type {any} */ a) => inScope(a, ctx.route, gateways)));
    note.textContent = mine.length ? ctx.t("alarms_active", mine.length) : ctx.t("no_alarms");
    const operator = canOperate(ctx.role);
    const typed = keepTyped();
    list.replaceChildren(...mine.map((a) => item(a, operator)));
    typed();
  }

  /** What an operator was typing (a comment, a silence's form) survives a redraw of the list (the
   * stream's `alarms` event may come meanwhile): read now, the returned function puts it back. */
  function keepTyped() {
    const fields = ".ack-comment, .silence-hours, .silence-duration, .silence-reason";
    /** @type {Map<string, {values: string[], open: boolean}>} */
    const kept = new Map();
    list.querySelectorAll("li[data-alarm]").forEach((li) => {
      const form = /** @type {HTMLFormElement | null} */ (li.querySelector(".silence-form"));
      kept.set(/** @type {string} */ (/** @type {HTMLElement} */ (li).dataset.alarm), {
        values: [...li.querySelectorAll(fields)].map((n) => /** @type {HTMLInputElement} */ (n).value),
        open: Boolean(form && !form.hidden),
      });
    });
    return () => list.querySelectorAll("li[data-alarm]").forEach((li) => {
      const k = kept.get(/** @type {string} */ (/** @type {HTMLElement} */ (li).dataset.alarm));
      if (!k) return;
      const nodes = [...li.querySelectorAll(fields)];
      if (nodes.length === k.values.length) nodes.forEach((n, i) => { /** @type {HTMLInputElement} */ (n).value = k.values[i]; });
      const form = /** @type {HTMLFormElement | null} */ (li.querySelector(".silence-form"));
      const custom = /** @type {HTMLInputElement | null} */ (li.querySelector(".silence-duration"));
      if (form) form.hidden = !k.open;
      if (custom) custom.hidden = /** @type {HTMLSelectElement} */ (li.querySelector(".silence-hours")).value !== "custom";
    });
  }
  ctx.onRender(render);
  ctx.alarmListeners.push(render, history.changed);
  return section;
}
