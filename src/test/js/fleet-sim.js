'use strict';
// A fleet of real jcomet.js Subscriptions (long-poll) against a simulated jcomet server, on one
// simulated clock. Used by fleet.test.js to check how 100,000 clients behave when their server
// stops gracefully or crashes: how many requests land in each 100 ms slot, when each client is
// back on the new server, and how often they knock while it is down.
//
// The server model follows docs/PROTOCOL.md: seq=0 or a stale epoch -> next_seq at once; seq ==
// next -> held until polling_timeout (noop); a graceful stop answers every held poll with
// `reconnect` and retry_ms = the window the real Broker computes from the held count; a crash drops
// every connection. While down, every request fails at once (connection refused).
const J = require('../../../webapp/js/jcomet.js');

function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Min-heap of timers ordered by (at, id). */
class TimerHeap {
  constructor() { this.a = []; }
  push(e) {
    const a = this.a; a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p], a[i])) break;
      [a[p], a[i]] = [a[i], a[p]]; i = p;
    }
  }
  peek() { return this.a[0]; }
  pop() {
    const a = this.a, top = a[0], last = a.pop();
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]]; i = m;
      }
    }
    return top;
  }
}
function less(x, y) { return x.at < y.at || (x.at === y.at && x.id < y.id); }

/** Lets promise chains run: every chain in the client and this server is far shorter than 40 hops
 *  (a macrotask per slice would cost more than the whole simulation). */
async function drain() { for (let i = 0; i < 40; i++) await null; }

/** Node's AbortController builds a DOMException with a stack on every abort: too slow for 10^6 requests. */
class CheapAbortController {
  constructor() {
    const listeners = [];
    this.signal = { aborted: false, addEventListener: (type, fn) => listeners.push(fn) };
    this.abort = () => { if (!this.signal.aborted) { this.signal.aborted = true; for (const fn of listeners) fn(); } };
  }
}

/** The Broker's graceful-stop window (Broker.reconnectWindowMillis): held / 5000 per second, 2 s..60 s. */
function reconnectWindowMillis(held) {
  return Math.max(2000, Math.min(60000, Math.floor(held * 1000 / 5000)));
}

/**
 * Runs one scenario. opts: {clients, event: 'graceful'|'crash', eventAt, downMs, endAt, pollingTimeoutMs, seed}
 * Returns {requests: Float64Array of times, live: Uint8Array (1 = reached a live server), back: Float64Array
 * (time each client was first held by the new server, NaN if never), windowMs, eventAt, upAt}.
 */
