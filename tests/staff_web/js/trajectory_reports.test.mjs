import { test } from "node:test";
import assert from "node:assert/strict";
import { paceLine, traces, yearDate, yearRows } from "../../../dashboard_api/web/static/staff/trajectory.js";
import { groupByMonth, monthLabel } from "../../../dashboard_api/web/static/staff/reports.js";

const DATA = {
  scope: "city", scope_name: "Amiens",
  months: [{ label: "2026-10", self_sufficiency: 0.42, generation_wh: 1, avoided_co2_kg: 1, coverage: 0.95, target: 0.3 },
           { label: "2026-11", self_sufficiency: null, generation_wh: null, avoided_co2_kg: null, coverage: 0, target: 0.31 }],
  years: [{ label: "2026", self_sufficiency: 0.42, generation_wh: 1, avoided_co2_kg: 1, coverage: 0.2, target: 0.3 }],
  path: [{ year: 2026, self_sufficiency: 0.42 }, { year: 2031, self_sufficiency: 0.5 }],
  targets: [{ year: 2030, self_sufficiency: 0.5 }],
  measured_pace_per_year: null, required_pace_per_year: 0.016, next_target: { year: 2030, self_sufficiency: 0.5 },
};

test("trajectory traces: monthly bars with gaps, yearly points, the target path", () => {
  const [monthly, yearly, target] = traces(DATA, "fr");
  assert.deepEqual(monthly.y, [42, null]);  // a month without data is a gap, never 0
  assert.deepEqual(monthly.x, ["2026-10-15", "2026-11-15"]);
  assert.deepEqual(yearly.y, [42]);
  assert.deepEqual(target.x, ["2026-01-01", "2031-01-01"]);
  assert.equal(yearDate(2026.5), "2026-07-02");
  assert.equal(paceLine(DATA, "fr"), "Rythme mesuré : n. d. par an. Rythme nécessaire pour 50\u202f% en 2030 : +1,6 points par an.");
  assert.equal(paceLine({ ...DATA, targets: [] }, "en"), "No target configured for this scope (targets: in the configuration).");
  assert.deepEqual(yearRows(DATA, "en"), [["2026", "42.0%", "30.0%", "20%"]]);
});

test("stored reports grouped by month, the city first, the page's language first", () => {
  const list = [
    { month: "2026-10", scope: "district:saint-leu", lang: "fr", fmt: "pdf", name: "a", size: 120_000, url: "/u/a" },
    { month: "2026-11", scope: "district:saint-leu", lang: "en", fmt: "pdf", name: "b", size: 120_000, url: "/u/b" },
    { month: "2026-11", scope: "district:saint-leu", lang: "fr", fmt: "xlsx", name: "c", size: 2_000_000, url: "/u/c" },
    { month: "2026-11", scope: "city", lang: "fr", fmt: "pdf", name: "d", size: 99_000, url: "/u/d" },
  ];
  const groups = groupByMonth(list, { "district:saint-leu": "Saint-Leu", city: "Amiens Métropole" }, "fr");
  assert.deepEqual(groups.map((g) => g.label), ["novembre 2026", "octobre 2026"]);
  assert.deepEqual(groups[0].scopes.map((s) => s.name), ["Amiens Métropole", "Saint-Leu"]);
  assert.deepEqual(groups[0].scopes[1].files.map((f) => f.label), ["XLSX FR · 2,0\u202fMo", "PDF EN · 120\u202fko"]);
  assert.equal(monthLabel("2026-03", "en"), "March 2026");
});
