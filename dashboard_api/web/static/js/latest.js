// @ts-check
// Only the newest request counts: a panel whose query changes while an answer is on its way (the
// alarm history's window clicked twice) must not show an older answer that arrives last. Each call
// aborts the previous one's signal; an answer or error of a call that a newer one superseded (one
// that arrived before the abort could stop it) is dropped. Pure: no DOM, no fetch.

/**
 * @template T
 * @typedef {{current: true, value: T} | {current: false}} Outcome
 */

export function latestOnly() {
  let seq = 0;
  /** @type {AbortController | null} the newest call's, until it settles */
  let running = null;

  /**
   * Run `load` as the newest call. Resolves {current: false} when a newer call superseded it
   * (whatever `load` answered or threw); else `load`'s value, or throws its error.
   * @template T @param {(signal: AbortSignal) => Promise<T>} load @returns {Promise<Outcome<T>>}
   */
  async function run(load) {
    if (running) running.abort();
    const mine = ++seq;
    const controller = new AbortController();
    running = controller;
    try {
      const value = await load(controller.signal);
      return mine === seq ? { current: true, value } : { current: false };
    } catch (e) {
      if (mine !== seq) return { current: false };
      throw e;
    } finally {
      // only the newest call's end ends the wait: a superseded one cannot clear it, nor leave it set
      if (mine === seq) running = null;
    }
  }

  /** Is the newest call still waiting for its answer? */
  function busy() { return running !== null; }

  return { run, busy };
}
