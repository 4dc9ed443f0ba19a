import { test } from "node:test";
import assert from "node:assert/strict";
import { flagLines } from "../../../dashboard_api/web/static/staff/flags.js";

const NAMES = { "slh-meter": "Compteur des logements", "slh": "Logements" };

test("a flag names its device and says what it means, in each language", () => {
  assert.deepEqual(flagLines(["missing_data:slh-meter"], NAMES, "en"), [
    "Compteur des logements: sent no data for part of the period: its energy is missing there (the coverage measures it).",
  ]);
  const [fr] = flagLines(["grid_derived:slh"], NAMES, "fr");
  assert.equal(fr, "Logements\u202f: pas de compteur réseau : soutirage et injection déduits du bilan du site.");
});

test("a flag of the whole scope names the scope; an id without a name stays the id; an unknown kind is shown as sent", () => {
  assert.match(flagLines(["below_coverage_threshold"], NAMES, "en")[0], /^Scope: less than the threshold/);
  assert.match(flagLines(["implausible_jump:pv-x"], NAMES, "en")[0], /^pv-x: a reading rose faster/);
  assert.deepEqual(flagLines(["something_new:pv-x"], NAMES, "en"), ["something_new:pv-x"]);
});
