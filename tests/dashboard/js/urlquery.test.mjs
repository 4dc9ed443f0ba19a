import { test } from "node:test";
import assert from "node:assert/strict";
import { defaults, linkTo, pageQuery, parseState, TRACKED, withoutSecrets } from "../../../dashboard_api/web/static/js/urlstate.js";

const withState = (/** @type {object} */ patch) => ({ ...defaults(), ...patch });

test("a change of state rewrites the page's parameters and keeps every other one as written", () => {
  // the tracked ones where the first of them stood, in the page's order; the others in their place
  assert.equal(pageQuery(withState({ lang: "en", alarmRange: "7d" }), "?refresh=30&alarm_range=30d&lang=fr&x=a%20b"),
    "?refresh=30&lang=en&alarm_range=7d&x=a%20b");
  // none tracked in the address: the state's at the end
  assert.equal(pageQuery(withState({ theme: "dark" }), "?refresh=5&tag=wall+2"), "?refresh=5&tag=wall+2&theme=dark");
  // back to the defaults: the page's parameters go, the others stay
  assert.equal(pageQuery(defaults(), "?period=month&refresh=5"), "?refresh=5");
  assert.equal(pageQuery(defaults(), ""), "");
  assert.equal(pageQuery(withState({ q: "soc" }), "?"), "?q=soc");
  // an unreadable value of a tracked parameter is the page's to drop; an unknown name is not
  assert.equal(pageQuery(parseState("?period=decade&periode=month"), "?period=decade&periode=month"), "?periode=month");
  // a repeated or encoded tracked name is one parameter of the page
  assert.equal(pageQuery(withState({ lang: "en" }), "?lang=fr&refresh=9&%6Cang=fr"), "?lang=en&refresh=9");
});

test("an API key is never written back into the address", () => {
  assert.equal(pageQuery(withState({ lang: "en" }), "?key=va_secret&refresh=30"), "?refresh=30&lang=en");
  assert.equal(pageQuery(defaults(), "?api_key=va_secret&k%65y=va_secret"), "");
});

test("every parameter the state reads is one pageQuery rewrites", () => {
  const all = "?lang=en&period=month&date=2026-11-15&range=custom&from=2026-11-01T00:00&to=2026-11-02T12:30&q=soc&alarm_range=7d&kiosk=1&theme=dark";
  assert.deepEqual([...new URLSearchParams(all).keys()].sort(), [...TRACKED].sort());
  // a state read from an address writes that address back (":" encoded), whatever else it holds
  const back = pageQuery(parseState(all), "?refresh=2&" + all.slice(1));
  assert.deepEqual([...new URLSearchParams(back)], [["refresh", "2"], ...new URLSearchParams(all)]);
});

test("a link to another page carries the screen's settings only, never a key", () => {
  const s = parseState("?lang=en&period=month&kiosk=1&theme=dark&alarm_range=30d");
  assert.equal(linkTo({ kind: "site", id: "campus" }, s, "?refresh=30&period=month&utm=x&key=va_secret"),
    "/sites/campus?lang=en&kiosk=1&theme=dark&refresh=30");
  assert.equal(linkTo({ kind: "city", id: null }, defaults(), "?utm=x"), "/");
  assert.equal(linkTo({ kind: "city", id: null }, defaults()), "/");
});

test("the key taken out of an address leaves the rest as written", () => {
  assert.equal(withoutSecrets("?refresh=30&key=va_secret&tag=mur%20nord&lang=en"), "?refresh=30&tag=mur%20nord&lang=en");
  assert.equal(withoutSecrets("?api_key=a&key=b"), "");
  assert.equal(withoutSecrets(""), "");
});
