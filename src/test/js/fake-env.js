'use strict';
// A fake browser for jcomet.js: manual clock and timers, scripted fetch, EventSource, WebSocket and <script>.
// Single-threaded like a page; tests drive it step by step and await microtasks with flush().

function fakeEnv() {
  let now = 1_000_000;
  let nextId = 1;
  const timers = new Map(); // id -> {fn, at}
  const requests = [];      // fetch calls, oldest first
  const sources = [];       // EventSource instances
  const sockets = [];       // WebSocket instances
  const scripts = [];       // appended <script> elements
  const global = eventTarget({});
  const navigator = { onLine: true };

  function response(status, body) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return { status, ok: status >= 200 && status < 300, text: async () => text };
  }

  const env = {
    global,
    AbortController,
    navigator,
    random: () => 0.5,
    now: () => now,
    setTimeout(fn, ms) { const id = nextId++; timers.set(id, { fn, at: now + Math.max(0, ms | 0) }); return id; },
    clearTimeout(id) { timers.delete(id); },
    fetch(url, init = {}) {
      return new Promise((resolve, reject) => {
        const req = {
          url: new URL(url, 'http://front.test'),
          rawUrl: url,
          init,
          aborted: false,
          settled: false,
          respond(status, body) { if (!this.settled) { this.settled = true; resolve(response(status, body)); } },
          fail(err) { if (!this.settled) { this.settled = true; reject(err || new TypeError('Failed to fetch')); } },
        };
        if (init.signal) {
          if (init.signal.aborted) { req.aborted = true; req.fail(new Error('AbortError')); }
          init.signal.addEventListener('abort', () => { req.aborted = true; req.fail(new Error('AbortError')); });
        }
        requests.push(req);
      });
    },
    EventSource: class FakeEventSource {
      constructor(url) {
        this.url = new URL(url, 'http://front.test');
        this.closed = false;
        this.readyState = 0; // CONNECTING
        this.onmessage = this.onerror = this.onopen = null;
        sources.push(this);
      }
      close() { this.closed = true; this.readyState = 2; }
      open() { this.readyState = 1; if (this.onopen) this.onopen({}); }
      send(msg, id) { if (!this.closed && this.onmessage) this.onmessage({ data: JSON.stringify(msg), lastEventId: id == null ? '' : String(id) }); }
      /** A network error (the browser would retry: CONNECTING), or with httpError an answer that is not
       *  a 200 event stream (the browser gives up: CLOSED). */
      error(httpError) { this.readyState = httpError ? 2 : 0; if (this.onerror) this.onerror({}); }
    },
    WebSocket: class FakeWebSocket {
      constructor(url) {
        this.url = url;
        this.readyState = 0; // CONNECTING
        this.sent = [];      // frames the client sent, parsed
        this.closeCode = null;
        this.onopen = this.onmessage = this.onerror = this.onclose = null;
        sockets.push(this);
      }
      send(text) {
        if (this.readyState !== 1) throw new Error('InvalidStateError: not open');
        this.sent.push(JSON.parse(text));
      }
      /** The client closed it. */
      close(code) { if (this.readyState < 2) { this.readyState = 3; this.closeCode = code ?? 1005; } }
      get closed() { return this.readyState === 3; }
      /** The handshake succeeded (nothing happens to a socket the client already closed). */
      open() { if (this.readyState !== 0) return; this.readyState = 1; if (this.onopen) this.onopen({}); }
      /** A server frame (an object is sent as its JSON). */
      send_(msg) { if (this.readyState === 1 && this.onmessage) this.onmessage({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) }); }
      /** The handshake failed (403 on Origin, a proxy that does not upgrade, connection refused):
       *  the browser fires error then close, and never open. */
      refuse() { this.readyState = 3; if (this.onerror) this.onerror({}); if (this.onclose) this.onclose({ code: 1006, wasClean: false }); }
      /** The server or the network ended an open socket. */
      drop(code) { this.readyState = 3; if (this.onerror && code === 1006) this.onerror({}); if (this.onclose) this.onclose({ code: code ?? 1006, wasClean: code !== 1006 }); }
      /** Frames sent with op (and cname). */
      frames(op, cname) { return this.sent.filter((f) => f.op === op && (cname === undefined || f.cname === cname)); }
    },
    document: eventTarget({
      visibilityState: 'visible',
      head: {
        appendChild(el) { el.parentNode = this; scripts.push(el); },
        removeChild(el) { el.parentNode = null; el.removed = true; },
      },
      createElement(tag) { return { tag, src: '', parentNode: null, removed: false }; },
      getElementsByTagName() { return [this.head]; },
    }),
  };

  /** Lets pending promise callbacks run. */
  async function flush() {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  }
  /** Moves the clock, firing due timers in time order. */
  async function advance(ms) {
    const end = now + ms;
    for (;;) {
      let first = null;
      for (const [id, t] of timers) if (t.at <= end && (!first || t.at < first[1].at)) first = [id, t];
      if (!first) break;
      timers.delete(first[0]);
      now = first[1].at;
      first[1].fn();
      await flush();
    }
    now = end;
    await flush();
  }
  /** The newest request not yet answered. */
  function pending() {
    const open = requests.filter((r) => !r.settled);
    return open[open.length - 1];
  }

  /** Browser events: 'offline' / 'online' (navigator.onLine follows), page hidden / shown. */
  function goOffline() { navigator.onLine = false; global.dispatch('offline'); }
  function goOnline() { navigator.onLine = true; global.dispatch('online'); }
  function setVisible(v) { env.document.visibilityState = v ? 'visible' : 'hidden'; env.document.dispatch('visibilitychange'); }
  /** Globals a page would see (JSONP callbacks), without the event plumbing. */
  function globals() { return Object.keys(global).filter((k) => !['addEventListener', 'removeEventListener', 'dispatch', 'listenerCount'].includes(k)); }

  return { env, requests, sources, sockets, scripts, timers, flush, advance, pending, global, navigator,
    goOffline, goOnline, setVisible, globals };
}

/** Adds addEventListener/removeEventListener/dispatch to obj (enough for window and document). */
function eventTarget(obj) {
  const listeners = new Map();
  Object.defineProperties(obj, {
    addEventListener: { value(type, fn) { if (!listeners.has(type)) listeners.set(type, new Set()); listeners.get(type).add(fn); } },
    removeEventListener: { value(type, fn) { if (listeners.has(type)) listeners.get(type).delete(fn); } },
    dispatch: { value(type) { for (const fn of [...(listeners.get(type) || [])]) fn({ type }); } },
    listenerCount: { value() { let n = 0; for (const s of listeners.values()) n += s.size; return n; } },
  });
  return obj;
}

module.exports = { fakeEnv, eventTarget };
