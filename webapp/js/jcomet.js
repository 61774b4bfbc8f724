/*!
 * jcomet.js - browser client for jcomet (and icomet) comet servers. No dependencies.
 *
 * Plain script tag:   <script src="/js/jcomet.js"></script>   -> globals JComet and iComet
 * ES module:          import JComet, { Subscription } from '/js/jcomet.mjs';
 * CommonJS (node):    const JComet = require('./jcomet.js');
 *
 *   const sub = new JComet.Subscription({
 *     url: 'http://127.0.0.1:8100',     // front port; '' = same origin
 *     channel: 'room1',
 *     transport: 'poll',                // 'poll' (fetch long-poll, default) | 'sse' | 'jsonp'
 *     onMessage(content, msg) {},       // every data/broadcast message, once, in seq order
 *     onGap(info) {},                   // {from, to, count, reason}: messages that will never arrive
 *     onStatus(state, detail) {}        // connecting|connected|waiting|restarted|unauthorized|...
 *   });
 *   sub.start(); ... sub.stop();
 *
 * Structure: the pure logic (SeqTracker, Backoff, Dispatcher, URL/JSONP helpers) has no access to
 * the browser and is unit-tested with `node --test src/test/js`. Subscription wires it to
 * fetch/EventSource/<script> through an injectable environment (opts.env) for the same reason.
 * Everything runs on the page's single event-loop thread; no state is shared between Subscriptions
 * except the JSONP callback counter.
 */
