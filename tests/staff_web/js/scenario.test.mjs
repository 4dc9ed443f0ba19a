import { test } from "node:test";
import assert from "node:assert/strict";
import { assumptionLines, bodyFrom, comparisonRows, hydroOf, scopeOptions, sitesOf, sizingLine } from "../../../dashboard_api/web/static/staff/scenario.js";
import { STAFF, staffLabel as t, untranslated } from "../../../dashboard_api/web/static/js/labels.js";

const TOPO = {
  name: "Amiens Métropole",
  districts: [
    { id: "saint-leu", name: "Saint-Leu", sites: [
      { id: "iko-hydro", name: "Centrale IKO", devices: [{ id: "iko-turbine", name: "Turbine", role: "production", source: "hydro" }] },
      { id: "slh", name: "Logements", devices: [] },
    ] },
    { id: "citadelle", name: "Citadelle", sites: [{ id: "campus", name: "Campus", devices: [] }] },
  ],
};

test("the request body from the form: numbers parsed, percentages as shares where the API takes shares", () => {
  const body = bodyFrom({
    scope: "district:saint-leu",
    period: " 2026 ",
    sharing: false,
    changes: [
      { kind: "pv", site: "slh", values: { added_kwp: "120,5" } },
      { kind: "storage", site: "slh", values: { capacity_kwh: "400", power_kw: "200", round_trip_efficiency: "90" } },
      { kind: "load", site: "slh", values: { change_pct: "-10" } },
      { kind: "hydro", device: "iko-turbine", values: { head_gain_pct: "10", efficiency_gain_pct: "0", design_flow_gain_pct: "5" } },
    ],
    sizing: { enabled: true, site: "slh", target_pct: "60" },
  });
  assert.deepEqual(body, {
    scope: "district:saint-leu",
    period: "2026",
    sharing: false,
    pv: [{ site: "slh", added_kwp: 120.5 }],
    wind: [],
    storage: [{ site: "slh", capacity_kwh: 400, power_kw: 200, round_trip_efficiency: 0.9 }],
    load: [{ site: "slh", change_pct: -10 }],
    hydro: [{ device: "iko-turbine", head_gain_pct: 10, efficiency_gain_pct: 0, design_flow_gain_pct: 5 }],
    sizing: { site: "slh", target_self_sufficiency: 0.6 },
  });
  assert.throws(() => bodyFrom({ scope: "city", period: "", sharing: true, changes: [{ kind: "wind", site: "x", values: { added_kw: "beaucoup" } }], sizing: { enabled: false, site: "", target_pct: "" } }), /added_kw/);
  assert.equal("period" in bodyFrom({ scope: "city", period: "", sharing: true, changes: [], sizing: { enabled: false, site: "", target_pct: "" } }), false);
});

test("scopes, sites and plants come from the topology", () => {
  assert.deepEqual(scopeOptions(TOPO, "fr").map((o) => o.value), ["city", "district:saint-leu", "site:iko-hydro", "site:slh", "district:citadelle", "site:campus"]);
  assert.deepEqual(sitesOf(TOPO, "district:saint-leu").map((s) => s.id), ["iko-hydro", "slh"]);
  assert.deepEqual(sitesOf(TOPO, "site:campus").map((s) => s.id), ["campus"]);
  assert.deepEqual(hydroOf(TOPO, "city").map((d) => d.id), ["iko-turbine"]);
  assert.deepEqual(hydroOf(TOPO, "district:citadelle"), []);
});

test("the answer as rows: values, changes and whether a change is good news", () => {
  const rows = comparisonRows([
    { metric: "self_sufficiency", before: 0.4, after: 0.55, change: 0.15 },
    { metric: "import_wh", before: 2e6, after: 1.5e6, change: -5e5 },
    { metric: "export_wh", before: 1e5, after: 3e5, change: 2e5 },
    { metric: "self_consumption", before: null, after: null, change: null },
  ], "fr");
  assert.deepEqual(rows.map((r) => [r.label, r.before, r.after, r.change, r.direction]), [
    ["Taux d'autoproduction", "40,0\u202f%", "55,0\u202f%", "+15,0 points", "better"],
    ["Soutirage réseau", "2,00\u202fMWh", "1,50\u202fMWh", "−500\u202fkWh", "better"],
    ["Injection réseau", "100\u202fkWh", "300\u202fkWh", "+200\u202fkWh", "same"],
    ["Taux d'autoconsommation", "n. d.", "n. d.", "n. d.", "same"],
  ]);
});

test("sizing and assumptions in words", () => {
  assert.equal(sizingLine({ target: 0.6, reachable: true, capacity_kwh: 850, power_kw: 425, self_sufficiency: 0.601, best_possible: 0.8 }, "en"),
    "The smallest battery that reaches 60%: 850 kWh (425.0 kW), giving 60.1%.");
  assert.match(sizingLine({ target: 0.9, reachable: false, capacity_kwh: null, power_kw: null, self_sufficiency: null, best_possible: 0.7 }, "fr"), /n'atteindrait que 70,0/);
  assert.equal(sizingLine(null, "fr"), "");
  assert.deepEqual(assumptionLines(["pv_modelled:slh"], { slh: "Logements" }, "en"), ["Logements has no PV: production modelled (pvlib clear sky, scaled to the city's measured yield)."]);
  // every assumption the scenario engine names (ville_autonome/planning/scenario.py) has its words, with the name
  for (const kind of ["pv_modelled", "wind_profile_from_city", "wind_modelled", "hydro_flow_assumed"]) {
    for (const lang of /** @type {const} */ (["fr", "en"])) {
      const [line] = assumptionLines([`${kind}:slh`], { slh: "Logements" }, lang);
      assert.match(line, /^Logements/, `${kind} (${lang})`);
    }
  }
});

test("every word exists in both languages (the labels shared with the dashboard)", () => {
  assert.deepEqual(untranslated(STAFF), []);
  assert.equal(t("en", "sizing.met", { target: "60 %" }), "The scenario already reaches the 60 % target, without another battery.");
  assert.equal(t("fr", "no-such-key"), "no-such-key"); // a metric the server added since: shown by its name
});
