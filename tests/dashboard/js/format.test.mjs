// Unit tests of the dashboard's pure modules (node --test; run by tests/dashboard/test_js_units.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fmt from "../../../dashboard_api/web/static/js/format.js";

const NNBSP = "\u202f"; // Intl's French thousands separator

test("powers choose W, kW or MW and the language's decimal mark", () => {
  assert.equal(fmt.power(30000, "fr"), "30,0 kW");
  assert.equal(fmt.power(30000, "en"), "30.0 kW");
  assert.equal(fmt.power(1860000, "fr"), "1,86 MW");
  assert.equal(fmt.power(-450, "en"), "-450 W");
  assert.equal(fmt.power(null, "fr"), "–");
  assert.equal(fmt.power(NaN, "fr"), "–"); // missing is never zero
});

test("energies in kWh and MWh", () => {
  assert.equal(fmt.energy(730700, "fr"), "730,7 kWh");
  assert.equal(fmt.energy(1234567, "en"), "1.23 MWh");
  assert.equal(fmt.energy(1234567890, "fr"), "1,23 GWh");
  assert.equal(fmt.energy(undefined, "en"), "–");
  assert.equal(fmt.number(1234.5, 1, "fr"), "1" + NNBSP + "234,5");
});

test("ratios, changes and points", () => {
  assert.equal(fmt.percent(0.714, "fr"), "71,4 %");
  assert.equal(fmt.percent(null, "fr"), "–");
  assert.equal(fmt.change(0.1234, "fr"), "+12 %");
  assert.equal(fmt.change(-0.05, "en"), "−5 %");
  assert.equal(fmt.change(0, "en"), "±0 %");
  assert.equal(fmt.points(0.032, "fr"), "+3,2 pts");
});

test("dates in French: 1 déc., not 12-01", () => {
  assert.equal(fmt.dayLabel("2026-12-01", "fr"), "1 déc.");
  assert.equal(fmt.dayLabel("2026-12-01", "en"), "1 Dec");
  assert.equal(fmt.dayLabel("2026-11-30", "fr", "long"), "lundi 30 novembre 2026");
  assert.equal(fmt.monthLabel("2026-02", "fr"), "févr.");
  assert.equal(fmt.monthLabel("2026-02", "fr", true), "février 2026");
  assert.equal(fmt.periodTitle("week", "2026-11-23", "fr"), "semaine du 23 novembre 2026");
  assert.equal(fmt.periodTitle("year", "2026-01-01", "en"), "2026");
  assert.equal(fmt.barLabel("2026-11-30T14:00", "day", "fr"), "14:00");
  assert.equal(fmt.barLabel("2026-11", "year", "fr"), "nov.");
  assert.equal(fmt.barLabel("2026-11-30", "week", "fr"), "lun. 30");
  assert.deepEqual(fmt.monthNames("fr", "short").slice(0, 3), ["janv.", "févr.", "mars"]);
  assert.equal(fmt.dayNames("fr")[0], "dimanche");
});

test("instants shown in Paris time, 24-hour clock", () => {
  const summer = Date.UTC(2026, 6, 14, 12, 30); // 14:30 CEST
  const winter = Date.UTC(2026, 11, 1, 12, 30); // 13:30 CET
  assert.equal(fmt.localIso(summer), "2026-07-14 14:30:00");
  assert.equal(fmt.localIso(winter), "2026-12-01 13:30:00");
  assert.equal(fmt.shortDateTime(winter), "01/12 13:30");
  assert.equal(fmt.age(5000, "fr"), "5 s");
  assert.equal(fmt.age(3 * 86400000, "fr"), "3 j");
  assert.equal(fmt.age(3 * 86400000, "en"), "3 d");
});
