// @ts-check
// The staff pages: build a scenario and compare it with today, follow the road to 2050, download
// the monthly reports. Every number comes from the API; this module only wires the page.
import { ApiError, download, getJson, postJson, readKey, saveKey } from "./api.js";
import { ratio, energy } from "./format.js";
import { staffLabel as t } from "../js/labels.js";
import { flagLines } from "./flags.js";
import { groupByMonth } from "./reports.js";
import { FIELDS, assumptionLines, batteryLines, bodyFrom, comparisonRows, hydroOf, scopeOptions, sitesOf, sizingLine } from "./scenario.js";
import { paceLine, separators, traces, yearRows } from "./trajectory.js";

/** @typedef {import("./format.js").Lang} Lang */
/** @typedef {import("./scenario.js").Change} Change */

/** @type {{lang: Lang, topo: import("./scenario.js").Topology | null, names: Record<string, string>, changes: Change[], lastAnswer: any, lastTrajectory: any}} */
const state = { lang: "fr", topo: null, names: {}, changes: [], lastAnswer: null, lastTrajectory: null };
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} key @param {Record<string, string>} [values] */
const tr = (key, values) => t(state.lang, key, values);

/** @param {HTMLElement} el @param {string} tag @param {string} text @param {string} [cls] */
function add(el, tag, text, cls) {
  const child = document.createElement(tag);
  child.textContent = text;
  if (cls) child.className = cls;
  el.append(child);
  return child;
}

/** @param {HTMLElement} table @param {string[]} header @param {string[][]} rows @param {string[][]} [classes] */
function fillTable(table, header, rows, classes) {
  table.replaceChildren();
  const head = document.createElement("tr");
  header.forEach((h, i) => add(head, "th", h, i > 0 ? "num" : ""));
  table.append(head);
  rows.forEach((row, r) => {
    const line = document.createElement("tr");
    row.forEach((cell, i) => add(line, "td", cell, [i > 0 ? "num" : "", classes?.[r]?.[i] || ""].join(" ").trim()));
    table.append(line);
  });
}

function translate() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach((el) => {
    el.textContent = tr(/** @type {string} */ (/** @type {HTMLElement} */ (el).dataset.t));
  });
  $("lang").textContent = state.lang === "fr" ? "EN" : "FR";
}

/** @param {HTMLSelectElement} select @param {{value: string, label: string}[]} options */
function setOptions(select, options) {
  const keep = select.value;
  select.replaceChildren(...options.map((o) => new Option(o.label, o.value)));
  if (options.some((o) => o.value === keep)) select.value = keep;
}

// ------------------------------------------------------------------ scenario builder
function scope() {
  return /** @type {HTMLSelectElement} */ ($("sc-scope")).value;
}

function renderChanges() {
  const box = $("sc-changes");
  box.replaceChildren();
  if (!state.topo) return;
  const sites = sitesOf(state.topo, scope()).map((s) => ({ value: s.id, label: s.name }));
  const plants = hydroOf(state.topo, scope()).map((d) => ({ value: d.id, label: d.name }));
  state.changes.forEach((c, i) => {
    const row = document.createElement("div");
    row.className = "change";
    row.dataset.kind = c.kind;
    add(row, "span", tr(`change.${c.kind}`), "kind");
    const select = document.createElement("select");
    setOptions(select, c.kind === "hydro" ? plants : sites);
    const chosen = c.kind === "hydro" ? c.device : c.site;
    if (chosen) select.value = chosen;
    if (c.kind === "hydro") c.device = select.value;
    else c.site = select.value;
    select.addEventListener("change", () => (c.kind === "hydro" ? (c.device = select.value) : (c.site = select.value)));
    row.append(select);
    for (const field of Object.keys(FIELDS[c.kind])) {
      const label = document.createElement("label");
      add(label, "span", tr(field));
      const input = document.createElement("input");
      input.name = field;
      input.value = c.values[field];
      input.addEventListener("input", () => (c.values[field] = input.value));
      label.append(input);
      row.append(label);
    }
    const remove = add(row, "button", tr("remove"));
    remove.setAttribute("type", "button");
    remove.addEventListener("click", () => {
      state.changes.splice(i, 1);
      renderChanges();
    });
    box.append(row);
  });
  setOptions(/** @type {HTMLSelectElement} */ ($("sz-site")), sites);
}

