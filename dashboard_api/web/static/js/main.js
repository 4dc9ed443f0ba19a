// @ts-check
// The dashboard's entry point: reads the page from the path and its state from the URL, the key,
// the topology and the live values, then builds the page (city, district, site or device) and
// keeps it live by push. No data is computed here: every figure is the server's.

import { Api, ApiError, readKey } from "./api.js";
import { Context } from "./context.js";
import { byId, el, link } from "./dom.js";
import * as fmt from "./format.js";
import { LiveStream } from "./stream.js";
import { parseRoute, parseState, refusedParams, scopeOf } from "./urlstate.js";
import { scopePage } from "./pages/scope.js";
import { devicePage } from "./pages/device.js";
import { renderAlarmBar } from "./alarmbar.js";

const LANG_STORE = "va.lang";
const params = new URLSearchParams(window.location.search);
// topology (device health from the gateways) is re-read every ?refresh= seconds (default 10)
const HEALTH_REFRESH_MS = 1000 * (Number(params.get("refresh")) || 10);
const RENDER_MS = 500;

/** The header: title, breadcrumbs, the districts, the stream's state, language (the alarm bell: alarmbar.js). */
function header(/** @type {Context} */ ctx) {
  const crumbs = byId("crumbs");
  const nav = byId("scopes");
  const title = byId("scope-title");
  const r = ctx.route;
  const topo = ctx.topology;
  const dev = r.kind === "device" ? ctx.devices.get(/** @type {string} */ (r.id)) : null;
  const district = topo.districts.find((/** @type {any} */ d) => d.id === (r.kind === "district" ? r.id : dev ? dev.district : null)
    || (r.kind === "site" && d.sites.some((/** @type {any} */ s) => s.id === r.id)));
  const site = district && r.kind !== "district" ? district.sites.find((/** @type {any} */ s) => s.id === (dev ? dev.site : r.id)) : null;
  /** @type {[import("./urlstate.js").Route, string][]} */
  const trail = [[{ kind: "city", id: null }, topo.name || topo.city]];
  if (district) trail.push([{ kind: "district", id: district.id }, district.name || district.id]);
  if (site) trail.push([{ kind: "site", id: site.id }, site.name || site.id]);
  if (dev) trail.push([{ kind: "device", id: dev.id }, dev.name ? dev.name + " (" + dev.id + ")" : dev.id]);
  crumbs.replaceChildren(...trail.map(([route, name], i) => {
    const a = link(ctx.href(route), name);
    if (i === trail.length - 1) a.setAttribute("aria-current", "page");
    return el("li", null, a);
  }));
  const kindLabel = r.kind === "city" ? ctx.t("city") : ctx.t(r.kind);
  title.textContent = kindLabel + " · " + trail[trail.length - 1][1];
  document.title = trail[trail.length - 1][1] + " — " + ctx.t("programme");
  nav.replaceChildren(...topo.districts.map((/** @type {any} */ d) => {
    const a = link(ctx.href({ kind: "district", id: d.id }), d.name || d.id);
    if (district && district.id === d.id) a.setAttribute("aria-current", "true");
    return a;
  }));
}

function chrome(/** @type {Context} */ ctx) {
  document.documentElement.lang = ctx.lang;
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = ctx.t(/** @type {string} */ (/** @type {HTMLElement} */ (n).dataset.i18n)); });
  byId("lang-toggle").textContent = ctx.lang === "fr" ? "EN" : "FR";
  byId("theme-toggle").textContent = ctx.state.theme === "dark" ? "☀" : "☾";
  byId("theme-toggle").title = ctx.t("theme_dark");
  if (ctx.topology) header(ctx);
  renderAlarmBar(ctx);
  streamPill(ctx, byId("stream-status").dataset.state || "connecting");
  urlNotice(ctx);
}

/** What the address asked that the page could not take, named until the page's state changes
 * (the address is then rewritten without it). @param {Context} ctx */
function urlNotice(ctx) {
  const refused = refusedParams(window.location.search);
  const notice = byId("url-notice");
  notice.hidden = refused.length === 0;
  const quoted = (/** @type {string} */ v) => (ctx.lang === "fr" ? "« " + v + " »" : "“" + v + "”");
  const short = (/** @type {string} */ v) => (v.length > 40 ? v.slice(0, 40) + "…" : v);
  notice.textContent = refused.length ? ctx.t("bad_params", refused.map(([k, v]) => k + "=" + quoted(short(v))).join(", ")) : "";
}

/** @param {Context} ctx @param {string} s */
function streamPill(ctx, s) {
  const pill = byId("stream-status");
  pill.dataset.state = s;
  /** @type {HTMLElement} */ (pill.querySelector(".icon")).textContent = { live: "●", connecting: "…", lost: "⚠" }[s] || "…";
  /** @type {HTMLElement} */ (pill.querySelector(".text")).textContent = ctx.t("stream_" + s);
}

