// @ts-check
// The API with the staff key: given once in the page's address (?key=, then kept in this browser's
// localStorage, under the same name as the dashboard's: read by the dashboard's readKey, which
// takes it out of the address bar and leaves every other parameter as written) or typed in the key form.

import { KEY_STORE } from "../js/api.js";

export { KEY_STORE, readKey } from "../js/api.js";

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} detail
   */
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** @param {string} key */
export function saveKey(key) {
  localStorage.setItem(KEY_STORE, key);
}

/**
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
async function call(path, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", "Bearer " + (localStorage.getItem(KEY_STORE) || ""));
  const resp = await fetch(path, { ...init, headers });
  if (!resp.ok) {
    let detail = resp.statusText;
    try {
      detail = (await resp.json()).detail || detail;
    } catch {
      /* not JSON */
    }
    throw new ApiError(resp.status, detail);
  }
  return resp;
}

/**
 * @param {string} path
 * @returns {Promise<any>}
 */
export async function getJson(path) {
  return (await call(path, { headers: { Accept: "application/json" } })).json();
}

/**
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<any>}
 */
export async function postJson(path, body) {
  const resp = await call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return resp.json();
}

/**
 * Download a file that needs the key: fetched with it, then saved through a temporary link.
 * @param {string} path
 * @param {string} name
 */
export async function download(path, name) {
  const blob = await (await call(path)).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
