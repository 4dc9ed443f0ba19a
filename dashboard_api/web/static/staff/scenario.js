// @ts-check
// The scenario builder's pure parts: the request body from the form's state, and the answer as
// rows to show. The numbers come from the server (POST /api/v1/scenarios): nothing is computed here.
import { ratio, energy, power, number } from "./format.js";
import { direction, show } from "./metrics.js";
import { staffLabel as t } from "../js/labels.js";

/** @typedef {import("./format.js").Lang} Lang */
/**
 * @typedef {{kind: "pv" | "wind" | "storage" | "load" | "hydro", site?: string, device?: string,
 *   values: Record<string, string>}} Change
 * @typedef {{scope: string, period: string, sharing: boolean, changes: Change[],
 *   sizing: {enabled: boolean, site: string, target_pct: string}}} FormState
 * @typedef {{id: string, name: string, source?: string | null, role: string}} Device
 * @typedef {{id: string, name: string, devices: Device[]}} Site
 * @typedef {{id: string, name: string, sites: Site[]}} District
 * @typedef {{name: string, districts: District[]}} Topology
 */

/** The fields of each kind of change, with their defaults. */
export const FIELDS = {
  pv: { added_kwp: "100" },
  wind: { added_kw: "10" },
  storage: { capacity_kwh: "500", power_kw: "250", round_trip_efficiency: "90" },
  load: { change_pct: "-10" },
  hydro: { head_gain_pct: "10", efficiency_gain_pct: "0", design_flow_gain_pct: "0" },
};

/**
 * @param {string} text
 * @param {string} field
 * @returns {number}
 */
function num(text, field) {
  const v = Number(String(text).replace(",", ".").replace(/[\s\u202f]/g, ""));
  if (!Number.isFinite(v)) throw new Error(`${field}: ${text} is not a number`);
  return v;
}

/**
 * The body of POST /api/v1/scenarios from the form's state (percentages become shares where the
 * API takes shares). Throws on a field that is not a number.
 * @param {FormState} state
 * @returns {Record<string, unknown>}
 */
export function bodyFrom(state) {
  /** @type {Record<string, any>} */
  const body = { scope: state.scope, sharing: state.sharing, pv: [], wind: [], storage: [], load: [], hydro: [] };
  if (state.period.trim()) body.period = state.period.trim();
  for (const c of state.changes) {
    const v = c.values;
    if (c.kind === "pv") body.pv.push({ site: c.site, added_kwp: num(v.added_kwp, "added_kwp") });
    else if (c.kind === "wind") body.wind.push({ site: c.site, added_kw: num(v.added_kw, "added_kw") });
    else if (c.kind === "storage")
      body.storage.push({
        site: c.site,
        capacity_kwh: num(v.capacity_kwh, "capacity_kwh"),
        power_kw: num(v.power_kw, "power_kw"),
        round_trip_efficiency: num(v.round_trip_efficiency, "round_trip_efficiency") / 100,
      });
    else if (c.kind === "load") body.load.push({ site: c.site, change_pct: num(v.change_pct, "change_pct") });
    else
      body.hydro.push({
        device: c.device,
        head_gain_pct: num(v.head_gain_pct, "head_gain_pct"),
        efficiency_gain_pct: num(v.efficiency_gain_pct, "efficiency_gain_pct"),
        design_flow_gain_pct: num(v.design_flow_gain_pct, "design_flow_gain_pct"),
      });
  }
  if (state.sizing.enabled) {
    body.sizing = { site: state.sizing.site, target_self_sufficiency: num(state.sizing.target_pct, "target") / 100 };
  }
  return body;
}

/**
 * The scopes to choose from: the city, its districts and their sites.
 * @param {Topology} topo
 * @param {Lang} lang
 * @returns {{value: string, label: string}[]}
 */
export function scopeOptions(topo, lang) {
  const out = [{ value: "city", label: `${t(lang, "city")} — ${topo.name}` }];
  for (const d of topo.districts) {
    out.push({ value: `district:${d.id}`, label: d.name });
    for (const s of d.sites) out.push({ value: `site:${s.id}`, label: `   ${s.name}` });
  }
  return out;
}

/**
 * The sites of a scope.
 * @param {Topology} topo
 * @param {string} scope
 * @returns {Site[]}
 */
export function sitesOf(topo, scope) {
  const [kind, id] = scope.split(":");
  const all = topo.districts.flatMap((d) => d.sites.map((s) => ({ d, s })));
  return all.filter(({ d, s }) => kind === "city" || (kind === "district" && d.id === id) || (kind === "site" && s.id === id)).map(({ s }) => s);
}

/**
 * The hydro plants of a scope.
 * @param {Topology} topo
 * @param {string} scope
 * @returns {Device[]}
 */
export function hydroOf(topo, scope) {
  return sitesOf(topo, scope).flatMap((s) => s.devices.filter((d) => d.source === "hydro"));
}

/**
 * @typedef {{metric: string, before: number | null, after: number | null, change: number | null}} Compared
 * @param {Compared[]} comparison
 * @param {Lang} lang
 * @returns {{metric: string, label: string, before: string, after: string, change: string, direction: string}[]}
 */
export function comparisonRows(comparison, lang) {
  return comparison.map((r) => ({
    metric: r.metric,
    label: t(lang, r.metric),
    before: show(r.metric, r.before, lang),
    after: show(r.metric, r.after, lang),
    change: show(r.metric, r.change, lang, true),
    direction: direction(r.metric, r.change),
  }));
}

/**
 * One sentence per battery added.
 * @param {{capacity_wh: number, power_w: number, cycles_per_year: number | null, discharge_wh: number, site: string}[]} batteries
 * @param {Record<string, string>} names
 * @param {Lang} lang
 * @returns {string[]}
 */
export function batteryLines(batteries, names, lang) {
  return batteries.map((b) => {
    const cycles = b.cycles_per_year === null ? "—" : number(b.cycles_per_year, lang, 0);
    const head = `${names[b.site] || b.site} — ${energy(b.capacity_wh, lang)}, ${power(b.power_w, lang)} : `;
    return head + t(lang, "cycles", { cycles, discharge: energy(b.discharge_wh, lang) });
  });
}

/**
 * @param {{target: number, reachable: boolean, capacity_kwh: number | null, power_kw: number | null,
 *   self_sufficiency: number | null, best_possible: number | null} | null} sizing
 * @param {Lang} lang
 * @returns {string}
 */
export function sizingLine(sizing, lang) {
  if (!sizing) return "";
  const target = ratio(sizing.target, lang, 0);
  if (sizing.reachable && sizing.capacity_kwh === 0) return t(lang, "sizing.met", { target });
  if (sizing.reachable && sizing.capacity_kwh !== null && sizing.power_kw !== null) {
    return t(lang, "sizing.found", {
      target,
      capacity: energy(sizing.capacity_kwh * 1000, lang),
      power: power(sizing.power_kw * 1000, lang),
      reached: ratio(sizing.self_sufficiency, lang),
    });
  }
  return t(lang, "sizing.out", { best: ratio(sizing.best_possible, lang) });
}

/**
 * The scenario's assumptions (pv_modelled:<site>, …) in words, with names.
 * @param {string[]} flags
 * @param {Record<string, string>} names
 * @param {Lang} lang
 * @returns {string[]}
 */
export function assumptionLines(flags, names, lang) {
  return flags.map((f) => {
    const [kind, id] = f.split(":");
    try {
      return t(lang, `assumption.${kind}`, { site: names[id] || id });
    } catch {
      return f;
    }
  });
}
