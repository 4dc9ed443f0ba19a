import { test } from "node:test";
import assert from "node:assert/strict";
import { defaults, linkTo, parseRoute, parseState, refusedAlarmRange, refusedParams, routePath, scopeOf, stateQuery } from "../../../dashboard_api/web/static/js/urlstate.js";
import { formatLocal, parseLocal, zoned } from "../../../dashboard_api/web/static/js/pickers.js";
import { byUrgency, deviceState } from "../../../dashboard_api/web/static/js/health.js";
import { batterySetpoint } from "../../../dashboard_api/web/static/js/setpoint.js";

test("routes and their scopes", () => {
  assert.deepEqual(parseRoute("/"), { kind: "city", id: null });
  assert.deepEqual(parseRoute("/sites/iko-hydro"), { kind: "site", id: "iko-hydro" });
  assert.deepEqual(parseRoute("/devices/slh-battery/"), { kind: "device", id: "slh-battery" });
  assert.equal(parseRoute("/static/x.js"), null);
  assert.equal(scopeOf({ kind: "district", id: "saint-leu" }), "district:saint-leu");
  assert.equal(scopeOf({ kind: "device", id: "x" }), null);
  assert.equal(routePath({ kind: "site", id: "a b" }), "/sites/a%20b");
});

test("the page's state round-trips through its URL, defaults left out", () => {
  assert.equal(stateQuery(defaults()), "");
  const s = parseState("?lang=en&period=month&date=2026-11-15&range=custom&from=2026-11-01T00:00&to=2026-11-02T12:30&kiosk=1&theme=dark");
  assert.equal(s.lang, "en");
  assert.equal(s.period, "month");
  assert.equal(s.range, "custom");
  assert.equal(parseState(stateQuery(s)).to, "2026-11-02T12:30");
  assert.deepEqual(parseState(stateQuery(s)), s);
  // junk is ignored, never trusted
  const junk = parseState("?period=decade&date=tomorrow&range=custom&from=x&theme=pink");
  assert.deepEqual([junk.period, junk.date, junk.range, junk.theme], ["day", null, "today", "light"]);
  // the alarm history's window: kept when known; an unknown one is named (the page says it) and dropped
  assert.equal(parseState("?alarm_range=30d").alarmRange, "30d");
  assert.equal(stateQuery({ ...defaults(), alarmRange: "7d" }), "?alarm_range=7d");
  assert.equal(stateQuery({ ...defaults(), alarmRange: "24h" }), "");
  assert.equal(refusedAlarmRange("?alarm_range=30d"), null);
  assert.equal(refusedAlarmRange("?lang=en"), null);
  for (const bad of ["3w", "", "constructor", "24H"]) {
    assert.equal(refusedAlarmRange("?alarm_range=" + bad), bad);
    assert.equal(parseState("?alarm_range=" + bad).alarmRange, "24h");
  }
  // a link to another page keeps the language, kiosk mode and theme only
  assert.equal(linkTo({ kind: "site", id: "campus" }, s), "/sites/campus?lang=en&kiosk=1&theme=dark");
});

test("24-hour local date pickers in both languages", () => {
  assert.equal(parseLocal("30/11/2026 14:30"), "2026-11-30T14:30");
  assert.equal(parseLocal("1/2/2026"), "2026-02-01T00:00");
  assert.equal(parseLocal("2026-11-30 07:05"), "2026-11-30T07:05");
  assert.equal(parseLocal("31/11/2026 10:00"), null); // no 31 November
  assert.equal(parseLocal("29/02/2027 10:00"), null);
  assert.equal(parseLocal("30/11/2026 24:00"), null);
  assert.equal(parseLocal("12/01/2026 2:30 PM"), null);
  assert.equal(formatLocal("2026-11-30T14:30"), "30/11/2026 14:30");
  assert.equal(zoned("2026-10-25T02:30"), "2026-10-25T02:30[Europe/Paris]");
});

test("device states: the gateway's word first, then the readings' age", () => {
  const now = 1_800_000_000_000;
  assert.equal(deviceState({ id: "a", status: "offline", last_reading_ms: now }, now).state, "offline");
  assert.equal(deviceState({ id: "a", status: "online", last_reading_ms: now - 600000 }, now).state, "silent");
  assert.equal(deviceState({ id: "a", status: "unknown" }, now).state, "unknown");
  assert.equal(deviceState({ id: "a", status: "online", last_seen_ms: now - 1000 }, now).state, "online");
  const rows = [{ state: "online", id: "b" }, { state: "offline", id: "z" }, { state: "silent", id: "a" }];
  assert.deepEqual(rows.sort(byUrgency).map((r) => r.id), ["z", "a", "b"]);
});

test("the battery setpoint helper writes the window of docs/commands.md", () => {
  // a 40 kW charge on the 100 kW Hub Énergie battery, reverting after 10 minutes
  assert.deepEqual(batterySetpoint(-40, 100000, 600), [
    { point: "InWRte", value: 40 }, { point: "OutWRte", value: -40 },
    { point: "InOutWRte_RvrtTms", value: 600 }, { point: "StorCtl_Mod", value: 3 },
  ]);
  assert.deepEqual(batterySetpoint(25, 100000, 0).slice(0, 2), [{ point: "InWRte", value: -25 }, { point: "OutWRte", value: 25 }]);
  assert.equal(batterySetpoint(-500, 100000, 0)[0].value, 100); // capped at the rating
  assert.throws(() => batterySetpoint(10, 0, 0), RangeError);
});


test("the tracked parameters the page could not take are named, in the address's order", () => {
  assert.deepEqual(refusedParams(""), []);
  assert.deepEqual(refusedParams("?lang=en&period=month&date=2026-11-15&range=7d&kiosk=1&theme=dark&refresh=abc&q=x"), []);
  assert.deepEqual(refusedParams("?range=custom&from=2026-11-01T00:00&to=2026-11-02T12:30&kiosk=0"), []);
  assert.deepEqual(refusedParams("?theme=pink&period=decade&lang=de&date=tomorrow&kiosk=yes"), [
    ["theme", "pink"], ["period", "decade"], ["lang", "de"], ["date", "tomorrow"], ["kiosk", "yes"],
  ]);
  // a custom range needs both ends: without them it is refused as well as the bad end
  assert.deepEqual(refusedParams("?range=custom&from=2026-11-01T00:00&to=later"), [["range", "custom"], ["to", "later"]]);
  assert.deepEqual(refusedParams("?range=custom"), [["range", "custom"]]);
  // what is refused is what parseState left at its default
  const s = parseState("?theme=pink&period=decade&range=custom");
  assert.deepEqual([s.theme, s.period, s.range], ["light", "day", "today"]);
  // the alarm window has its own message; untracked parameters are not the page's to judge
  assert.deepEqual(refusedParams("?alarm_range=3w&tag=x&constructor=1&__proto__=1"), []);
});
