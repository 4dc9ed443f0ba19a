// @ts-check
// The history's date pickers: a 24-hour "dd/mm/yyyy hh:mm" text in both languages (a browser's
// datetime-local input follows the browser's locale, 12-hour in English), read and written as
// the local time "2026-11-30T14:30" that the server resolves in Europe/Paris. Pure.

const TEXT = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2})[:h](\d{2}))?\s*$/;
const ISO = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?\s*$/;

/** @param {number} n */
const two = (n) => String(n).padStart(2, "0");

/** A valid calendar day? (a Gregorian check, no time zone involved) */
function validDay(/** @type {number} */ y, /** @type {number} */ m, /** @type {number} */ d) {
  const x = new Date(Date.UTC(y, m - 1, d));
  return x.getUTCFullYear() === y && x.getUTCMonth() === m - 1 && x.getUTCDate() === d;
}

/**
 * "30/11/2026 14:30", "30/11/2026" (midnight), "2026-11-30 14:30" → "2026-11-30T14:30"; null when invalid.
 * @param {string} text
 * @returns {string | null}
 */
export function parseLocal(text) {
  let y, m, d, hh = 0, mm = 0;
  const a = TEXT.exec(text), b = ISO.exec(text);
  if (a) { d = +a[1]; m = +a[2]; y = +a[3]; if (a[4] !== undefined) { hh = +a[4]; mm = +a[5]; } }
  else if (b) { y = +b[1]; m = +b[2]; d = +b[3]; if (b[4] !== undefined) { hh = +b[4]; mm = +b[5]; } }
  else return null;
  if (y < 2000 || y > 2999 || !validDay(y, m, d) || hh > 23 || mm > 59) return null;
  return `${y}-${two(m)}-${two(d)}T${two(hh)}:${two(mm)}`;
}

/** "2026-11-30T14:30" → "30/11/2026 14:30". @param {string} local */
export function formatLocal(local) {
  return `${local.slice(8, 10)}/${local.slice(5, 7)}/${local.slice(0, 4)} ${local.slice(11, 16)}`;
}

/** The API's form of a local time: RFC 9557, resolved by the server. @param {string} local */
export function zoned(local) {
  return local + "[Europe/Paris]";
}
