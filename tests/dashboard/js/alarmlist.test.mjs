// node --test: the pure alarm functions of the dashboard (dashboard_api/web/static/js/alarmlist.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { alarmRoute, canOperate, firingTotal, inScope, ordered, worst } from "../../../dashboard_api/web/static/js/alarmlist.js";

const base = { rule: "r", severity: "warning", state: "firing", summary: "", fired_ms: 1, pending_ms: 0, acked_by: null, acked_ms: null, silenced_by: null };
const dev = { ...base, id: "a", subject: "hub-meter", scope: "device", labels: { device: "hub-meter", site: "hub", district: "south" } };
const gw = { ...base, id: "b", subject: "gw-b", scope: "gateway", labels: { gateway: "gw-b", site: "hub", district: "south" } };
const city = { ...base, id: "c", subject: "city", scope: "city", labels: {} };

test("an alarm links to its device, else its site, district or the city", () => {
  assert.deepEqual(alarmRoute(dev), { kind: "device", id: "hub-meter" });
  assert.deepEqual(alarmRoute(gw), { kind: "site", id: "hub" });
  assert.deepEqual(alarmRoute({ ...base, id: "d", subject: "south", scope: "district", labels: { district: "south" } }), { kind: "district", id: "south" });
  assert.deepEqual(alarmRoute(city), { kind: "city", id: null });
});

test("a page holds the alarms of its scope; the city holds them all", () => {
  assert.equal(inScope(dev, { kind: "district", id: "south" }), true);
  assert.equal(inScope(dev, { kind: "district", id: "north" }), false);
  assert.equal(inScope(dev, { kind: "device", id: "hub-meter" }), true);
  assert.equal(inScope(gw, { kind: "device", id: "hub-meter" }), false);
  assert.equal(inScope(city, { kind: "city", id: null }), true);
});

test("firing first, by severity, newest first", () => {
  const list = [
    { ...dev, id: "p", state: "pending", severity: "critical" },
    { ...dev, id: "w1", fired_ms: 10 },
    { ...dev, id: "c1", severity: "critical", fired_ms: 5 },
    { ...dev, id: "w2", fired_ms: 20 },
  ];
  assert.deepEqual(ordered(list).map((a) => a.id), ["c1", "w2", "w1", "p"]);
});

test("counts: the worst firing level and the total; roles that may act", () => {
  const counts = { firing: { critical: 0, warning: 2, info: 1 }, pending: { critical: 1 }, unacknowledged: 2 };
  assert.equal(worst(counts), "warning");
  assert.equal(firingTotal(counts), 3);
  assert.equal(worst({ firing: {}, pending: {}, unacknowledged: 0 }), null);
  assert.deepEqual(["viewer", "operator", "staff", "admin", null, "x"].map(canOperate), [false, true, true, true, false, false]);
});
