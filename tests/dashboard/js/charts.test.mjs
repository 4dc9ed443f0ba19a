import { test } from "node:test";
import assert from "node:assert/strict";
import { energyFigure, gaugeFigure, missingRuns, plotlyLocale, powerFigure, sankeyFigure, partialBar } from "../../../dashboard_api/web/static/js/charts.js";
import { ordered } from "../../../dashboard_api/web/static/js/panels/control.js";
import { DASHBOARD, label } from "../../../dashboard_api/web/static/js/labels.js";

const C = { fg: "#000", muted: "#666", line: "#ddd", panel: "#fff" };
const tr = (/** @type {string} */ k, /** @type {any[]} */ ...a) => label(DASHBOARD, "fr", k, a);

const totals = (load, hydro, imp) => ({
  generation_wh: hydro, generation_by_source_wh: { hydro }, load_wh: load, import_wh: imp, export_wh: 0,
  charge_wh: 0, discharge_wh: 0, local_supply_wh: hydro, grid_supply_wh: imp, self_sufficiency: hydro / load, self_consumption: 1,
});
const bar = (label, tot, extra = {}) => ({ label, future: false, totals: tot, missing_intervals: 0, unbalanced_intervals: 0, intervals: 4, coverage: 1, ...extra });

test("the energy chart stacks production by source and the grid, in kWh, consumption as a line", () => {
  const e = {
    period: "day", bars: [bar("2026-12-01T00:00", totals(40000, 30000, 10000)), bar("2026-12-01T01:00", null, { missing_intervals: 4 }),
      bar("2026-12-01T02:00", totals(20000, 15000, 5000), { missing_intervals: 1 }), bar("2026-12-01T03:00", null, { future: true })],
    previous: { bars: [bar("2026-11-30T00:00", totals(38000, 1, 1))] },
  };
  const fig = energyFigure(e, "fr", tr, C);
  const names = fig.data.map((d) => d.name);
  assert.deepEqual(names, ["Hydraulique", "Soutirage (réseau)", "Injection (réseau)", "Consommation", "Consommation, période précédente"]);
  assert.deepEqual(fig.data[0].y, [30, null, 15, null]); // a bar without data has no bar (never 0)
  assert.deepEqual(fig.data[3].y, [40, null, 20, null]);
  assert.deepEqual(fig.data[0].marker.pattern.shape, ["", "", "/", ""]); // partial bars are hatched
  assert.deepEqual(fig.layout.xaxis.ticktext, ["00:00", "01:00", "02:00", "03:00"]);
  assert.equal(fig.layout.barmode, "relative");
  assert.equal(fig.layout.separators, ", ");
  assert.equal(partialBar(e.bars[3]), false);
});

test("the power chart is in kW with the missing stretches shaded", () => {
  const p = {
    times_ms: [0, 900000, 1800000], end_ms: 2700000, resolution: "interval",
    load_w: [1000, null, 3000], generation_w: [0, null, 500], grid_w: [1000, null, 2500], battery_w: [0, null, 0],
  };
  const fig = powerFigure(p, "en", (k) => k, C);
  assert.deepEqual(fig.data[0].y, [1, null, 3]);
  assert.equal(fig.runs.length, 1);
  assert.deepEqual(missingRuns(p.times_ms, p.load_w, p.end_ms), [[900000, 1800000]]);
  assert.equal(fig.layout.shapes.length, 1);
});

test("gauges say nothing twice and leave room for 100", () => {
  const g = gaugeFigure(0.5, "fr", C);
  assert.equal(g.data[0].mode, "gauge");
  assert.deepEqual(g.data[0].gauge.axis.tickvals, [0, 25, 50, 75, 100]);
  assert.ok(g.layout.margin.l >= 30 && g.layout.margin.r >= 30);
});

test("the flow diagram keeps supplies and uses apart", () => {
  const fig = sankeyFigure([{ source: "grid", target: "load", value: 4000 }, { source: "grid", target: "battery", value: 1000 },
    { source: "battery", target: "load", value: 8000 }, { source: "hydro", target: "grid", value: 0 }], "W", "fr", tr, C);
  const s = fig.data[0];
  assert.deepEqual(s.node.label, ["Soutirage (réseau)", "Décharge batterie", "Consommation", "Charge batterie"]);
  assert.deepEqual(s.link.value, [4, 1, 8]); // kW; an empty link is not drawn
  assert.equal(s.valuesuffix, " kW");
});

test("a flow diagram without any flow says so instead of drawing zero nodes (plotly cannot)", () => {
  const fig = sankeyFigure([{ source: "hydro", target: "load", value: 0 }], "Wh", "fr", tr, C);
  assert.deepEqual(fig.data, []);
  assert.equal(fig.layout.annotations[0].text, "Aucun flux mesuré.");
});

test("plotly's French locale comes from Intl", () => {
  const loc = plotlyLocale("fr");
  assert.equal(loc.format.shortMonths[11], "déc.");
  assert.equal(loc.format.decimal, ",");
});

test("commands write the modes last", () => {
  assert.deepEqual(ordered([{ point: "StorCtl_Mod", value: 3 }, { point: "InWRte", value: 40 }]).map((w) => w.point), ["InWRte", "StorCtl_Mod"]);
});