/** @param {any} answer */
function renderAnswer(answer) {
  state.lastAnswer = answer;
  const lang = state.lang;
  $("sc-result").hidden = false;
  const warning = $("sc-warning");
  warning.hidden = answer.complete;
  warning.textContent = answer.complete ? "" : tr("incomplete", { coverage: ratio(answer.coverage, lang) });
  const rows = comparisonRows(answer.comparison, lang);
  fillTable($("sc-table"), [tr("metric"), tr("today"), tr("scenario"), tr("change")],
    rows.map((r) => [r.label, r.before, r.after, r.change]), rows.map((r) => ["", "", "", r.direction]));
  const districts = answer.districts.flatMap((/** @type {any} */ d) =>
    comparisonRows(d.comparison.filter((/** @type {any} */ c) => c.metric === "self_sufficiency" || c.metric === "import_wh"), lang)
      .map((r) => [`${d.name} — ${r.label}`, r.before, r.after, r.change]));
  fillTable($("sc-districts"), [tr("metric"), tr("today"), tr("scenario"), tr("change")], districts);
  $("sc-districts").hidden = districts.length === 0;
  $("sc-districts-title").hidden = districts.length === 0;
  $("sc-exported").textContent = tr("exported", { value: energy(answer.exported_surplus_wh, lang) });
  const batteries = $("sc-batteries");
  batteries.replaceChildren();
  batteryLines(answer.batteries, state.names, lang).forEach((line) => add(batteries, "li", line));
  $("sc-sizing").textContent = sizingLine(answer.sizing, lang);
  const assumptions = $("sc-assumptions");
  assumptions.replaceChildren();
  assumptionLines(answer.assumptions, state.names, lang).forEach((line) => add(assumptions, "li", line));
  const flags = $("sc-flags");
  flags.replaceChildren();
  flagLines(answer.flags, state.names, lang).forEach((line) => add(flags, "li", line));
  $("sc-flags-title").hidden = answer.flags.length === 0;
  const shown = answer.comparison.filter((/** @type {any} */ c) => c.metric === "self_sufficiency" || c.metric === "self_consumption" || c.metric === "time_autonomy");
  const Plotly = /** @type {any} */ (window).Plotly;
  Plotly.react($("sc-chart"), [
    { type: "bar", name: tr("today"), x: shown.map((/** @type {any} */ c) => tr(c.metric)), y: shown.map((/** @type {any} */ c) => 100 * (c.before ?? NaN)), marker: { color: "#999999" } },
    { type: "bar", name: tr("scenario"), x: shown.map((/** @type {any} */ c) => tr(c.metric)), y: shown.map((/** @type {any} */ c) => 100 * (c.after ?? NaN)), marker: { color: "#009E73" } },
  ], { barmode: "group", separators: separators(lang), yaxis: { range: [0, 100], ticksuffix: lang === "fr" ? "\u202f%" : "%" },
    margin: { t: 30, r: 10, b: 60, l: 50 }, legend: { orientation: "h", y: 1.12 } }, { displayModeBar: false, responsive: true });
}

async function runScenario(/** @type {SubmitEvent} */ ev) {
  ev.preventDefault();
  const status = $("sc-status");
  let body;
  try {
    body = bodyFrom({
      scope: scope(),
      period: /** @type {HTMLInputElement} */ ($("sc-period")).value,
      sharing: /** @type {HTMLInputElement} */ ($("sc-sharing")).checked,
      changes: state.changes,
      sizing: {
        enabled: /** @type {HTMLInputElement} */ ($("sz-on")).checked,
        site: /** @type {HTMLSelectElement} */ ($("sz-site")).value,
        target_pct: /** @type {HTMLInputElement} */ ($("sz-target")).value,
      },
    });
  } catch (e) {
    status.textContent = tr("error", { detail: String(/** @type {Error} */ (e).message) });
    return;
  }
  status.textContent = tr("computing");
  status.dataset.state = "busy";
  try {
    renderAnswer(await postJson("/api/v1/scenarios", body));
    status.textContent = "";
    status.dataset.state = "done";
  } catch (e) {
    status.dataset.state = "error";
    failed(e, status);
  }
}

// ------------------------------------------------------------------ trajectory
async function loadTrajectory() {
  const select = /** @type {HTMLSelectElement} */ ($("tr-scope"));
  try {
    state.lastTrajectory = await getJson(`/api/v1/trajectory?scope=${encodeURIComponent(select.value)}`);
  } catch (e) {
    failed(e, $("tr-pace"));
    return;
  }
  renderTrajectory();
}

function renderTrajectory() {
  const data = state.lastTrajectory;
  if (!data) return;
  const lang = state.lang;
  $("tr-pace").textContent = paceLine(data, lang);
  const Plotly = /** @type {any} */ (window).Plotly;
  Plotly.react($("tr-chart"), traces(data, lang), {
    separators: separators(lang),
    yaxis: { range: [0, 100], ticksuffix: lang === "fr" ? "\u202f%" : "%", title: { text: tr("self_sufficiency") } },
    xaxis: { type: "date", range: ["2025-07-01", "2051-01-01"] },
    margin: { t: 30, r: 10, b: 40, l: 60 }, legend: { orientation: "h", y: 1.1 }, bargap: 0.1,
  }, { displayModeBar: false, responsive: true });
  fillTable($("tr-years"), [tr("year"), tr("self_sufficiency"), tr("trajectory.target"), tr("coverage")], yearRows(data, lang));
  const flags = $("tr-flags");
  flags.replaceChildren();
  for (const y of data.years) {
    for (const line of flagLines(y.flags, state.names, lang)) add(flags, "li", `${y.label} — ${line}`);
  }
  $("tr-chart").dataset.ready = "1";
}

