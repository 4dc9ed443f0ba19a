// node --test: the alarm panel's pure functions (dashboard_api/web/static/js/alarmhistory.js) and
// the gateway's devices (alarmlist.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HISTORY_RANGES, eventInScope, historyWindow, parseDuration, silenceTarget, subjectOfKey, undelivered,
} from "../../../dashboard_api/web/static/js/alarmhistory.js";
import { alarmRoute, canAdmin, gatewayDevices, inScope } from "../../../dashboard_api/web/static/js/alarmlist.js";
import { duration } from "../../../dashboard_api/web/static/js/format.js";

const H = 3600;

test("a typed silence duration: hours and minutes, days, decimal commas; nonsense and > 90 days refused", () => {
  assert.equal(parseDuration("2h30"), 2 * H + 30 * 60);
  assert.equal(parseDuration(" 2 h 30 min "), 2 * H + 30 * 60);
  assert.equal(parseDuration("45 min"), 45 * 60);
  assert.equal(parseDuration("45m"), 45 * 60);
  assert.equal(parseDuration("1,5 h"), 1.5 * H);
  assert.equal(parseDuration("1.5h"), 1.5 * H);
  assert.equal(parseDuration("3j"), 3 * 24 * H);
  assert.equal(parseDuration("3d"), 3 * 24 * H);
  assert.equal(parseDuration("6"), 6 * H);
  assert.equal(parseDuration("1j12h"), 36 * H);
  assert.equal(parseDuration("90j"), 90 * 24 * H);
  for (const bad of ["", "0", "0h", "abc", "2x", "h", "91j", "-1h", "2h30x", "30min5"]) assert.equal(parseDuration(bad), null, bad);
});

test("durations in words", () => {
  assert.equal(duration(45 * 60, "fr"), "45 min");
  assert.equal(duration(4 * H, "fr"), "4 h");
  assert.equal(duration(2 * H + 30 * 60, "en"), "2 h 30 min");
  assert.equal(duration(3 * 24 * H, "fr"), "3 j");
  assert.equal(duration(3 * 24 * H, "en"), "3 d");
  assert.equal(duration(24 * H, "en"), "1 d");
});

test("the history's window ends now; an unknown range is 24 h", () => {
  assert.deepEqual(Object.keys(HISTORY_RANGES), ["24h", "7d", "30d"]);
  assert.deepEqual(historyWindow("7d", 1_000_000_000_000), { start: 1_000_000_000_000 - 7 * 24 * H * 1000, end: 1_000_000_000_000 });
  assert.deepEqual(historyWindow("x", 100 * 24 * H * 1000), { start: 99 * 24 * H * 1000, end: 100 * 24 * H * 1000 });
});

test("an event belongs to the pages of its subject's places; a silence's to the city", () => {
  const e = (key) => ({ ts_ms: 1, kind: "firing", key, alarm_id: "a", by: "", detail: "" });
  assert.equal(subjectOfKey("device-silent:iko-turbine"), "iko-turbine");
  assert.equal(subjectOfKey("city"), "city");
  const places = new Set(["hub", "hub-meter", "gw-b"]);
  const site = { kind: "site", id: "hub" };
  assert.equal(eventInScope(e("device-silent:hub-meter"), site, places), true);
  assert.equal(eventInScope(e("gateway-offline:gw-b"), site, places), true);
  assert.equal(eventInScope(e("device-silent:other"), site, places), false);
  assert.equal(eventInScope(e("silence:abc"), site, places), false);
  assert.equal(eventInScope(e("silence:abc"), { kind: "city", id: null }, new Set()), true);
});

test("undelivered notifications of the window, newest first; a full page says there may be more", () => {
  const d = (created_ms, status = "dead") => ({ channel: "webhook", created_ms, last_error: "HTTP 500", status });
  assert.deepEqual(undelivered([d(30), d(20), d(5)], 10, 100), { count: 2, atLeast: false, latest: d(30) });
  assert.deepEqual(undelivered([], 10, 100), { count: 0, atLeast: false, latest: null });
  assert.deepEqual(undelivered([d(30), d(20)], 10, 2), { count: 2, atLeast: true, latest: d(30) });
  assert.deepEqual(undelivered([d(30), d(5)], 10, 2), { count: 1, atLeast: false, latest: d(30) });
  assert.equal(undelivered([d(30, "delivered")], 10, 100).count, 0);
  assert.deepEqual(["viewer", "operator", "staff", "admin", null].map(canAdmin), [false, false, false, true, false]);
});

test("a gateway's alarm: its district's page, the devices it reads, the pages it serves", () => {
  const topo = { districts: [
    { id: "south", sites: [
      { id: "hub", gateway: "gw-b", devices: [{ id: "hub-meter", name: "Hub meter" }, { id: "hub-pv" }] },
      { id: "park", gateway: "gw-c", devices: [{ id: "park-meter" }] },
    ] },
    { id: "north", sites: [{ id: "mill", gateway: "gw-b", devices: [{ id: "mill-hydro", name: "Mill" }] }] },
  ] };
  assert.deepEqual(gatewayDevices(topo, "gw-b").map((d) => d.id), ["hub-meter", "hub-pv", "mill-hydro"]);
  assert.equal(gatewayDevices(topo, "gw-b")[1].name, "hub-pv");
  assert.deepEqual(gatewayDevices(topo, "gw-x"), []);
  const base = { rule: "gateway-offline", severity: "critical", state: "firing", summary: "", fired_ms: 1, pending_ms: 0,
    acked_by: null, acked_ms: null, silenced_by: null };
  const two = { ...base, id: "g", subject: "gw-b", scope: "gateway", labels: { gateway: "gw-b" } };
  const one = { ...base, id: "h", subject: "gw-c", scope: "gateway", labels: { gateway: "gw-c", district: "south" } };
  assert.deepEqual(alarmRoute(two), { kind: "city", id: null });
  assert.deepEqual(alarmRoute(one), { kind: "district", id: "south" });
  assert.equal(inScope(two, { kind: "site", id: "mill" }, new Set(["gw-b"])), true);
  assert.equal(inScope(two, { kind: "site", id: "park" }, new Set(["gw-c"])), false);
  assert.equal(inScope(two, { kind: "site", id: "mill" }), false);
  assert.equal(inScope(one, { kind: "district", id: "south" }, new Set()), true);
});

test("a silence in words", () => {
  assert.equal(silenceTarget({ rule: "battery-low", subject: "slh-battery" }), "battery-low · slh-battery");
  assert.equal(silenceTarget({ rule: null, subject: "hub" }), "hub");
});