(function (root, factory) {
  'use strict';
  var api = factory(root);
  if (typeof module === 'object' && module && module.exports) {
    module.exports = api;
  }
  if (root) {
    root.JComet = api;
    // keep a real icomet.js (if loaded first) untouched only when asked to
    if (!root.iComet || !root.JCOMET_KEEP_ICOMET) root.iComet = api.iComet;
  }
})(typeof globalThis !== 'undefined' ? globalThis : (typeof self !== 'undefined' ? self : this), function (global) {
  'use strict';

  var VERSION = '0.1.0';

  // ---------------------------------------------------------------------------------------------
  // seq arithmetic: 32-bit, wraps, compared by signed difference (like the server)
  // ---------------------------------------------------------------------------------------------
  function seqDiff(a, b) { return ((a | 0) - (b | 0)) | 0; }
  function seqNext(a) { return ((a | 0) + 1) | 0; }
  function isInt(v) { return typeof v === 'number' && isFinite(v) && Math.floor(v) === v; }

  // ---------------------------------------------------------------------------------------------
  // SeqTracker: decides for each data message whether it is new (deliver), a duplicate (drop), or
  // follows a hole (report the hole, then deliver). Keeps the server epoch to detect restarts.
  // ---------------------------------------------------------------------------------------------
  function SeqTracker(seq, epoch) {
    this.next = isInt(seq) ? (seq | 0) : 0;  // the next data seq we expect (sent as seq=)
    this.synced = isInt(seq) && seq !== 0;   // false until the server told us where we are
    this.epoch = epoch == null || epoch === '' ? null : String(epoch);
    this.noop = 0;                           // noop counter (sent as noop=)
  }
  /** Records an epoch; returns true when it differs from a known one (server restarted). */
  SeqTracker.prototype.seeEpoch = function (epoch) {
    if (epoch == null || epoch === '') return false;
    epoch = String(epoch);
    var changed = this.epoch !== null && this.epoch !== epoch;
    this.epoch = epoch;
    return changed;
  };
  /** next_seq: the server is authoritative (it may point back after a restart). */
  SeqTracker.prototype.onNextSeq = function (seq) {
    if (!isInt(seq)) return;
    this.next = seq | 0;
    this.synced = true;
  };
  /** gap {from,to}: those seqs are lost; returns the info to report, or null when nothing is lost. */
  SeqTracker.prototype.onGap = function (from, to) {
    if (!isInt(from) || !isInt(to)) return null;
    var after = seqNext(to);
    if (this.synced && seqDiff(after, this.next) <= 0) return null; // already past it
    var start = this.synced && seqDiff(from, this.next) < 0 ? this.next : (from | 0);
    this.next = after;
    this.synced = true;
    return { from: start, to: to | 0, count: seqDiff(after, start), reason: 'lost' };
  };
  /**
   * A data/broadcast message with seq. Returns {deliver: bool, gap: null|{from,to,count,reason}}.
   * Messages without a seq (some broadcast set-ups) are always delivered.
   */
  SeqTracker.prototype.onData = function (seq) {
    if (!isInt(seq)) return { deliver: true, gap: null };
    var gap = null;
    if (this.synced) {
      var d = seqDiff(seq, this.next);
      if (d < 0) return { deliver: false, gap: null };           // duplicate / replay
      if (d > 0) gap = { from: this.next, to: ((seq | 0) - 1) | 0, count: d, reason: 'skipped' };
    }
    this.next = seqNext(seq);
    this.synced = true;
    return { deliver: true, gap: gap };
  };
  SeqTracker.prototype.onNoop = function (seq) {
    if (isInt(seq) && (seq | 0) === this.noop) this.noop = seqNext(this.noop);
  };

  // ---------------------------------------------------------------------------------------------
  // Backoff: exponential with "equal jitter" (half fixed, half random), capped.
  // ---------------------------------------------------------------------------------------------
  function Backoff(opts) {
    opts = opts || {};
    this.base = opts.base > 0 ? opts.base : 500;
    this.max = opts.max > 0 ? opts.max : 30000;
    this.factor = opts.factor > 1 ? opts.factor : 2;
    this.random = typeof opts.random === 'function' ? opts.random : Math.random;
    this.attempt = 0;
  }
  /** Delay in ms before the next attempt; at least `min` ms (e.g. 5000 after a 429). */
  Backoff.prototype.next = function (min) {
    var cap = Math.min(this.max, this.base * Math.pow(this.factor, this.attempt));
    this.attempt = Math.min(this.attempt + 1, 30);
    var delay = cap / 2 + this.random() * cap / 2;
    if (min > 0 && delay < min) delay = min + this.random() * min; // 429: icomet waits 5-10 s
    return Math.round(delay);
  };
  Backoff.prototype.reset = function () { this.attempt = 0; };

  // ---------------------------------------------------------------------------------------------
  // Dispatcher: applies one server message to the tracker, calls the page's callbacks, and says
  // what the connection should do next:
  //   'continue' poll again now / keep the stream     'backoff' reconnect after a backoff delay
  //   'slow'     reconnect after >= 5 s (429)           'resign' fetch a new token, then reconnect
  //   'restart'  the server is stopping (reconnect message, retry_ms in dispatcher.retryMs): retry
  //              at that steady pace for a while instead of backing off exponentially
  //   'stop'     give up (close, fatal error)
  // ---------------------------------------------------------------------------------------------
  var SEVERITY = { 'continue': 0, backoff: 1, restart: 2, slow: 3, resign: 4, stop: 5 };
  function worse(a, b) { return SEVERITY[b] > SEVERITY[a] ? b : a; }

  function Dispatcher(tracker, cb) {
    this.tracker = tracker;
    this.cb = cb || {};
    this.canResign = false;
    this.retryMs = 1000;
  }
  Dispatcher.prototype._call = function (name, a, b) {
    var f = this.cb[name];
    if (typeof f !== 'function') return;
    try { f(a, b); } catch (e) { reportError(e); }
  };
  /** One message (object) or a batch (array). Returns the directive (worst of the batch). */
  Dispatcher.prototype.dispatch = function (msg) {
    if (Array.isArray(msg)) {
      var d = 'continue';
      for (var i = 0; i < msg.length; i++) {
        d = worse(d, this.dispatch(msg[i]));
        if (d === 'stop') break;
      }
      return d;
    }
    if (!msg || typeof msg !== 'object') return 'backoff';
    var t = this.tracker, type = String(msg.type);
    var restarted = t.seeEpoch(msg.epoch);
    if (restarted) this._call('onStatus', 'restarted', { epoch: t.epoch });
    switch (type) {
      case 'data':
      case 'broadcast': {
        var r = t.onData(msg.seq);
        if (r.gap) this._call('onGap', r.gap, msg);
        if (r.deliver) this._call('onMessage', msg.content, msg);
        return 'continue';
      }
      case 'next_seq':
        // After a restart the server points at the oldest message it still has; a new incarnation
        // numbers from 1, so anything before that was published while we were away and is lost.
        if (restarted && isInt(msg.seq) && seqDiff(msg.seq, 1) > 0) {
          this._call('onGap', { from: 1, to: seqDiff(msg.seq, 1), count: seqDiff(msg.seq, 1), reason: 'restart' }, msg);
        }
        t.onNextSeq(msg.seq);
        return 'continue';
      case 'gap': {
        var g = t.onGap(msg.from, msg.to);
        if (g) this._call('onGap', g, msg);
        return 'continue';
      }
      case 'noop':
        t.onNoop(msg.seq);
        return 'continue';
      case 'ping':
      case 'sign':
      case 'ok':
        return 'continue';
      case '401':
        this._call('onStatus', 'unauthorized', msg);
        return this.canResign ? 'resign' : 'stop';
      case '404':
        this._call('onStatus', 'not_found', msg);
        return this.canResign ? 'resign' : 'stop';
      case '429':
        this._call('onStatus', 'rate_limited', msg);
        return 'slow';
      case 'close':
        this._call('onStatus', 'closed', msg);
        return 'stop';
      case 'reconnect':
        this.retryMs = isInt(msg.retry_ms) && msg.retry_ms > 0 ? msg.retry_ms : 1000;
        return 'restart';
      case 'error':
        this._call('onStatus', 'error', msg);
        return 'stop';
      default:
        return 'continue'; // unknown types are ignored (forward compatible)
    }
  };

  // ---------------------------------------------------------------------------------------------
  // helpers
  // ---------------------------------------------------------------------------------------------
  var CALLBACK_RE = /^[A-Za-z_$][\w$]*$/;
  function isCallbackName(s) { return typeof s === 'string' && s.length <= 64 && CALLBACK_RE.test(s); }

  /** Appends query parameters to a URL that may already have a query (or end with ? or &). */
  function buildUrl(base, params) {
    var parts = [];
    for (var k in params) {
      if (!Object.prototype.hasOwnProperty.call(params, k)) continue;
      var v = params[k];
      if (v === undefined || v === null) continue;
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
    }
    if (!parts.length) return base;
    var sep = base.indexOf('?') < 0 ? '?' : (/[?&]$/.test(base) ? '' : '&');
    return base + sep + parts.join('&');
  }

  /** Parses JSON or a JSONP wrapper `name(...);`. Throws on garbage. */
  function parseMaybeJsonp(text) {
    var s = String(text).trim();
    var m = /^[A-Za-z_$][\w$.]*\s*\(([\s\S]*)\)\s*;?\s*$/.exec(s);
    if (m) s = m[1];
    return JSON.parse(s);
  }

  /** Base URL + transport path: '', 'http://h:8100', 'http://h:8100/' or a full '/sub?...' URL. */
  function endpointUrl(url, path) {
    url = url == null ? '' : String(url);
    // already a full endpoint (icomet-style subUrl): keep it
    if (/\/(sub|poll|sse|stream|ping)$/.test(url.replace(/[?#].*$/, ''))) return url;
    return url.replace(/\/+$/, '') + path;
  }

  /** Replaces the transport path of an endpoint URL (/sub -> /sse, /sub -> /ping ...). */
  function swapPath(url, path) {
    var q = url.indexOf('?');
    var head = q < 0 ? url : url.slice(0, q), tail = q < 0 ? '' : url.slice(q);
    if (/\/(sub|poll|sse|stream)$/.test(head)) return head.replace(/\/(sub|poll|sse|stream)$/, path) + tail;
    return null;
  }

  function reportError(e) {
    if (global && global.console && global.console.error) global.console.error('jcomet: callback threw', e);
  }

  function defaultEnv() {
    var g = global || {};
    return {
      fetch: typeof g.fetch === 'function' ? g.fetch.bind(g) : null,
      EventSource: g.EventSource || null,
      AbortController: g.AbortController || null,
      document: g.document || null,
      global: g,
      setTimeout: function (f, ms) { return setTimeout(f, ms); },
      clearTimeout: function (id) { clearTimeout(id); },
      now: function () { return Date.now(); },
      random: Math.random
    };
  }

  var jsonpCounter = 0;
  /**
   * One JSONP request. Returns {cancel()}; calls done(err, value) at most once. The global callback
   * is replaced by a no-op when cancelled, so a late answer does not throw.
   */
  function jsonpRequest(env, url, prefix, paramName, done) {
    var doc = env.document, g = env.global;
    if (!doc || !g) { done(new Error('JSONP needs a document')); return { cancel: function () {} }; }
    prefix = isCallbackName(prefix) ? prefix : 'jcomet_cb_';
    var name = prefix + (++jsonpCounter);
    if (!isCallbackName(name)) throw new Error('bad callback name ' + name);
    var finished = false, script = doc.createElement('script');
    function cleanup() {
      if (script.parentNode) script.parentNode.removeChild(script);
      g[name] = function () { try { delete g[name]; } catch (e) { g[name] = undefined; } };
    }
    g[name] = function (value) {
      if (finished) return;
      finished = true; cleanup(); done(null, value);
    };
    script.async = true;
    script.onerror = function () {
      if (finished) return;
      finished = true; cleanup(); done(new Error('network'));
    };
    var p = {}; p[paramName || 'cb'] = name;
    script.src = buildUrl(url, p);
    (doc.head || doc.getElementsByTagName('head')[0] || doc.documentElement).appendChild(script);
    return { cancel: function () { if (!finished) { finished = true; cleanup(); } } };
  }

  // ---------------------------------------------------------------------------------------------
  // Subscription
  // ---------------------------------------------------------------------------------------------
  var TRANSPORTS = { poll: 1, sse: 1, jsonp: 1 };
  var RESTART_WINDOW_MS = 60000;

  function Subscription(opts) {
    if (!(this instanceof Subscription)) return new Subscription(opts);
    opts = opts || {};
    if (!opts.channel) throw new Error('jcomet: channel is required');
    this.opts = opts;
    this.env = opts.env || defaultEnv();
    this.channel = String(opts.channel);
    var tr = opts.transport || 'poll';
    if (!TRANSPORTS[tr]) throw new Error('jcomet: unknown transport ' + tr);
    if (tr === 'poll' && !this.env.fetch) tr = this.env.EventSource ? 'sse' : 'jsonp';
    if (tr === 'sse' && !this.env.EventSource) tr = this.env.fetch ? 'poll' : 'jsonp';
    this.transport = tr;
    this.token = opts.token || '';
    this.subTimeout = opts.subTimeout > 0 ? opts.subTimeout : 0; // seconds; 0 = unknown
    this.tracker = new SeqTracker(opts.seq, opts.epoch);
    this.backoff = new Backoff({ base: opts.backoffBase, max: opts.backoffMax, random: this.env.random });
    var self = this;
    this.dispatcher = new Dispatcher(this.tracker, {
      onMessage: opts.onMessage,
      onGap: opts.onGap,
      onStatus: function (s, d) { self._status(s, d); }
    });
    this.dispatcher.canResign = !!opts.signUrl;
    this.running = false;
    this.state = 'stopped';
    this._gen = 0;          // bumps on stop()/reconnect so stale callbacks are ignored
    this._timers = {};      // name -> id
    this._inflight = null;  // {cancel()}
    this._pinged = false;
    this._burst = [];       // times of immediate re-polls (spin guard)
  }

  Subscription.prototype._status = function (state, detail) {
    this.state = state;
    var f = this.opts.onStatus;
    if (typeof f === 'function') {
      try { f(state, detail); } catch (e) { reportError(e); }
    }
  };

  Object.defineProperty(Subscription.prototype, 'seq', { get: function () { return this.tracker.next; } });
  Object.defineProperty(Subscription.prototype, 'epoch', { get: function () { return this.tracker.epoch; } });

  Subscription.prototype.start = function () {
    if (this.running) return this;
    this.running = true;
    this.backoff.reset();
    this._connect();
    return this;
  };

  /** Aborts the request in flight, closes the stream, clears every timer. Idempotent. */
  Subscription.prototype.stop = function () {
    var wasRunning = this.running;
    this.running = false;
    this._gen++;
    this._halt();
    if (wasRunning) this._status('stopped');
    return this;
  };

  Subscription.prototype._setTimer = function (name, ms, fn) {
    this._clearTimer(name);
    var self = this, gen = this._gen;
    this._timers[name] = this.env.setTimeout(function () {
      delete self._timers[name];
      if (gen === self._gen && self.running) fn();
    }, ms);
  };
  Subscription.prototype._clearTimer = function (name) {
    if (this._timers[name] !== undefined) {
      this.env.clearTimeout(this._timers[name]);
      delete this._timers[name];
    }
  };
  /** Number of pending timers (for tests: stop() must leave none). */
  Subscription.prototype.pendingTimers = function () { return Object.keys(this._timers).length; };

  Subscription.prototype._halt = function () {
    this._cancelInflight();
    if (this._pingReq) { this._pingReq.cancel(); this._pingReq = null; }
    for (var k in this._timers) this._clearTimer(k);
  };

  Subscription.prototype._cancelInflight = function () {
    var c = this._inflight;
    this._inflight = null;
    if (c) { try { c.cancel(); } catch (e) { /* ignore */ } }
  };

  Subscription.prototype._watchdogMs = function () {
    return this.subTimeout > 0 ? Math.round(this.subTimeout * 1300) + 5000 : 65000;
  };

  Subscription.prototype._baseUrl = function () {
    var o = this.opts;
    if (this.transport === 'sse') {
      if (o.subUrl) return swapPath(o.subUrl, '/sse') || o.subUrl;
      return endpointUrl(o.url, '/sse');
    }
    if (o.subUrl) return o.subUrl;
    return endpointUrl(o.url, this.transport === 'jsonp' ? '/sub' : '/poll');
  };

  Subscription.prototype._params = function () {
    var t = this.tracker, p = { cname: this.channel, seq: t.next, noop: t.noop, token: this.token };
    // always sent, empty until the server named one: the server tells jcomet clients (epoch present)
    // what they lost with "gap", and answers icomet clients (no epoch) as icomet does
    p.epoch = t.epoch === null ? '' : t.epoch;
    return p;
  };

  /** Builds the subscribe URL for the current state (exposed for tests and debugging). */
  Subscription.prototype.url = function () {
    var p = this._params();
    if (this.transport !== 'sse') p._ = this.env.now();
    return buildUrl(this._baseUrl(), p);
  };

  Subscription.prototype._connect = function () {
    if (!this.running) return;
    this._cancelInflight();
    if (this.opts.signUrl && !this.token) return this._sign();
    if (!this._pinged && !this.subTimeout && this.opts.ping !== false) this._ping();
    if (this.state !== 'connected') this._status('connecting');
    if (this.transport === 'sse') this._openSse();
    else this._poll();
  };

  /** After a directive: poll again, wait, re-sign or stop. */
  Subscription.prototype._next = function (directive, detail) {
    if (!this.running) return;
    var self = this;
    switch (directive) {
      case 'continue':
        if (this.transport === 'sse') return; // stream goes on
        if (this._spinning()) return this._wait(1000);
        return this._connect();
      case 'slow':
        return this._wait(this.backoff.next(5000));
      case 'resign':
        this.token = '';
        return this._wait(this.backoff.next());
      case 'stop':
        this.running = false;
        this._gen++;
        return this._halt();
      case 'restart':
        // a graceful stop: the server is probably back within seconds; poll for it at a steady pace
        // (jittered so that a crowd of pages does not come back in one wave) for up to a minute
        this._restartUntil = this.env.now() + RESTART_WINDOW_MS;
        this._restartRetry = Math.min(10000, Math.max(250, this.dispatcher.retryMs));
        return this._wait(this._restartDelay(), 'server restarting');
      default:
        if (this._restartUntil && this.env.now() < this._restartUntil) {
          return this._wait(this._restartDelay(), detail);
        }
        return this._wait(this.backoff.next(), detail);
    }
  };

  Subscription.prototype._wait = function (ms, detail) {
    this._cancelInflight();
    this._status('waiting', { delay: ms, reason: detail });
    var self = this;
    this._setTimer('retry', ms, function () { self._connect(); });
  };

  /**
   * Guards against a hot loop of immediate re-polls that bring nothing (e.g. a proxy or a confused
   * server answering next_seq instantly). Answers that delivered messages never count: a busy
   * channel must be drained as fast as it comes, or its buffer would overflow into gaps.
   */
  Subscription.prototype._spinning = function () {
    var now = this.env.now(), b = this._burst;
    if (this._progressed) { b.length = 0; return false; }
    b.push(now);
    while (b.length && now - b[0] > 1000) b.shift();
    return b.length > 10;
  };

  /** Dispatches a long-poll answer; records whether it moved the seq (see _spinning). */
  Subscription.prototype._dispatchPolled = function (msg) {
    var before = this.tracker.next;
    var d = this.dispatcher.dispatch(msg);
    this._progressed = this.tracker.next !== before && this.tracker.synced && !this._justSynced(msg);
    return d;
  };
  Subscription.prototype._justSynced = function (msg) {
    // a lone next_seq moves the seq without delivering anything
    return !Array.isArray(msg) && msg && msg.type === 'next_seq';
  };

  Subscription.prototype._restartDelay = function () {
    return Math.round(this._restartRetry * (0.5 + this.env.random()));
  };

  Subscription.prototype._ok = function () {
    this.backoff.reset();
    this._restartUntil = 0;
    if (this.state !== 'connected') this._status('connected');
  };

  // --- long-poll with fetch ---------------------------------------------------------------------
  Subscription.prototype._poll = function () {
    var self = this, gen = this._gen, env = this.env;
    if (this.transport === 'jsonp') return this._pollJsonp();
    var ctrl = env.AbortController ? new env.AbortController() : null;
    var cancelled = false;
    this._inflight = { cancel: function () { cancelled = true; if (ctrl) ctrl.abort(); } };
    this._setTimer('watchdog', this._watchdogMs(), function () {
      self._next('backoff', 'timeout');
    });
    var init = { method: 'GET', cache: 'no-store', credentials: 'omit', mode: 'cors' };
    if (ctrl) init.signal = ctrl.signal;
    env.fetch(this.url(), init).then(function (res) {
      return res.text().then(function (text) { return { status: res.status, text: text }; });
    }).then(function (r) {
      if (cancelled || gen !== self._gen || !self.running) return;
      self._clearTimer('watchdog');
      self._inflight = null;
      var msg;
      try { msg = parseMaybeJsonp(r.text); } catch (e) { msg = null; }
      if (msg === null || typeof msg !== 'object') {
        // 5xx, proxies, HTML error pages: retry later. Other 4xx without a message: give up.
        if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
          self._status('error', { status: r.status, reason: 'HTTP ' + r.status });
          return self._next('stop');
        }
        return self._next(r.status === 429 ? 'slow' : 'backoff', 'HTTP ' + r.status);
      }
      var d = self._dispatchPolled(msg);
      if (d === 'continue' || d === 'backoff') self._ok();
      self._next(d);
    }, function (err) {
      if (cancelled || gen !== self._gen || !self.running) return;
      self._clearTimer('watchdog');
      self._inflight = null;
      self._next('backoff', 'network');
    });
  };

  // --- long-poll with JSONP ---------------------------------------------------------------------
  Subscription.prototype._pollJsonp = function () {
    var self = this, gen = this._gen, doc = this.env.document, g = this.env.global;
    // A <script> added before the page has loaded holds the load event (and the browser's spinner)
    // for as long as the long-poll is held: start after 'load'.
    if (doc && doc.readyState && doc.readyState !== 'complete' && g && g.addEventListener) {
      var onLoad = function () {
        g.removeEventListener('load', onLoad);
        if (gen === self._gen && self.running) self._pollJsonp();
      };
      g.addEventListener('load', onLoad);
      this._inflight = { cancel: function () { g.removeEventListener('load', onLoad); } };
      return;
    }
    this._setTimer('watchdog', this._watchdogMs(), function () { self._next('backoff', 'timeout'); });
    this._inflight = jsonpRequest(this.env, this.url(), this.opts.callbackPrefix, 'cb', function (err, msg) {
      if (gen !== self._gen || !self.running) return;
      self._clearTimer('watchdog');
      self._inflight = null;
      if (err) return self._next('backoff', 'network');
      var d = self._dispatchPolled(msg);
      if (d === 'continue' || d === 'backoff') self._ok();
      self._next(d);
    });
  };

  // --- SSE ---------------------------------------------------------------------------------------
  Subscription.prototype._openSse = function () {
    var self = this, gen = this._gen, env = this.env;
    var es;
    try { es = new env.EventSource(this.url()); } catch (e) { return this._next('backoff', 'network'); }
    this._inflight = { cancel: function () { es.onmessage = es.onerror = es.onopen = null; es.close(); } };
    var arm = function () {
      self._setTimer('watchdog', self._watchdogMs(), function () { self._next('backoff', 'timeout'); });
    };
    arm();
    es.onopen = function () {
      if (gen !== self._gen) return;
      arm();
      self._ok();
    };
    es.onmessage = function (ev) {
      if (gen !== self._gen || !self.running) return;
      arm();
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      var d = self.dispatcher.dispatch(msg);
      if (d !== 'continue') self._next(d);
    };
    es.onerror = function () {
      if (gen !== self._gen || !self.running) return;
      // The browser would reconnect on its own (Last-Event-ID); we reconnect ourselves instead so
      // that the seq/epoch we send are ours and the retry delay backs off with jitter.
      self._clearTimer('watchdog');
      self._next('backoff', 'network');
    };
  };

  // --- sub_timeout from /ping, token from sign ---------------------------------------------------
  Subscription.prototype._request = function (url, cb) {
    var env = this.env, self = this;
    // JSONP for the JSONP transport, and when asked (icomet apps' sign endpoints answer JSONP
    // without CORS headers)
    if (this.transport === 'jsonp' || this.opts.signJsonp || !env.fetch) {
      return jsonpRequest(env, url, this.opts.callbackPrefix, 'cb', cb);
    }
    var ctrl = env.AbortController ? new env.AbortController() : null, done = false;
    var init = { cache: 'no-store', credentials: this.opts.signCredentials || 'same-origin' };
    if (ctrl) init.signal = ctrl.signal;
    env.fetch(url, init).then(function (r) { return r.text(); }).then(function (text) {
      if (done) return; done = true;
      var v; try { v = parseMaybeJsonp(text); } catch (e) { return cb(e); }
      cb(null, v);
    }, function (e) { if (!done) { done = true; cb(e); } });
    return { cancel: function () { done = true; if (ctrl) ctrl.abort(); } };
  };

  Subscription.prototype._ping = function () {
    var self = this, gen = this._gen, o = this.opts;
    this._pinged = true;
    var url = o.pingUrl || (o.subUrl ? swapPath(o.subUrl, '/ping') : endpointUrl(o.url, '/ping'));
    if (!url) return;
    var req = this._request(url, function (err, msg) {
      self._pingReq = null;
      if (gen !== self._gen) return;
      if (!err && msg && msg.sub_timeout > 0) {
        self.subTimeout = msg.sub_timeout;
      } else {
        self._pinged = false; // try again on the next connect
      }
    });
    // a ping must not outlive stop()
    if (this._pingReq) this._pingReq.cancel();
    this._pingReq = req;
  };

  Subscription.prototype._sign = function () {
    var self = this, gen = this._gen;
    this._status('signing');
    var url = buildUrl(this.opts.signUrl, { cname: this.channel });
    this._inflight = this._request(url, function (err, msg) {
      if (gen !== self._gen || !self.running) return;
      self._inflight = null;
      if (err || !msg || typeof msg !== 'object') return self._next('backoff', 'sign');
      if (msg.type !== 'sign' || !msg.token) {
        var d = self.dispatcher.dispatch(msg);
        return self._next(d === 'continue' ? 'backoff' : d, 'sign');
      }
      self.token = String(msg.token);
      if (msg.cname) self.channel = String(msg.cname);
      if (msg.sub_timeout > 0) self.subTimeout = msg.sub_timeout;
      self._connect();
    });
  };

  // ---------------------------------------------------------------------------------------------
  // publish helper: through the application's own endpoint (never the admin port)
  // ---------------------------------------------------------------------------------------------
  /**
   * publish(url, params, opts?) -> Promise of the parsed JSON answer (or the text when not JSON).
   * GET with query parameters by default; opts.method 'POST' sends them as a form body.
   * Rejects with an Error carrying .status and .body on HTTP errors.
   */
  function publish(url, params, opts) {
    opts = opts || {};
    var env = opts.env || defaultEnv();
    if (!env.fetch) return Promise.reject(new Error('jcomet: publish needs fetch'));
    var method = (opts.method || 'GET').toUpperCase(), init = { method: method, cache: 'no-store', credentials: opts.credentials || 'same-origin' };
    var target = url;
    if (method === 'GET') {
      target = buildUrl(url, params || {});
    } else {
      init.headers = { 'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8' };
      init.body = buildUrl('', params || {}).replace(/^\?/, '');
    }
    return env.fetch(target, init).then(function (res) {
      return res.text().then(function (text) {
        var body; try { body = parseMaybeJsonp(text); } catch (e) { body = text; }
        if (!res.ok) {
          var reason = body && typeof body === 'object' && body.reason ? body.reason : ('HTTP ' + res.status);
          var err = new Error(reason); err.status = res.status; err.body = body;
          throw err;
        }
        return body;
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // iComet: drop-in for icomet.js pages (same config names, starts on construction)
  // ---------------------------------------------------------------------------------------------
  function iComet(config) {
    if (!(this instanceof iComet)) return new iComet(config);
    config = config || {};
    var env = config.env || defaultEnv();
    var self = this;
    this.config = config;
    var subUrl = config.subUrl || '/sub';
    var transport = 'jsonp';
    // like icomet.js: use SSE when the browser has EventSource and the URL is a /sub endpoint
    if (env.EventSource && config.transport !== 'jsonp' && swapPath(subUrl, '/sse')) transport = 'sse';
    if (config.transport && TRANSPORTS[config.transport]) transport = config.transport;
    this.sub = new Subscription({
      env: env,
      channel: config.channel,
      subUrl: subUrl,
      signUrl: config.signUrl,
      transport: transport,
      token: config.token,
      callbackPrefix: 'icomet_cb_',
      signJsonp: config.signJsonp !== false && env.document != null, // like icomet.js
      onMessage: function (content, msg) {
        if (typeof config.callback === 'function') config.callback(content, msg.type);
      },
      onGap: config.onGap,
      onStatus: config.onStatus
    });
    this.start();
  }
  iComet.prototype.start = function () { this.sub.start(); return this; };
  iComet.prototype.stop = function () { this.sub.stop(); return this; };
  /** pub(content, cb): GET pubUrl?cname=..&content=.., cb(answer) like icomet.js. */
  iComet.prototype.pub = function (content, cb) {
    var c = this.config;
    if (!c.pubUrl) throw new Error('iComet: pubUrl is not configured');
    var p = publish(c.pubUrl, { cname: this.sub.channel, content: content }, { env: c.env });
    if (typeof cb === 'function') p.then(cb, function (e) { cb(e.body || { type: 'error', reason: e.message }); });
    return p;
  };

  return {
    version: VERSION,
    Subscription: Subscription,
    publish: publish,
    iComet: iComet,
    // pure pieces, exported for tests and for people who build their own transport
    SeqTracker: SeqTracker,
    Backoff: Backoff,
    Dispatcher: Dispatcher,
    seqDiff: seqDiff,
    seqNext: seqNext,
    buildUrl: buildUrl,
    parseMaybeJsonp: parseMaybeJsonp,
    isCallbackName: isCallbackName,
    endpointUrl: endpointUrl,
    swapPath: swapPath
  };
});
