// node --test: only the newest request counts (dashboard_api/web/static/js/latest.js), with
// promises the test settles in the order it chooses: an older answer arriving last is dropped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { latestOnly } from "../../../dashboard_api/web/static/js/latest.js";

/** A load the test answers (or fails) when it wants; it records the signal it was given. */
function held() {
  /** @type {any} */
  const h = { signal: null };
  h.promise = new Promise((resolve, reject) => { h.resolve = resolve; h.reject = reject; });
  h.load = (/** @type {AbortSignal} */ signal) => { h.signal = signal; return h.promise; };
  return h;
}

test("an older answer arriving after the newer one is dropped, and the older call was aborted", async () => {
  const latest = latestOnly();
  const older = held(), newer = held();
  const first = latest.run(older.load);
  assert.equal(latest.busy(), true);
  const second = latest.run(newer.load);
  assert.equal(older.signal.aborted, true);
  assert.equal(newer.signal.aborted, false);
  newer.resolve("30d");
  assert.deepEqual(await second, { current: true, value: "30d" });
  assert.equal(latest.busy(), false);
  older.resolve("7d"); // it ignored its abort: its answer still comes, last
  assert.deepEqual(await first, { current: false });
  assert.equal(latest.busy(), false);
});

test("the wait lasts until the newest call settles, whatever the older ones do", async () => {
  const latest = latestOnly();
  const older = held(), newer = held();
  const first = latest.run(older.load);
  const second = latest.run(newer.load);
  older.reject(new Error("aborted"));
  assert.deepEqual(await first, { current: false });
  assert.equal(latest.busy(), true); // the older call's end does not end the newer one's wait
  newer.reject(new Error("HTTP 500"));
  await assert.rejects(second, /HTTP 500/); // the newest call's error is its caller's
  assert.equal(latest.busy(), false); // and the wait ends with it
});

test("a load that throws at once ends the wait too", async () => {
  const latest = latestOnly();
  await assert.rejects(latest.run(() => { throw new Error("bug"); }), /bug/);
  assert.equal(latest.busy(), false);
});
