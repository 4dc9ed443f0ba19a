// The operator dashboard: one page per city (/) and per district (/districts/<id>).
// Reads the API with the operator's key (?key= on first load, then localStorage), live by push
// (EventSource on /api/v1/stream), history with plotly (served from the installed wheel).
"use strict";
(function () {
  const I18N = window.VA_I18N;
  const TZ = "Europe/Paris";
  const KEY_STORE = "va.apiKey";
  const LANG_STORE = "va.lang";
  const SILENT_AFTER_MS = 120000; // a device with no reading for this long is shown as silent
  // topology (device health from the gateways) is re-read every ?refresh= seconds (default 10)
  const HEALTH_REFRESH_MS = 1000 * (Number(new URLSearchParams(window.location.search).get("refresh")) || 10);
  const RECONNECT_MS = [1000, 2000, 5000, 10000, 30000];

  const state = {
    lang: localStorage.getItem(LANG_STORE) || "fr",
    key: null,
    scope: { kind: "city", id: null },
    topology: null,
    devices: new Map(), // id -> {id, name, role, source, capacity_wh, site, district, status, last_seen_ms}
    latest: new Map(), // "device|quantity" -> {value, ts, quality}
    flows: new Map(), // scope -> flows now, computed by the server (GET /live, SSE "flows")
    today: null, // today's autonomy of the scope {self_sufficiency, self_consumption, complete, coverage}
    stream: null,
    streamState: "connecting",
    reconnects: 0,
    history: null,
    denied: new Set(), // API paths this key's role may not read (403): not asked again
  };

  const $ = (id) => document.getElementById(id);
  const t = (key, ...args) => I18N.t(state.lang, key, ...args);

  // ---------------------------------------------------------------- formatting
  function fmtNumber(v, digits) {
    return new Intl.NumberFormat(state.lang === "fr" ? "fr-FR" : "en-GB", {
      maximumFractionDigits: digits, minimumFractionDigits: digits,
    }).format(v);
  }
  function fmtPower(w) {
    if (w === null || w === undefined || !isFinite(w)) return "–";
    const a = Math.abs(w);
    if (a >= 1e6) return fmtNumber(w / 1e6, 2) + " MW";
    if (a >= 1e3) return fmtNumber(w / 1e3, 1) + " kW";
    return fmtNumber(w, 0) + " W";
  }
  function fmtPct(r) {
    return r === null || r === undefined || !isFinite(r) ? "–" : fmtNumber(100 * r, 1) + " %";
  }
  function fmtAge(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) return s + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + (state.lang === "fr" ? " j" : " d");
  }
  const parisFmt = new Intl.DateTimeFormat("sv-SE", {
    timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  function parisIso(ms) { return parisFmt.format(new Date(ms)).replace(",", ""); } // "2026-10-05 14:30:00"
  // local times are resolved by the server (RFC 9557 "…[Europe/Paris]", or a date: Paris midnight)
  function zoned(local) { return local + "[" + TZ + "]"; }
  function parisDate(ms) { return parisIso(ms).slice(0, 10); }

  // ---------------------------------------------------------------- API access
  function readKey() {
    const url = new URL(window.location.href);
    const fromUrl = url.searchParams.get("key");
    if (fromUrl) {
      localStorage.setItem(KEY_STORE, fromUrl);
      url.searchParams.delete("key");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
    return localStorage.getItem(KEY_STORE);
  }
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  async function api(path, params) {
    const url = new URL("/api/v1" + path, window.location.origin);
    Object.entries(params || {}).forEach(([k, v]) => { if (v !== undefined && v !== null) url.searchParams.set(k, v); });
    let resp;
    try {
      resp = await fetch(url, { headers: { Authorization: "Bearer " + state.key, Accept: "application/json" } });
    } catch (e) {
      throw new ApiError(0, "the API does not answer (" + e.message + ")"); // the stream status says so too
    }
    if (resp.status === 401) { askKey(t("key_refused")); throw new ApiError(401, "unauthorized"); }
    if (resp.status === 403) { state.denied.add(path); fillHistoryChoices(); throw new ApiError(403, t("needs_role")); }
    if (!resp.ok) throw new ApiError(resp.status, (await resp.text()).slice(0, 300));
    return resp.json();
  }
  function askKey(message) {
    $("key-prompt").hidden = false;
    $("key-error").textContent = message || "";
  }

  // ---------------------------------------------------------------- scope and topology
  function parseScope() {
    const m = window.location.pathname.match(/^\/districts\/([^/]+)\/?$/);
    return m ? { kind: "district", id: decodeURIComponent(m[1]) } : { kind: "city", id: null };
  }
  function scopeParam() { return state.scope.kind === "city" ? "city" : "district:" + state.scope.id; }
  function inScope(dev) { return state.scope.kind === "city" || dev.district === state.scope.id; }

  function loadTopology(topo) {
    state.topology = topo;
    state.devices.clear();
    topo.districts.forEach((d) => d.sites.forEach((s) => s.devices.forEach((dev) => {
      state.devices.set(dev.id, Object.assign({}, dev, { site: s.id, siteName: s.name || s.id, district: d.id }));
    })));
  }

  function renderChrome() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("lang-toggle").textContent = state.lang === "fr" ? "EN" : "FR";
    const topo = state.topology;
    if (!topo) return;
    let title = topo.name || topo.city;
    if (state.scope.kind === "district") {
      const d = topo.districts.find((x) => x.id === state.scope.id);
      title = d ? t("district") + " · " + (d.name || d.id) : t("not_found");
    }
    $("scope-title").textContent = title;
    document.title = title + " — " + t("programme");
    const nav = $("scopes");
    nav.replaceChildren();
    const links = [{ href: "/", text: t("city") + " · " + (topo.name || topo.city), current: state.scope.kind === "city" }];
    topo.districts.forEach((d) => links.push({
      href: "/districts/" + encodeURIComponent(d.id), text: d.name || d.id, current: state.scope.id === d.id,
    }));
    links.forEach((l) => {
      const a = document.createElement("a");
      a.href = l.href;
      a.textContent = l.text;
      if (l.current) a.setAttribute("aria-current", "page");
      nav.appendChild(a);
    });
    renderStreamState();
  }

  // ---------------------------------------------------------------- live values
  function applyReading(v) {
    const k = v.device + "|" + v.quantity;
    const old = state.latest.get(k);
    if (!old || old.ts <= v.ts) state.latest.set(k, { value: v.value, ts: v.ts, quality: v.quality });
    const dev = state.devices.get(v.device);
    if (dev && v.quality === "good" && v.value !== null && (dev.last_reading_ms || 0) < v.ts) dev.last_reading_ms = v.ts;
  }

  // Flows now of the scope: computed by the server with the engine's rules (no formula here).
  function applyFlows(list) { list.forEach((f) => state.flows.set(f.scope, f)); }
  function hasBattery() {
    let found = false;
    state.devices.forEach((dev) => { if (inScope(dev) && dev.role === "storage") found = true; });
    return found;
  }

  function separators() { return state.lang === "fr" ? ", " : ".,"; } // plotly: decimal then thousands

  function gauge(el, ratio, label) {
    if (!window.Plotly) return;
    const value = ratio === null ? 0 : 100 * ratio;
    window.Plotly.react(el, [{
      type: "indicator", mode: "gauge+number", value,
      number: { suffix: " %", valueformat: ".1f" },
      title: { text: label, font: { size: 14 } },
      gauge: { axis: { range: [0, 100] }, bar: { color: "#0072B2" }, steps: [{ range: [0, 100], color: "#eef2f6" }] },
    }], { margin: { t: 40, b: 10, l: 25, r: 25 }, height: 190, paper_bgcolor: "rgba(0,0,0,0)", separators: separators() },
    { displayModeBar: false, responsive: true, staticPlot: true });
  }

  function renderLive() {
    const f = state.flows.get(scopeParam());
    if (!f) return;
    const battery = hasBattery();
    $("v-generation").textContent = fmtPower(f.generation_w);
    const ul = $("v-sources");
    ul.replaceChildren();
    Object.keys(f.generation_by_source_w).sort().forEach((src) => {
      const li = document.createElement("li");
      li.dataset.source = src;
      li.textContent = t("source." + src) + " : " + fmtPower(f.generation_by_source_w[src]);
      ul.appendChild(li);
    });
    $("v-load").textContent = fmtPower(f.load_w);
    const batteryW = f.discharge_w > 0 ? f.discharge_w : f.charge_w; // the server's flows, one of them is 0
    $("v-battery").textContent = battery ? fmtPower(batteryW) : "–";
    $("v-battery-state").textContent = !battery ? t("no_battery")
      : f.discharge_w > 1 ? "▼ " + t("discharging") : f.charge_w > 1 ? "▲ " + t("charging") : "■ " + t("idle");
    $("v-soc").textContent = f.soc_pct === null ? "–" : fmtNumber(f.soc_pct, 0) + " %";
    $("soc-bar").style.width = (f.soc_pct === null ? 0 : f.soc_pct) + "%";
    $("v-grid").textContent = fmtPower(f.import_w > 0 ? f.import_w : f.export_w);
    $("v-grid-direction").textContent = f.import_w > 1 ? "⬇ " + t("importing") : f.export_w > 1 ? "⬆ " + t("exporting") : "⇆ " + t("balanced");
    $("v-ss-now").textContent = fmtPct(f.self_sufficiency);
    $("v-sc-now").textContent = fmtPct(f.self_consumption);
    gauge($("gauge-ss"), f.self_sufficiency, t("self_sufficiency"));
    gauge($("gauge-sc"), f.self_consumption, t("self_consumption"));
    $("v-battery-hours").textContent = f.battery_hours !== null ? fmtNumber(f.battery_hours, 1) + " h"
      : f.soc_pct !== null && !f.partial && f.load_w <= f.generation_w ? t("surplus") : "–";
    const d = state.today;
    $("v-today-ss").textContent = d ? fmtPct(d.self_sufficiency) : "–";
    $("v-today-sc").textContent = d ? fmtPct(d.self_consumption) : "–";
    $("v-today-coverage").textContent = !d ? "–"
      : (d.coverage !== undefined ? fmtPct(d.coverage) + " " : "") + (d.complete ? "✔" : "⚠ " + t("incomplete"));
    // a scope with a device offline: its figures are partial, and the page names what is missing
    document.body.dataset.partial = String(f.partial);
    $("updated").textContent = parisIso(Date.now()) + (f.partial ? " · ⚠ " + t("incomplete") + " : " + f.missing_devices.join(", ") : "");
  }

  // ---------------------------------------------------------------- device health
  function deviceState(dev, nowMs) {
    // the last good reading decides; the gateway's "last seen" only when no reading is known
    const seen = dev.last_reading_ms || dev.last_seen_ms || 0;
    if (dev.status === "offline") return { state: "offline", seen };
    if (!seen) return { state: dev.status === "online" ? "online" : "unknown", seen };
    if (nowMs - seen > SILENT_AFTER_MS) return { state: "silent", seen };
    return { state: "online", seen };
  }
  const STATE_ICON = { online: "✔", offline: "✖", silent: "⚠", unknown: "?" };
  function qualityProblems(dev) {
    const bad = [];
    state.latest.forEach((v, k) => {
      const [id, qty] = k.split("|");
      if (id === dev.id && v.quality !== "good") bad.push(qty + ": " + v.quality);
    });
    return bad.join(", ");
  }
  function renderHealth() {
    const now = Date.now();
    const rows = [];
    state.devices.forEach((dev) => { if (inScope(dev)) rows.push(Object.assign({ dev }, deviceState(dev, now))); });
    const order = { offline: 0, silent: 1, unknown: 2, online: 3 };
    rows.sort((a, b) => order[a.state] - order[b.state] || a.dev.id.localeCompare(b.dev.id));
    const tbody = document.querySelector("#health-table tbody");
    tbody.replaceChildren();
    let online = 0;
    rows.forEach((r) => {
      if (r.state === "online") online += 1;
      const tr = document.createElement("tr");
      tr.dataset.device = r.dev.id;
      tr.dataset.state = r.state;
      tr.className = "state-" + r.state;
      const cells = [
        STATE_ICON[r.state] + " " + t(r.state),
        r.dev.name ? r.dev.name + " (" + r.dev.id + ")" : r.dev.id,
        r.dev.siteName,
        t("role." + r.dev.role) + (r.dev.source ? " · " + t("source." + r.dev.source) : ""),
        r.seen ? parisIso(r.seen).slice(5, 16) + " (" + t("ago", fmtAge(now - r.seen)) + ")" : t("never"),
        qualityProblems(r.dev),
      ];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i === 0) td.className = "state";
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    $("health-summary").textContent = t("health_summary", online, rows.length - online, rows.length);
  }

  async function refreshHealth() {
    try {
      loadTopologyKeepingLive(await api("/topology"));
      renderHealth();
    } catch (e) { if (!(e instanceof ApiError)) throw e; }
  }
  function loadTopologyKeepingLive(topo) {
    const readings = new Map();
    state.devices.forEach((d, id) => readings.set(id, d.last_reading_ms));
    loadTopology(topo);
    readings.forEach((ms, id) => { const d = state.devices.get(id); if (d && ms) d.last_reading_ms = ms; });
  }

  // ---------------------------------------------------------------- today's autonomy
  async function refreshToday() {
    if (state.denied.has("/autonomy")) return;
    const now = Date.now();
    try {
      const r = await api("/autonomy", { scope: scopeParam(), start: parisDate(now), end: String(now), interval: "15m" });
      state.today = {
        self_sufficiency: r.metrics.self_sufficiency, self_consumption: r.metrics.self_consumption,
        complete: r.complete, coverage: r.coverage.ratio,
      };
      renderLive();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e; // a viewer/operator key may not read /autonomy: the stream's autonomy events stand in
    }
  }
  function applyAutonomyEvent(scopes) {
    // today's autonomy of every district and of the city (what a key that may not read /autonomy sees)
    const d = scopes.find((x) => x.scope === scopeParam());
    if (d) { state.today = Object.assign({}, state.today || {}, d); renderLive(); }
  }

  // ---------------------------------------------------------------- push stream
  function renderStreamState() {
    const el = $("stream-status");
    el.dataset.state = state.streamState;
    el.querySelector(".icon").textContent = { live: "●", connecting: "…", lost: "⚠" }[state.streamState];
    el.querySelector(".text").textContent = t("stream_" + state.streamState);
  }
  function setStreamState(s) { state.streamState = s; renderStreamState(); }

  let renderPending = false;
  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    window.requestAnimationFrame(() => { renderPending = false; renderLive(); renderHealth(); });
  }

  function connectStream() {
    if (state.stream) state.stream.close();
    const url = new URL("/api/v1/stream", window.location.origin);
    url.searchParams.set("api_key", state.key);
    url.searchParams.set("autonomy_every_s", "30");
    const es = new EventSource(url);
    state.stream = es;
    es.onopen = () => { state.reconnects = 0; setStreamState("live"); refreshHealth(); };
    es.addEventListener("reading", (ev) => { applyReading(JSON.parse(ev.data)); scheduleRender(); });
    es.addEventListener("autonomy", (ev) => applyAutonomyEvent(JSON.parse(ev.data)));
    es.addEventListener("flows", (ev) => { applyFlows(JSON.parse(ev.data).flows); scheduleRender(); });
    es.onerror = () => {
      // the browser retries by itself while CONNECTING; when it gives up (CLOSED) we reconnect
      setStreamState("lost");
      if (es.readyState === EventSource.CLOSED) {
        const delay = RECONNECT_MS[Math.min(state.reconnects, RECONNECT_MS.length - 1)];
        state.reconnects += 1;
        window.setTimeout(() => { if (state.stream === es) connectStream(); }, delay);
      }
    };
  }

  // ---------------------------------------------------------------- history
  const METRICS = ["self_sufficiency", "load_wh", "generation_wh", "import_wh"];
  function fillHistoryChoices() {
    const sel = $("h-what");
    const previous = sel.value;
    sel.replaceChildren();
    if (!state.denied.has("/autonomy")) METRICS.forEach((m) => sel.appendChild(new Option(t("metric." + m), "metric:" + m)));
    state.devices.forEach((dev) => {
      if (!inScope(dev) || state.denied.has("/series")) return;
      // power (and state of charge) first, then every other quantity the device has reported
      const qs = ["active_power_w"].concat(dev.role === "storage" ? ["soc_pct"] : []);
      state.latest.forEach((_, k) => {
        const [id, q] = k.split("|");
        if (id === dev.id && !qs.includes(q)) qs.push(q);
      });
      qs.forEach((q) => sel.appendChild(new Option(dev.id + " · " + q, "device:" + dev.id + ":" + q)));
    });
    if (previous && [...sel.options].some((o) => o.value === previous)) sel.value = previous;
    $("history-form").querySelector("button").disabled = sel.options.length === 0;
    if (!$("h-start").value) {
      const now = Date.now();
      $("h-start").value = parisIso(now - 2 * 86400000).slice(0, 16).replace(" ", "T");
      $("h-end").value = parisIso(now).slice(0, 16).replace(" ", "T");
    }
  }
  function missingRuns(xs, present, stepMs) { // [[startMs, endMs], ...] where data is missing
    const runs = [];
    xs.forEach((x, i) => {
      if (present[i]) return;
      const last = runs[runs.length - 1];
      if (last && last[1] === x) last[1] = x + stepMs; else runs.push([x, x + stepMs]);
    });
    return runs;
  }
  async function showHistory(ev) {
    if (ev) ev.preventDefault();
    const what = $("h-what").value;
    if (!what) { $("history-coverage").textContent = t("needs_role"); return; }
    const startZ = zoned($("h-start").value), endZ = zoned($("h-end").value);
    let xs = [], ys = [], present = [], step = 900000, unit = "", name = "";
    if (what.startsWith("metric:")) {
      const metric = what.slice(7);
      const r = await api("/autonomy", { scope: scopeParam(), start: startZ, end: endZ, interval: "15m", series: "true" });
      const s = r.series;
      step = r.interval_s * 1000;
      xs = s.start_ms;
      // an interval without any data has no value (the line breaks); a partial one is shaded
      ys = s[metric].map((v, i) => (v === null || !s.coverage[i] ? null : metric === "self_sufficiency" ? 100 * v : v));
      present = s.coverage.map((c) => c !== null && c >= 1);
      unit = metric === "self_sufficiency" ? "%" : "Wh";
      name = t("metric." + metric);
    } else {
      const [, device, quantity] = what.split(":");
      const probe = await api("/series", { device, quantity, start: startZ, end: endZ, resolution: "1d" });
      const start = probe.start_ms, end = probe.end_ms; // the server resolved the local times
      const span = end - start;
      const resolution = span <= 6 * 3600000 ? "raw" : span <= 7 * 86400000 ? "15m" : "1h";
      const r = await api("/series", { device, quantity, start: String(start), end: String(end), resolution });
      const pts = r.points || (r.series[0] ? r.series[0].points : []);
      unit = r.unit;
      name = device + " · " + quantity;
      step = resolution === "raw" ? medianStep(pts) : { "15m": 900000, "1h": 3600000 }[resolution];
      const byTs = new Map(pts.map((p) => [p.ts, p.value]));
      for (let x = Math.floor(start / step) * step; x < end; x += step) {
        const v = resolution === "raw" ? nearest(pts, x, step) : byTs.get(x);
        xs.push(x); ys.push(v === undefined ? null : v); present.push(v !== undefined && v !== null);
      }
    }
    const runs = missingRuns(xs, present, step);
    const shapes = runs.map(([a, b]) => ({
      type: "rect", xref: "x", yref: "paper", x0: parisIso(a), x1: parisIso(b), y0: 0, y1: 1,
      fillcolor: "#999", opacity: 0.25, line: { width: 0 },
    }));
    const missingShare = xs.length ? present.filter((p) => !p).length / xs.length : 0;
    window.Plotly.react($("history-chart"), [{
      x: xs.map(parisIso), y: ys, type: "scatter", mode: "lines", name, connectgaps: false, line: { width: 1.5, color: "#0072B2" },
    }], {
      margin: { t: 20, r: 20, b: 40, l: 60 }, height: 340, shapes, dragmode: "zoom",
      xaxis: { type: "date", title: { text: t("local_time") } }, yaxis: { title: { text: unit } },
      paper_bgcolor: "rgba(0,0,0,0)", separators: separators(),
    }, { responsive: true, displaylogo: false });
    $("history-coverage").textContent = runs.length ? "▒ " + t("coverage_note", fmtPct(missingShare)) : t("coverage_full");
    $("history-chart").dataset.points = String(xs.length);
    $("history-chart").dataset.missing = String(runs.length);
  }
  function medianStep(pts) {
    const d = [];
    for (let i = 1; i < pts.length; i++) d.push(pts[i].ts - pts[i - 1].ts);
    d.sort((a, b) => a - b);
    return d.length ? Math.max(1000, d[Math.floor(d.length / 2)]) : 60000;
  }
  function nearest(pts, x, step) { // value of the raw point inside [x, x + step)
    const p = pts.find((q) => q.ts >= x && q.ts < x + step);
    return p ? p.value : undefined;
  }

  // ---------------------------------------------------------------- start
  async function start() {
    state.scope = parseScope();
    state.key = readKey();
    renderStreamState();
    $("lang-toggle").addEventListener("click", () => {
      state.lang = state.lang === "fr" ? "en" : "fr";
      localStorage.setItem(LANG_STORE, state.lang);
      renderChrome(); renderLive(); renderHealth(); fillHistoryChoices();
    });
    $("key-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      localStorage.setItem(KEY_STORE, $("key-input").value.trim());
      window.location.reload();
    });
    $("history-form").addEventListener("submit", (ev) => { showHistory(ev).catch(report); });
    renderChrome();
    if (!state.key) { askKey(""); return; }
    loadTopology(await api("/topology"));
    renderChrome();
    const live = await api("/live");
    live.values.forEach(applyReading);
    applyFlows(live.flows);
    renderLive();
    renderHealth();
    fillHistoryChoices();
    connectStream();
    refreshToday();
    window.setInterval(refreshHealth, HEALTH_REFRESH_MS);
    window.setInterval(() => { renderHealth(); }, 5000);
    if (state.scope.kind === "city") window.setInterval(refreshToday, 60000);
    showHistory().catch(report);
    document.body.dataset.ready = "true";
  }
  function report(e) {
    if (!(e instanceof ApiError)) throw e;
    $("history-coverage").textContent = e.message;
    if (e.status === 403 && $("h-what").value) showHistory().catch(report); // the next choice this role may read
  }
  document.addEventListener("DOMContentLoaded", () => { start().catch((e) => { if (!(e instanceof ApiError)) throw e; }); });
})();
