// node --test: the one label module of the dashboard and the staff pages
// (dashboard_api/web/static/js/labels.js): both languages everywhere, the placeholders, and every
// key the pages' HTML names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DASHBOARD, STAFF, label, staffLabel, untranslated } from "../../../dashboard_api/web/static/js/labels.js";

const STATIC = new URL("../../../dashboard_api/web/static/", import.meta.url);

test("every word of both pages exists in French and English", () => {
  assert.deepEqual(untranslated(DASHBOARD), []);
  assert.deepEqual(untranslated(STAFF), []);
  // the words both pages share are one entry
  assert.equal(DASHBOARD.key_save, STAFF.key_save);
  assert.equal(label(STAFF, "en", "city"), label(DASHBOARD, "en", "city"));
});

test("positional and named placeholders; a missing value or key shows as itself", () => {
  assert.equal(label(DASHBOARD, "fr", "needs_role", ["operator"]), "Cette clé d'API n'a pas le rôle nécessaire pour cette vue (operator).");
  assert.equal(label(DASHBOARD, "en", "health_summary", [3, 1, 4]), "3 online, 1 silent or offline, of 4");
  assert.equal(label(DASHBOARD, "en", "from_until", ["a"]), "from a to {1}");
  assert.equal(staffLabel("fr", "reports.downloaded", { name: "x.pdf" }), "Téléchargé : x.pdf");
  assert.equal(staffLabel("en", "cycles", { cycles: "12" }), "12 equivalent full cycles a year, {discharge} delivered over the period");
  assert.equal(label(DASHBOARD, "en", "no.such.key"), "no.such.key");
  assert.equal(label(DASHBOARD, "en", "toString"), "toString"); // not an Object.prototype member
});

test("every key the pages' HTML names has words", () => {
  const dash = readFileSync(new URL("index.html", STATIC), "utf8");
  const staff = readFileSync(new URL("staff/index.html", STATIC), "utf8");
  const named = (html, attr) => [...html.matchAll(new RegExp(attr + '="([^"]+)"', "g"))].map((m) => m[1]);
  assert.ok(named(dash, "data-i18n").length > 0);
  assert.ok(named(staff, "data-t").length > 10);
  for (const k of named(dash, "data-i18n")) assert.ok(k in DASHBOARD, k);
  for (const k of named(staff, "data-t")) assert.ok(k in STAFF, k);
});
