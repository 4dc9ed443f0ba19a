// @ts-check
// The push stream (Server-Sent Events): one EventSource, handlers by event name (reading, flows,
// autonomy, and any event the server adds later, such as alarms), the connection state for the
// header's pill, and reconnection after 1, 2, 5, 10 then every 30 s when the browser gives up.
// `close` ends it: the page closes it when it is left (main.js), so that a page kept in the
// browser's back-forward cache holds no connection (a browser opens 6 at most to one server).

export const RECONNECT_MS = [1000, 2000, 5000, 10000, 30000];

export class LiveStream {
  /** @param {() => URL} url @param {(state: "connecting" | "live" | "lost") => void} onState */
  constructor(url, onState) {
    this.url = url;
    this.onState = onState;
    /** @type {Map<string, ((data: any) => void)[]>} */
    this.handlers = new Map();
    /** @type {(() => void)[]} */
    this.onOpen = [];
    /** @type {EventSource | null} */
    this.es = null;
    this.reconnects = 0;
  }

  /** Call `fn` with the parsed data of every `name` event. @param {string} name @param {(data: any) => void} fn */
  on(name, fn) {
    const list = this.handlers.get(name) || [];
    list.push(fn);
    this.handlers.set(name, list);
    if (this.es) this._listen(this.es, name);
    return this;
  }

  connect() {
    if (this.es) this.es.close();
    const es = new EventSource(this.url());
    this.es = es;
    this.onState("connecting");
    es.onopen = () => { this.reconnects = 0; this.onState("live"); this.onOpen.forEach((f) => f()); };
    this.handlers.forEach((_, name) => this._listen(es, name));
    es.onerror = () => {
      // the browser retries by itself while CONNECTING; when it gives up (CLOSED) we reconnect
      this.onState("lost");
      if (es.readyState === EventSource.CLOSED) {
        const delay = RECONNECT_MS[Math.min(this.reconnects, RECONNECT_MS.length - 1)];
        this.reconnects += 1;
        window.setTimeout(() => { if (this.es === es) this.connect(); }, delay);
      }
    };
    // the server ends a stream that fell behind, or when it stops: start again
    es.addEventListener("end", () => { es.close(); this.onState("lost"); window.setTimeout(() => { if (this.es === es) this.connect(); }, 1000); });
  }

  /** Close the stream (no reconnection until the next `connect`). */
  close() {
    if (this.es) this.es.close();
    this.es = null;
  }

  /** @param {EventSource} es @param {string} name */
  _listen(es, name) {
    es.addEventListener(name, (ev) => {
      const data = JSON.parse(/** @type {MessageEvent} */ (ev).data);
      (this.handlers.get(name) || []).forEach((fn) => fn(data));
    });
  }
}
