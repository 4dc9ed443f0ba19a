// @ts-check
// Under the alarm list: the admins' warning of undelivered notifications (dead letters), the
// active silences (with "end" for operators), and the history of the page's scope over 24 h, 7 or
// 30 days: the resolved alarms and the recent events. One GET /api/v1/alarms?state=resolved with
// the window answers the resolved alarms, the events and the silences; it is read again when the
// active alarms change (at most every REFRESH_MS), when the window changes and after an action.
// Only the newest request's answer is shown (latest.js: a window clicked while another loads aborts
// it); "loading…" is said until that answer or its error. The window is in the URL (?alarm_range=,
// urlstate.js): a reload or a link shows the same history; an unknown one is said, and 24 h shown.

import * as fmt from "../format.js";
import { el, link } from "../dom.js";
import { ApiError } from "../api.js";
import { latestOnly } from "../latest.js";
import { refusedAlarmRange } from "../urlstate.js";
import { ICONS, alarmRoute, canAdmin, canOperate, inScope } from "../alarmlist.js";
import { HISTORY_RANGES, eventInScope, historyWindow, silenceTarget, subjectOfKey, undelivered } from "../alarmhistory.js";

const REFRESH_MS = 5000;
const LIMIT = 200;
const DEAD_LIMIT = 100;

