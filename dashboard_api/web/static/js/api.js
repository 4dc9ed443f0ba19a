// @ts-check
// The API with the operator's key: ?key= on the first load (then localStorage, out of the address
// bar), "Authorization: Bearer" on every call. A 403 is remembered: the page does not ask again
// and says which role is missing.

import { withoutSecrets } from "./urlstate.js";

export const KEY_STORE = "va.apiKey";

export class ApiError extends Error {
  /** @param {number} status @param {string} message @param {string} [path] */
  constructor(status, message, path) { super(message); this.status = status; this.path = path || ""; }
}

/** Read the key from ?key= or localStorage; a key in the address (`key=`, `api_key=`) is taken
 * out of the address bar, every other parameter left as written. */
export function readKey() {
  const { pathname, search, hash } = window.location;
  const fromUrl = new URLSearchParams(search).get("key");
  if (fromUrl) localStorage.setItem(KEY_STORE, fromUrl);
  const clean = withoutSecrets(search);
  if (clean !== search) window.history.replaceState(null, "", pathname + clean + hash);
  return localStorage.getItem(KEY_STORE);
}

export class Api {
  /** @param {string | null} key @param {(status: number) => void} onRefused called on 401 */
  constructor(key, onRefused) {
    this.key = key;
    this.onRefused = onRefused;
    /** @type {Set<string>} API paths this key's role may not read */
    this.denied = new Set();
  }

  /**
   * @param {string} path "/live", "/energy"…
   * @param {Record<string, string | number | boolean | null | undefined>} [params]
   * @param {{method?: string, body?: unknown, signal?: AbortSignal}} [opts] `signal`: the caller
   *   gave up (a newer request replaced this one): the call rejects with the signal's AbortError
   * @returns {Promise<any>}
   */
  async call(path, params, opts) {
    const url = new URL("/api/v1" + path, window.location.origin);
    Object.entries(params || {}).forEach(([k, v]) => { if (v !== undefined && v !== null) url.searchParams.set(k, String(v)); });
    /** @type {Record<string, string>} */
    const headers = { Authorization: "Bearer " + this.key, Accept: "application/json" };
    if (opts && opts.body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(url, {
        method: (opts && opts.method) || "GET", headers,
        body: opts && opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        signal: opts && opts.signal,
      });
    } catch (e) {
      if (opts && opts.signal && opts.signal.aborted) throw e;
      throw new ApiError(0, "the API does not answer (" + /** @type {Error} */ (e).message + ")", path);
    }
    if (resp.status === 401) { this.onRefused(401); throw new ApiError(401, "unauthorized", path); }
    if (resp.status === 403) { this.denied.add(path); throw new ApiError(403, "forbidden", path); }
    if (!resp.ok) {
      let detail = (await resp.text()).slice(0, 300);
      try { detail = JSON.parse(detail).detail || detail; } catch (_) { /* not JSON: keep the text */ }
      throw new ApiError(resp.status, detail, path);
    }
    return resp.json();
  }

  /** @param {string} path */
  allowed(path) { return !this.denied.has(path); }

  /** The stream's URL (an EventSource cannot send headers: the key goes in the query). */
  streamUrl() {
    const url = new URL("/api/v1/stream", window.location.origin);
    url.searchParams.set("api_key", this.key || "");
    url.searchParams.set("autonomy_every_s", "30");
    return url;
  }
}
