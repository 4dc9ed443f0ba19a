import { test } from "node:test";
import assert from "node:assert/strict";
import { co2, energy, na, number, points, ratio, size } from "../../../dashboard_api/web/static/staff/format.js";

const NN = "\u202f";

test("French numbers: narrow no-break space, decimal comma, true minus", () => {
  assert.equal(number(-1234567.891, "fr", 2), `−1${NN}234${NN}567,89`);
  assert.equal(number(1234.5, "en", 1), "1,234.5");
  assert.equal(number(0.04, "fr", 1, true), "±0,0");
  assert.equal(number(3.2, "en", 1, true), "+3.2");
});

test("shares, points, energies, CO2, sizes", () => {
  assert.equal(ratio(0.6234, "fr"), `62,3${NN}%`);
  assert.equal(ratio(0.6234, "en"), "62.3%");
  assert.equal(points(-0.041, "fr"), "−4,1 points");
  assert.equal(energy(45_212_345, "fr"), `45,2${NN}MWh`);
  assert.equal(energy(-1234, "en", true), "−1.23 kWh");
  assert.equal(co2(2400, "fr"), `2,40${NN}t CO₂`);
  assert.equal(size(2_500_000, "fr"), `2,5${NN}Mo`);
});

test("a value that does not exist is n. d., never 0", () => {
  for (const f of [ratio, points, energy, co2]) {
    assert.equal(f(null, "fr"), "n. d.");
    assert.equal(f(undefined, "en"), "n/a");
    assert.equal(f(Number.NaN, "fr"), na("fr"));
  }
});
