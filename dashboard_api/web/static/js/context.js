// @ts-check
// What every panel shares: the language and the page's state (kept in the URL), the API, the live
// stream, the topology, the latest values and flows now (from GET /live and the stream).

import { DASHBOARD, label } from "./labels.js";
import { linkTo, pageQuery } from "./urlstate.js";
import { cssVar } from "./dom.js";

/** @typedef {import("./format.js").Lang} Lang */
/** @typedef {import("./urlstate.js").PageState} PageState */
/** @typedef {import("./urlstate.js").Route} Route */
/** @typedef {import("./api.js").Api} Api */
/** @typedef {import("./stream.js").LiveStream} LiveStream */
/**
 * @typedef {object} DeviceRow a device of the topology, with where it sits and what the page saw
 * @property {string} id
 * @property {string} name
 * @property {string} role
 * @property {string | null} source
 * @property {string} status
 * @property {number | null} last_seen_ms
 * @property {number | null} [last_reading_ms]
 * @property {number | null} rated_power_w
 * @property {number | null} capacity_wh
 * @property {string} protocol
 * @property {boolean} [writable] a command may write to it (docs/commands.md)
 * @property {string} site
 * @property {string} siteName
 * @property {string} district
 * @property {string} districtName
 */

export class Context {
  /** @param {Route} route @param {PageState} state @param {Lang} lang @param {Api} api @param {LiveStream} stream */
  constructor(route, state, lang, api, stream) {
    this.route = route;
    this.state = state;
    this.lang = lang;
    this.api = api;
    this.stream = stream;
    /** @type {any} */
    this.topology = null;
    /** @type {Map<string, DeviceRow>} */
    this.devices = new Map();
    /** @type {Map<string, {value: number | null, ts: number, quality: string, unit: string | null}>} "device|quantity" */
    this.latest = new Map();
    /** @type {Map<string, any>} scope → flows now (the server's) */
    this.flows = new Map();
    /** @type {(() => void)[]} called when the language or the theme changes */
    this.renderers = [];
    /** @type {string | null} the key's role (GET /whoami): what the page offers (ack, silence) */
    this.role = null;
    /** @type {{now_ms: number, counts: import("./alarmlist.js").Counts, alarms: any[], truncated?: boolean} | null} the active alarms (the server's) */
    this.alarms = null;
    /** @type {(() => void)[]} called when the alarms change */
    this.alarmListeners = [];
    /** @type {(() => void)[]} called after each change of the page's state (update) */
    this.stateListeners = [];
  }

  /** The active alarms from GET /alarms or the stream's `alarms` event. @param {any} data */
  setAlarms(data) {
    // the stream's first event may be older than the GET the page made at its start: keep the newer
    if (this.alarms && data.now_ms < this.alarms.now_ms) return;
    this.alarms = { now_ms: data.now_ms, counts: data.counts, alarms: data.alarms, truncated: Boolean(data.truncated) };
    this.alarmsChanged();
  }

  alarmsChanged() { this.alarmListeners.forEach((fn) => fn()); }

  /** @param {string} key @param {...(string | number)} args */
  t(key, ...args) { return label(DASHBOARD, this.lang, key, args); }

  /** The chart colours of the theme. */
  colours() {
    return { fg: cssVar("--fg"), muted: cssVar("--muted"), line: cssVar("--line"), panel: cssVar("--panel") };
  }

  /** The href of another page, keeping language, kiosk mode, theme and refresh (urlstate.js linkTo). @param {Route} route */
  href(route) { return linkTo(route, this.state, window.location.search); }

  /** Change the page's state and write it into the URL (no reload, no new history entry): the
   * parameters it tracks are rewritten, the others and the fragment kept. @param {Partial<PageState>} patch */
  update(patch) {
    Object.assign(this.state, patch);
    const { pathname, search, hash } = window.location;
    window.history.replaceState(null, "", pathname + pageQuery(this.state, search) + hash);
    this.stateListeners.forEach((fn) => fn());
  }

  /** @param {() => void} fn */
  onRender(fn) { this.renderers.push(fn); fn(); }

  rerender() { this.renderers.forEach((fn) => fn()); }

  /** Load the topology into `devices` (keeping the newest readings the page saw). @param {any} topo */
  loadTopology(topo) {
    const seen = new Map();
    this.devices.forEach((d, id) => seen.set(id, d.last_reading_ms));
    this.topology = topo;
    this.devices.clear();
    topo.districts.forEach((/** @type {any} */ d) => d.sites.forEach((/** @type {any} */ s) => s.devices.forEach((/** @type {any} */ dev) => {
      this.devices.set(dev.id, {
        ...dev, site: s.id, siteName: s.name || s.id, district: d.id, districtName: d.name || d.id,
        last_reading_ms: seen.get(dev.id) || null,
      });
    })));
  }

  /** A latest value from /live or the stream. @param {any} v */
  applyReading(v) {
    const k = v.device + "|" + v.quantity;
    const old = this.latest.get(k);
    if (!old || old.ts <= v.ts) this.latest.set(k, { value: v.value, ts: v.ts, quality: v.quality, unit: v.unit });
    const dev = this.devices.get(v.device);
    if (dev && v.quality === "good" && v.value !== null && (dev.last_reading_ms || 0) < v.ts) dev.last_reading_ms = v.ts;
  }

  /** @param {any[]} list flows now of every scope */
  applyFlows(list) { list.forEach((f) => this.flows.set(f.scope, f)); }

  /** The places of the page's scope: itself, its devices, their sites, districts and gateways (the
   * history's events, the silences and the gateways' alarms belong to the page by them). */
  scopePlaces() {
    const devices = this.scopeDevices();
    /** @type {Set<string>} */
    const gateways = new Set();
    (this.topology ? this.topology.districts : []).forEach((/** @type {any} */ d) => d.sites.forEach((/** @type {any} */ s) => {
      if (devices.some((dev) => dev.site === s.id)) gateways.add(s.gateway);
    }));
    const places = new Set([...gateways, ...devices.flatMap((d) => [d.id, d.site, d.district])]);
    if (this.route.id) places.add(this.route.id);
    return { places, gateways };
  }

  /** The devices of the page's scope (every device for the city). */
  scopeDevices() {
    const r = this.route;
    return [...this.devices.values()].filter((d) => r.kind === "city" || (r.kind === "district" && d.district === r.id)
      || (r.kind === "site" && d.site === r.id) || (r.kind === "device" && d.id === r.id));
  }
}