function askKey(/** @type {string} */ message) {
  byId("key-prompt").hidden = false;
  byId("key-error").textContent = message;
}

async function start() {
  const route = parseRoute(window.location.pathname) || { kind: "city", id: null };
  const state = parseState(window.location.search);
  const lang = state.lang || /** @type {import("./format.js").Lang} */ (localStorage.getItem(LANG_STORE) === "en" ? "en" : "fr");
  document.body.classList.toggle("kiosk", state.kiosk);
  document.body.dataset.theme = state.theme;
  const key = readKey();
  const api = new Api(key, () => askKey(ctx.t("key_refused")));
  const stream = new LiveStream(() => api.streamUrl(), (s) => streamPill(ctx, s));
  const ctx = new Context(route, state, lang, api, stream);
  ctx.renderers.push(() => chrome(ctx));
  ctx.stateListeners.push(() => urlNotice(ctx));
  chrome(ctx);
  // plotly (3.5 MB) loads beside the page: the figures are drawn once it is there
  if (!(/** @type {any} */ (window).Plotly)) byId("plotly").addEventListener("load", () => ctx.rerender());
  byId("lang-toggle").addEventListener("click", () => {
    ctx.lang = ctx.lang === "fr" ? "en" : "fr";
    localStorage.setItem(LANG_STORE, ctx.lang);
    ctx.update({ lang: ctx.lang });
    ctx.rerender();
  });
  byId("theme-toggle").addEventListener("click", () => {
    ctx.update({ theme: ctx.state.theme === "dark" ? "light" : "dark" });
    document.body.dataset.theme = ctx.state.theme;
    ctx.rerender();
  });
  byId("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    localStorage.setItem("va.apiKey", /** @type {HTMLInputElement} */ (byId("key-input")).value.trim());
    window.location.reload();
  });
  if (!key) { askKey(""); return; }
  ctx.loadTopology(await api.call("/topology"));
  // the key's role decides what the page offers (ack, silence); unknown, it offers nothing
  try { ctx.role = (await api.call("/whoami")).role; } catch (e) { if (!(e instanceof ApiError)) throw e; }
  ctx.alarmListeners.push(() => renderAlarmBar(ctx));
  // the active alarms now (the stream's `alarms` event follows them); a failure leaves the bell unknown
  try { ctx.setAlarms(await api.call("/alarms", { events: false })); } catch (e) { if (!(e instanceof ApiError)) throw e; }
  chrome(ctx);
  const live = await api.call("/live");
  live.values.forEach((/** @type {any} */ v) => ctx.applyReading(v));
  ctx.applyFlows(live.flows);
  const board = byId("board");
  const renderLive = route.kind === "device" ? devicePage(ctx, board) : scopePage(ctx, board);
  // live values arrive up to 4 times a second: the page is redrawn at most every RENDER_MS
  let pending = false;
  let last = 0;
  const schedule = () => {
    if (pending) return;
    pending = true;
    window.setTimeout(() => window.requestAnimationFrame(() => { pending = false; last = Date.now(); renderLive(); }),
      Math.max(0, RENDER_MS - (Date.now() - last)));
  };
  const refreshHealth = async () => {
    try { ctx.loadTopology(await api.call("/topology")); schedule(); } catch (e) { if (!(e instanceof ApiError)) throw e; }
  };
  stream.on("reading", (v) => { ctx.applyReading(v); schedule(); });
  stream.on("flows", (d) => { ctx.applyFlows(d.flows); flowsUpdated(ctx, d); schedule(); });
  stream.on("alarms", (d) => ctx.setAlarms(d));
  stream.onOpen.push(refreshHealth);
  stream.connect();
  // a page left for another (and kept in the back-forward cache) holds no stream: six such pages
  // would take every connection the browser opens to the server, and the next page would wait
  window.addEventListener("pagehide", () => stream.close());
  window.addEventListener("pageshow", (ev) => { if (ev.persisted) stream.connect(); });
  window.setInterval(refreshHealth, HEALTH_REFRESH_MS);
  window.setInterval(schedule, 5000); // ages and silent devices move on without new data
  flowsUpdated(ctx, { now_ms: live.now_ms });
  document.body.dataset.ready = "true";
}

/** The footer's "updated" line, and whether the scope's flows now are partial (naming the devices). */
function flowsUpdated(/** @type {Context} */ ctx, /** @type {any} */ d) {
  const scope = scopeOf(ctx.route);
  const f = scope ? ctx.flows.get(scope) : null;
  const partial = Boolean(f && f.partial);
  document.body.dataset.partial = String(partial);
  byId("updated").textContent = fmt.localIso(d.now_ms || Date.now()) + (partial ? " · ⚠ " + ctx.t("partial_now", f.missing_devices.join(", ")) : "");
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((e) => { if (!(e instanceof ApiError)) throw e; byId("key-error").textContent = e.message; });
});