// ------------------------------------------------------------------ scheduled reports
async function loadReports() {
  const table = $("rp-table");
  let list;
  try {
    list = (await getJson("/api/v1/reports/scheduled")).reports;
  } catch (e) {
    failed(e, $("rp-status"));
    return;
  }
  table.replaceChildren();
  if (!list.length) {
    $("rp-status").textContent = tr("reports.none");
    return;
  }
  const head = document.createElement("tr");
  [tr("reports.month"), tr("scope"), tr("reports.files")].forEach((h) => add(head, "th", h));
  table.append(head);
  for (const month of groupByMonth(list, state.names, state.lang)) {
    month.scopes.forEach((s, i) => {
      const row = document.createElement("tr");
      add(row, "td", i === 0 ? month.label : "");
      add(row, "td", s.name);
      const cell = document.createElement("td");
      for (const f of s.files) {
        const a = document.createElement("a");
        a.href = f.url;
        a.textContent = f.label;
        a.addEventListener("click", async (ev) => {
          ev.preventDefault();
          await download(f.url, f.name);
          $("rp-status").textContent = tr("reports.downloaded", { name: f.name });
        });
        cell.append(a);
      }
      row.append(cell);
      table.append(row);
    });
  }
  $("rp-status").textContent = "";
}

// ------------------------------------------------------------------ page
function showTab() {
  const tab = (location.hash || "#scenario").slice(1);
  document.querySelectorAll(".tab").forEach((s) => ((/** @type {HTMLElement} */ (s)).hidden = s.id !== tab));
  document.querySelectorAll("#tabs a").forEach((a) => (a.getAttribute("data-tab") === tab ? a.setAttribute("aria-current", "page") : a.removeAttribute("aria-current")));
  if (tab === "trajectory" && !state.lastTrajectory) loadTrajectory();
  if (tab === "reports") loadReports();
}

/**
 * Say what went wrong; a key that is refused (401) or lacks the staff role (403) is asked again.
 * @param {unknown} e
 * @param {HTMLElement} where
 */
function failed(e, where) {
  where.textContent = tr("error", { detail: e instanceof Error ? e.message : String(e) });
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) askKey();
}

function askKey() {
  $("key-form").hidden = false;
  $("key-error").textContent = tr("key_refused");
}

async function start() {
  state.lang = localStorage.getItem("va.lang") === "en" ? "en" : "fr";
  translate();
  const key = readKey();
  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    saveKey(/** @type {HTMLInputElement} */ ($("key-input")).value.trim());
    location.reload();
  });
  if (!key) {
    $("key-form").hidden = false;
    return;
  }
  try {
    state.topo = await getJson("/api/v1/topology");
  } catch (e) {
    askKey();
    return;
  }
  const topo = /** @type {import("./scenario.js").Topology} */ (state.topo);
  state.names = { city: topo.name };
  for (const d of topo.districts) {
    state.names[`district:${d.id}`] = d.name;
    state.names[d.id] = d.name;
    for (const s of d.sites) {
      state.names[s.id] = s.name;
      for (const dev of s.devices) state.names[dev.id] = dev.name;
    }
  }
  const refreshScopes = () => {
    setOptions(/** @type {HTMLSelectElement} */ ($("sc-scope")), scopeOptions(topo, state.lang));
    setOptions(/** @type {HTMLSelectElement} */ ($("tr-scope")), scopeOptions(topo, state.lang).filter((o) => !o.value.startsWith("site:")));
  };
  refreshScopes();
  $("sc-scope").addEventListener("change", renderChanges);
  $("tr-scope").addEventListener("change", loadTrajectory);
  document.querySelectorAll("[data-add]").forEach((b) =>
    b.addEventListener("click", () => {
      const kind = /** @type {Change["kind"]} */ (/** @type {HTMLElement} */ (b).dataset.add);
      state.changes.push({ kind, values: { ...FIELDS[kind] } });
      renderChanges();
    }));
  $("scenario-form").addEventListener("submit", runScenario);
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "fr" ? "en" : "fr";
    localStorage.setItem("va.lang", state.lang);
    translate();
    refreshScopes();
    renderChanges();
    if (state.lastAnswer) renderAnswer(state.lastAnswer);
    renderTrajectory();
    if (location.hash === "#reports") loadReports();
  });
  window.addEventListener("hashchange", showTab);
  renderChanges();
  showTab();
  document.body.dataset.ready = "1";
}

start();