/** @param {import("../context.js").Context} ctx @param {HTMLElement} result where an action's answer is said */
export function alarmHistory(ctx, result) {
  const dead = el("p", { id: "alarm-undelivered", className: "undelivered", hidden: true, attrs: { role: "alert" } });
  const silenceTitle = el("h3", { className: "subtitle" });
  const silences = el("ul", { id: "silence-list", className: "alarm-list silences" });
  const historyTitle = el("h3", { className: "subtitle" });
  const ranges = el("div", { className: "tabs alarm-ranges", attrs: { role: "group" } });
  const status = el("p", { id: "alarm-history-status", className: "summary", attrs: { role: "status", "aria-live": "polite" } });
  const resolvedTitle = el("h4");
  const resolved = el("ul", { id: "resolved-list", className: "alarm-list resolved" });
  const eventsTitle = el("h4");
  const events = el("ol", { id: "event-list", className: "events" });
  const history = el("div", { className: "alarm-history" }, historyTitle, ranges, status, resolvedTitle, resolved, eventsTitle, events);
  /** @type {any} the answer shown, with its window (`range`, `start`) */
  let data = null;
  /** @type {any[] | null} */
  let deadLetters = null;
  /** @type {string} the window asked (its button pressed; `data.range` is the one shown) */
  let range = ctx.state.alarmRange;
  /** @type {string | null} an unknown window in the page's URL, said until another is chosen */
  let refused = refusedAlarmRange(window.location.search);
  /** @type {string} the newest request's error */
  let failure = "";
  const latest = latestOnly();
  let last = 0;
  let timer = 0;

  async function refresh() {
    last = Date.now();
    const asked = range;
    const w = historyWindow(asked, last);
    const admin = canAdmin(ctx.role);
    let current = true;
    try {
      const answer = latest.run(async (signal) => ({
        alarms: await ctx.api.call("/alarms", { state: "resolved", start: w.start, end: w.end, limit: LIMIT }, { signal }),
        dead: admin ? await ctx.api.call("/notifications", { status: "dead", limit: DEAD_LIMIT }, { signal }) : null,
      }));
      renderStatus();
      const got = await answer;
      current = got.current; // else a newer request owns the panel (and says its own loading)
      if (!got.current) return;
      data = { ...got.value.alarms, start: w.start, range: asked };
      deadLetters = got.value.dead;
      failure = "";
    } catch (e) {
      data = null;
      deadLetters = null;
      failure = e instanceof ApiError && e.status === 403 ? ctx.t("needs_role", "viewer") : /** @type {Error} */ (e).message;
      if (!(e instanceof ApiError)) throw e;
    } finally {
      if (current) render(); // whatever the end, the newest request's end is shown: no "loading…" left behind
    }
  }

  /** Show another window: asked at once, kept in the URL. @param {string} r */
  function choose(r) {
    range = r;
    refused = null;
    ctx.update({ alarmRange: r });
    refresh();
    render();
  }

  /** The active alarms changed: read the history again, at most every REFRESH_MS. */
  function changed() {
    if (timer) return;
    timer = window.setTimeout(() => { timer = 0; refresh(); }, Math.max(0, REFRESH_MS - (Date.now() - last)));
  }

  async function endSilence(/** @type {any} */ s, /** @type {HTMLButtonElement} */ button) {
    button.disabled = true;
    try {
      await ctx.api.call("/silences/" + encodeURIComponent(s.id), undefined, { method: "DELETE" });
      result.dataset.status = "ok";
      result.textContent = ctx.t("silence_ended", silenceTarget(s));
      await refresh();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      result.dataset.status = "error";
      result.textContent = e.status === 403 ? ctx.t("needs_role", "operator") : e.message;
      button.disabled = false;
    }
  }

  /** A subject's name and page: a device, site or district the page knows, else its id. @param {string} id */
  function place(id) {
    const dev = ctx.devices.get(id);
    if (dev) return link(ctx.href({ kind: "device", id }), dev.name ? dev.name + " (" + id + ")" : id);
    const d = ctx.topology && ctx.topology.districts.find((/** @type {any} */ x) => x.id === id);
    if (d) return link(ctx.href({ kind: "district", id }), d.name || id);
    const s = ctx.topology && ctx.topology.districts.flatMap((/** @type {any} */ x) => x.sites).find((/** @type {any} */ x) => x.id === id);
    if (s) return link(ctx.href({ kind: "site", id }), s.name || id);
    return el("span", null, id);
  }

  function silenceItem(/** @type {any} */ s, /** @type {boolean} */ operator) {
    const when = s.active ? ctx.t("until", fmt.shortDateTime(s.end_ms))
      : ctx.t("from_until", fmt.shortDateTime(s.start_ms), fmt.shortDateTime(s.end_ms));
    const li = el("li", { className: "silence-item", dataset: { silence: s.id, active: String(s.active) } },
      el("strong", null, silenceTarget(s)), " — ", s.reason,
      el("div", { className: "facts" }, [when, ctx.t("by", s.created_by)].join(" · ")));
    if (operator) {
      const b = /** @type {HTMLButtonElement} */ (el("button", { type: "button", className: "end-silence" }, ctx.t("end_silence")));
      b.addEventListener("click", () => { endSilence(s, b); });
      li.append(el("div", { className: "controls alarm-actions" }, b));
    }
    return li;
  }

  function resolvedItem(/** @type {any} */ a) {
    const span = ctx.t("from_until", fmt.shortDateTime(a.fired_ms || a.pending_ms), fmt.shortDateTime(a.resolved_ms || a.updated_ms));
    const facts = [ctx.t(a.fired_ms ? "state.resolved" : "state.cleared"), span];
    if (a.acked_ms) facts.push(ctx.t("acked_by", a.acked_by || "?", fmt.shortDateTime(a.acked_ms)));
    return el("li", { className: "alarm", dataset: { alarm: a.id, severity: a.severity, state: "resolved" } },
      el("span", { className: "sev", dataset: { severity: a.severity } }, ICONS[a.severity] + " " + ctx.t("severity." + a.severity)), " ",
      link(ctx.href(alarmRoute(a)), a.subject, { className: "subject" }), " — ", a.summary,
      el("div", { className: "facts" }, facts.join(" · ")));
  }

  function eventItem(/** @type {any} */ e) {
    const subject = e.key.startsWith("silence:") ? null : subjectOfKey(e.key);
    const rule = e.key.startsWith("silence:") ? "" : e.key.slice(0, e.key.length - (subject || "").length - 1);
    return el("li", { dataset: { kind: e.kind } },
      el("time", null, fmt.shortDateTime(e.ts_ms)), " ", el("strong", null, ctx.t("event." + e.kind)), " ",
      subject ? place(subject) : null, rule ? " (" + rule + ")" : "",
      e.by ? " · " + ctx.t("by", e.by) : "", e.detail ? " · " + e.detail : "");
  }

  function renderDead() {
    const s = deadLetters && canAdmin(ctx.role) ? undelivered(deadLetters, data ? data.start : 0, DEAD_LIMIT) : null;
    dead.hidden = !s || !s.count;
    if (!s || !s.latest) { dead.replaceChildren(); return; }
    dead.replaceChildren("⚠ " + ctx.t("undelivered", (s.atLeast ? "≥ " : "") + s.count, ctx.t("range." + (data ? data.range : range))) + " ",
      ctx.t("undelivered_latest", s.latest.channel, fmt.shortDateTime(s.latest.created_ms), s.latest.last_error || "?"));
  }

  /** Loading, the newest request's error, or an unknown window in the URL: said above the lists.
   * "Loading" while the lists are not (yet) the window asked: a reading again of the same window
   * (the active alarms changed, an action) keeps them as they are, quietly. */
  function renderStatus() {
    const busy = latest.busy() && (!data || data.range !== range);
    history.setAttribute("aria-busy", String(busy));
    history.dataset.shown = data ? data.range : "";
    const said = [];
    if (refused !== null) said.push(ctx.t("bad_alarm_range", refused.length > 40 ? refused.slice(0, 40) + "…" : refused, ctx.t("range." + range)));
    if (busy) said.push(ctx.t("loading_history", ctx.t("range." + range)));
    else if (failure) said.push(ctx.t("history_failed", failure));
    status.dataset.status = refused !== null || (!busy && failure) ? "error" : busy ? "loading" : "";
    status.hidden = !said.length;
    status.textContent = said.join(" ");
  }

  function render() {
    silenceTitle.textContent = ctx.t("silences");
    historyTitle.textContent = ctx.t("alarm_history");
    resolvedTitle.textContent = ctx.t("resolved_alarms");
    eventsTitle.textContent = ctx.t("alarm_events");
    ranges.setAttribute("aria-label", ctx.t("alarm_history"));
    ranges.replaceChildren(...Object.keys(HISTORY_RANGES).map((r) => {
      const b = el("button", { type: "button", dataset: { range: r }, attrs: { "aria-pressed": String(r === range) } }, ctx.t("range." + r));
      b.addEventListener("click", () => choose(r));
      return b;
    }));
    renderDead();
    renderStatus();
    if (!data) {
      silences.replaceChildren(el("li", { className: "summary" }, ctx.t("alarms_unknown")));
      resolved.replaceChildren();
      events.replaceChildren();
      return;
    }
    const { places, gateways } = ctx.scopePlaces();
    const operator = canOperate(ctx.role);
    const mineS = data.silences.filter((/** @type {any} */ s) => ctx.route.kind === "city" || places.has(s.subject) || s.subject === null);
    silences.replaceChildren(...(mineS.length ? mineS.map((/** @type {any} */ s) => silenceItem(s, operator))
      : [el("li", { className: "summary" }, ctx.t("no_silences"))]));
    const mineR = data.alarms.filter((/** @type {any} */ a) => a.state === "resolved" && inScope(a, ctx.route, gateways));
    resolved.replaceChildren(...(mineR.length ? mineR.map(resolvedItem) : [el("li", { className: "summary" }, ctx.t("none_in_range"))]));
    const mineE = data.events.filter((/** @type {any} */ e) => eventInScope(e, ctx.route, places));
    const items = mineE.map(eventItem);
    if (data.events.length >= LIMIT) items.push(el("li", { className: "summary" }, ctx.t("newest_only", LIMIT)));
    events.replaceChildren(...(items.length ? items : [el("li", { className: "summary" }, ctx.t("none_in_range"))]));
  }

  ctx.onRender(render);
  refresh();
  return { warning: dead, nodes: [silenceTitle, silences, history], refresh, changed };
}