async function simulate(opts) {
  const N = opts.clients;
  const pollingTimeoutMs = opts.pollingTimeoutMs || 30000;
  let now = 0, nextId = 1;
  const heap = new TimerHeap();
  const timers = new Map();
  const random = mulberry32(opts.seed || 1);
  let up = true, epoch = 'E1', nextEpoch = 2;
  const held = new Map(); // request id -> {resolve, reject, timer, client}
  const reqTimes = [], reqLive = [], reqClient = [];
  const back = new Float64Array(N).fill(NaN);
  let windowMs = 0, upAt = NaN;

  function setT(fn, ms) {
    const e = { at: now + Math.max(0, ms | 0), id: nextId++, fn, dead: false };
    timers.set(e.id, e); heap.push(e);
    return e.id;
  }
  function clearT(id) { const e = timers.get(id); if (e) { e.dead = true; timers.delete(id); } }
  const respond = (body) => ({ status: 200, ok: true, text: () => Promise.resolve(JSON.stringify(body)) });

  function fetch(url, init) {
    const qs = url.slice(url.indexOf('?') + 1);
    const p = {};
    for (const kv of qs.split('&')) { const i = kv.indexOf('='); p[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); }
    const client = +p.cname.slice(1);
    reqTimes.push(now); reqLive.push(up ? 1 : 0); reqClient.push(client);
    if (!up) return Promise.reject(new TypeError('Failed to fetch'));
    const seq = +p.seq;
    if (seq === 0 || (p.epoch && p.epoch !== epoch)) {
      return Promise.resolve(respond({ type: 'next_seq', cname: p.cname, seq: 1, epoch }));
    }
    if (epoch !== 'E1' && Number.isNaN(back[client])) back[client] = now;
    return new Promise((resolve, reject) => {
      const id = nextId++;
      const h = { resolve, reject, client };
      h.timer = setT(() => { held.delete(id); resolve(respond({ type: 'noop', cname: p.cname, seq: +p.noop, epoch })); }, pollingTimeoutMs);
      held.set(id, h);
      if (init && init.signal) {
        init.signal.addEventListener('abort', () => {
          if (held.delete(id)) { clearT(h.timer); reject(new Error('AbortError')); }
        });
      }
    });
  }

  const env = {
    fetch, AbortController: CheapAbortController, EventSource: null, document: null, navigator: null, global: {},
    setTimeout: setT, clearTimeout: clearT, now: () => now, random,
  };
  const subs = [];
  for (let i = 0; i < N; i++) {
    subs.push(new J.Subscription({ env, url: 'http://sim', channel: 'c' + i, transport: 'poll', ping: false, subTimeout: pollingTimeoutMs / 1000 }));
  }
  // clients arrive over the first 10 s (page loads), then settle into long-polls
  for (let i = 0; i < N; i++) setT(() => subs[i].start(), random() * 10000);

  setT(() => {
    const hs = [...held.values()];
    held.clear();
    if (opts.event === 'graceful') {
      windowMs = reconnectWindowMillis(hs.length);
      for (const h of hs) { clearT(h.timer); h.resolve(respond({ type: 'reconnect', cname: 'c' + h.client, seq: 0, retry_ms: windowMs })); }
    } else {
      for (const h of hs) { clearT(h.timer); h.reject(new TypeError('connection reset')); }
    }
    up = false;
  }, opts.eventAt);
  setT(() => { up = true; upAt = now; epoch = 'E' + nextEpoch++; }, opts.eventAt + opts.downMs);

  // run in 10 ms slices: due timers fire in time order, then promise callbacks run
  while (heap.peek() && heap.peek().at <= opts.endAt) {
    const sliceEnd = Math.min(opts.endAt, heap.peek().at + 10);
    while (heap.peek() && heap.peek().at <= sliceEnd) {
      const e = heap.pop();
      if (e.dead) continue;
      timers.delete(e.id);
      now = e.at;
      e.fn();
    }
    await drain();
  }
  for (const s of subs) s.stop();
  return { requests: Float64Array.from(reqTimes), live: Uint8Array.from(reqLive), clients: Int32Array.from(reqClient), back, windowMs, eventAt: opts.eventAt, upAt };
}

/** Requests per 100 ms slot in [from, to): the largest count (optionally only those that reached a live server). */
function maxPerSlot(r, from, to, liveOnly) {
  const slots = new Map();
  for (let i = 0; i < r.requests.length; i++) {
    const t = r.requests[i];
    if (t < from || t >= to || (liveOnly && !r.live[i])) continue;
    const k = Math.floor(t / 100);
    slots.set(k, (slots.get(k) || 0) + 1);
  }
  let max = 0;
  for (const v of slots.values()) max = Math.max(max, v);
  return max;
}
/** Distinct clients per 100 ms slot in [from, to): the largest count. A client that comes back makes two
 *  requests at once (a stale epoch is answered next_seq at once), so requests would count it twice. */
function maxClientsPerSlot(r, from, to) {
  const slots = new Map();
  for (let i = 0; i < r.requests.length; i++) {
    const t = r.requests[i];
    if (t < from || t >= to) continue;
    const k = Math.floor(t / 100);
    if (!slots.has(k)) slots.set(k, new Set());
    slots.get(k).add(r.clients[i]);
  }
  let max = 0;
  for (const v of slots.values()) max = Math.max(max, v.size);
  return max;
}

/** Requests in [from, to) that found the server down. */
function failedBetween(r, from, to) {
  let n = 0;
  for (let i = 0; i < r.requests.length; i++) if (!r.live[i] && r.requests[i] >= from && r.requests[i] < to) n++;
  return n;
}
/** The largest number of failed requests in any window of `width` ms while down. */
function maxFailedInWindow(r, width) {
  const t = [];
  for (let i = 0; i < r.requests.length; i++) if (!r.live[i]) t.push(r.requests[i]);
  t.sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= width) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

module.exports = { simulate, maxPerSlot, maxClientsPerSlot, failedBetween, maxFailedInWindow, reconnectWindowMillis };
