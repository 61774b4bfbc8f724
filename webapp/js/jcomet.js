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
 *     transport: 'poll',                // 'poll' (fetch long-poll, default) | 'sse' | 'jsonp' | 'ws'
 *     onMessage(content, msg) {},       // every data/broadcast message, once, in seq order
 *     onGap(info) {},                   // {from, to, count, reason}: messages that will never arrive
 *     onStatus(state, detail) {}        // connecting|connected|waiting|restarted|unauthorized|...
 *   });
 *   sub.start(); ... sub.stop();
 *
 * Structure: the pure logic (SeqTracker, Backoff, Dispatcher, URL/JSONP helpers) has no access to
 * the browser and is unit-tested with `node --test src/test/js`. Subscription wires it to
 * fetch/EventSource/<script>/WebSocket through an injectable environment (opts.env) for the same
 * reason. Everything runs on the page's single event-loop thread; Subscriptions share only the JSONP
 * callback counter and, with transport 'ws', the page's sockets (see Socket).
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

  var VERSION = '0.1.0-SNAPSHOT'; // the project's version (pom.xml); VersionTest keeps them equal

  // ---------------------------------------------------------------------------------------------
  // seq arithmetic: 32-bit, wraps, compared by signed difference (like the server). The server never
  // assigns 0 ("where are you?" on the wire): after 4294967295 comes 1. Kept as int32 inside,
  // shown unsigned (u32) to the page and on the wire.
  // ---------------------------------------------------------------------------------------------
  function seqDiff(a, b) { return ((a | 0) - (b | 0)) | 0; }
  function seqNext(a) { var n = ((a | 0) + 1) | 0; return n === 0 ? 1 : n; }
  function seqPrev(a) { var p = ((a | 0) - 1) | 0; return p === 0 ? -1 : p; }
  /** How many seqs the server assigns from b up to (not including) a: the signed difference, less 0 when crossed. */
  function seqCount(a, b) {
    var d = seqDiff(a, b);
    if (d > 0 && (b | 0) < 0 && (a | 0) > 0) d--;
    return d;
  }
  function u32(a) { return a >>> 0; }
  function isInt(v) { return typeof v === 'number' && isFinite(v) && Math.floor(v) === v; }
  function gapInfo(from, to, count, reason) { return { from: u32(from), to: u32(to), count: count, reason: reason }; }

  // ---------------------------------------------------------------------------------------------
  // SeqTracker: decides for each data message whether it is new (deliver), a duplicate (drop), or
  // follows a hole (report the hole, then deliver). Keeps the channel's epoch (its incarnation: every
  // jcomet message carries it) to tell a restarted server from the one it left.
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
    return gapInfo(start, to, seqCount(after, start), 'lost');
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
      if (d > 0) gap = gapInfo(this.next, seqPrev(seq), seqCount(seq, this.next), 'skipped');
    }
    this.next = seqNext(seq);
    this.synced = true;
    return { deliver: true, gap: gap };
  };
  SeqTracker.prototype.onNoop = function (seq) {
    if (isInt(seq) && (seq | 0) === this.noop) this.noop = ((this.noop | 0) + 1) | 0;
  };

  // ---------------------------------------------------------------------------------------------
  // Backoff: exponential with "full jitter" (uniform in [0, step]); the step doubles from `base` up
  // to `max`. A `floor` (a server's advertised reconnect window) replaces `base`: steps double from
  // it, capped at max(max, floor). Only a success resets it, so a fleet that failed together does
  // not fall back to the first step together.
  // ---------------------------------------------------------------------------------------------
  function Backoff(opts) {
    opts = opts || {};
    this.base = opts.base > 0 ? opts.base : 10000;
    this.max = opts.max > 0 ? opts.max : 30000;
    this.factor = opts.factor > 1 ? opts.factor : 2;
    this.random = typeof opts.random === 'function' ? opts.random : Math.random;
    this.attempt = 0;
    this.floor = 0;
  }
  /** The current step (upper bound of the next delay). */
  Backoff.prototype.step = function () {
    var grow = Math.pow(this.factor, this.attempt);
    if (this.floor > 0) return Math.min(Math.max(this.max, this.floor), this.floor * grow);
    return Math.min(this.max, this.base * grow);
  };
  /**
   * Delay in ms before the next attempt, uniform in [0, step]. With `min` (429: icomet waits 5-10 s)
   * it is uniform in [min, max(2 * min, step)], so repeated refusals still slow down.
   */
  Backoff.prototype.next = function (min) {
    var step = this.step();
    this.attempt = Math.min(this.attempt + 1, 30);
    var delay = this.random() * step;
    if (min > 0) delay = min + this.random() * (Math.max(2 * min, step) - min);
    return Math.round(delay);
  };
  Backoff.prototype.reset = function () { this.attempt = 0; this.floor = 0; };

  // ---------------------------------------------------------------------------------------------
  // Dispatcher: applies one server message to the tracker, calls the page's callbacks, and says
  // what the connection should do next:
  //   'continue' poll again now / keep the stream     'backoff' reconnect after a backoff delay
  //   'noop'     the held request timed out: poll again after a short random pause
  //   'slow'     reconnect after >= 5 s (429)           'resign' fetch a new token, then reconnect
  //   'restart'  the server is stopping (reconnect message; its window in dispatcher.retryMs):
  //              come back at a random moment inside that window
  //   'stop'     give up (close, fatal error)
  // A batch stops being applied as soon as `live()` turns false (the page called stop()).
  // ---------------------------------------------------------------------------------------------
  var SEVERITY = { 'continue': 0, noop: 1, backoff: 2, restart: 3, slow: 4, resign: 5, stop: 6 };
  function worse(a, b) { return SEVERITY[b] > SEVERITY[a] ? b : a; }

  function Dispatcher(tracker, cb) {
    this.tracker = tracker;
    this.cb = cb || {};
    this.canResign = false;
    this.retryMs = 1000;
    this.live = function () { return true; };
  }
  Dispatcher.prototype._call = function (name, a, b) {
    var f = this.cb[name];
    if (typeof f !== 'function') return;
    try { f(a, b); } catch (e) { reportError(e); }
  };
  /** One message (object) or a batch (array). Returns the directive (worst of the batch). */
  Dispatcher.prototype.dispatch = function (msg) {
    if (!this.live()) return 'stop';
    if (Array.isArray(msg)) {
      var d = 'continue';
      for (var i = 0; i < msg.length; i++) {
        if (!this.live()) return 'stop';
        d = worse(d, this.dispatch(msg[i]));
        if (d === 'stop') break;
      }
      return d;
    }
    if (!msg || typeof msg !== 'object') return 'backoff';
    var t = this.tracker, type = String(msg.type);
    var knewEpoch = t.epoch !== null;
    var restarted = t.seeEpoch(msg.epoch);
    if (restarted) this._call('onStatus', 'restarted', { epoch: t.epoch });
    switch (type) {
      case 'data':
      case 'broadcast': {
        if (restarted && isInt(msg.seq)) {
          // a new incarnation numbers from 1; this message came without a next_seq, so nothing
          // proves we saw the ones before it
          this._restartGap(msg.seq, msg);
          t.onNextSeq(msg.seq);
        }
        var r = t.onData(msg.seq);
        if (r.gap) this._call('onGap', r.gap, msg);
        if (r.deliver) this._call('onMessage', msg.content, msg);
        return 'continue';
      }
      case 'next_seq':
        if (!isInt(msg.seq)) return 'continue';
        if (restarted) {
          // After a restart the server points at the oldest message it still has; anything before
          // it in the new incarnation was published while we were away and is lost.
          this._restartGap(msg.seq, msg);
        } else if (t.synced && !knewEpoch && seqDiff(msg.seq, t.next) < 0) {
          // We asked for a seq the channel has not reached: it was re-created and we could not say
          // which incarnation we knew. Replay the new one from its start instead of skipping it.
          this._call('onStatus', 'restarted', { epoch: null });
          t.onNextSeq(1);
          return 'continue';
        }
        t.onNextSeq(msg.seq);
        return 'continue';
      case 'gap': {
        var g = t.onGap(msg.from, msg.to);
        if (g) this._call('onGap', g, msg);
        return 'continue';
      }
      case 'noop':
        if (restarted && t.synced) this._restartGap(t.next, msg);
        t.onNoop(msg.seq);
        return 'noop';
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
  /** Reports seqs 1..seq-1 of a new incarnation as lost (nothing, when seq is 1). */
  Dispatcher.prototype._restartGap = function (seq, msg) {
    var n = seqCount(seq, 1);
    if (n > 0) this._call('onGap', gapInfo(1, seqPrev(seq), n, 'restart'), msg);
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
      WebSocket: g.WebSocket || null,
      AbortController: g.AbortController || null,
      document: g.document || null,
      navigator: g.navigator || null,
      global: g,
      setTimeout: function (f, ms) { return setTimeout(f, ms); },
      clearTimeout: function (id) { clearTimeout(id); },
      now: function () { return Date.now(); },
      random: Math.random
    };
  }
  /** The browser's environment with whatever the caller replaced (opts.env may be partial). */
  function makeEnv(partial) {
    var env = defaultEnv();
    if (partial && typeof partial === 'object') {
      for (var k in partial) {
        if (Object.prototype.hasOwnProperty.call(partial, k) && partial[k] !== undefined) env[k] = partial[k];
      }
    }
    return env;
  }

  // JSONP callbacks are globals named <prefix><load id>_<n>: the load id is random per copy of this
  // script, so two copies on a page (script tag + ES module) or a real icomet.js (icomet_cb_N) never
  // answer each other's requests. Each global is deleted once used; a cancelled request leaves a stub
  // that deletes itself when the late answer runs, or after STUB_TTL_MS at the latest.
  var LOAD_ID = Math.floor(Math.random() * 2176782336).toString(36);
  var jsonpCounter = 0;
  var STUB_TTL_MS = 120000;
  function dropGlobal(g, name) { try { delete g[name]; } catch (e) { g[name] = undefined; } }
  /**
   * One JSONP request. Returns {cancel()}; calls done(err, value) at most once.
   */
  function jsonpRequest(env, url, prefix, paramName, done) {
    var doc = env.document, g = env.global;
    if (!doc || !g) { done(new Error('JSONP needs a document')); return { cancel: function () {} }; }
    prefix = isCallbackName(prefix) ? prefix : 'jcomet_';
    var name = prefix + LOAD_ID + '_' + (++jsonpCounter);
    if (!isCallbackName(name)) name = 'jcomet_' + LOAD_ID + '_' + jsonpCounter;
    var finished = false, script = doc.createElement('script');
    function removeScript() {
      script.onerror = null;
      if (script.parentNode) script.parentNode.removeChild(script);
    }
    g[name] = function (value) {
      if (finished) return;
      finished = true; removeScript(); dropGlobal(g, name); done(null, value);
    };
    script.async = true;
    script.onerror = function () {
      if (finished) return;
      finished = true; removeScript(); dropGlobal(g, name); done(new Error('network'));
    };
    var p = {}; p[paramName || 'cb'] = name;
    script.src = buildUrl(url, p);
    (doc.head || doc.getElementsByTagName('head')[0] || doc.documentElement).appendChild(script);
    return {
      cancel: function () {
        if (finished) return;
        finished = true;
        removeScript();
        // the script may still run (removing it does not stop the download): keep a harmless stub
        var timer;
        g[name] = function () { dropGlobal(g, name); if (timer !== undefined) env.clearTimeout(timer); };
        timer = env.setTimeout(function () { dropGlobal(g, name); }, STUB_TTL_MS);
      }
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Socket: one WebSocket to /ws that carries the channels of several Subscriptions (transport 'ws').
  // Subscriptions with the same ws URL share one (up to maxChannels, the server's ws_max_channels
  // default) unless they bring their own (opts.socket) or ask for a private one (multiplex: false).
  // The socket only carries frames: each Subscription keeps its own tracker, watchdog and backoff,
  // sends its own sub frame with its own seq/epoch, and is told when the socket is lost; so after a
  // loss every channel re-subscribes after its own jittered delay. The socket opens when a channel
  // wants it and closes once no channel is subscribed (or being subscribed) any more.
  // A socket that fails before it ever opened is asked about over HTTP (/ping): an answer there
  // means WebSocket is blocked on the way (Origin refused with 403, a proxy that does not upgrade),
  // and the channels fall back to SSE (then long-poll); no answer means the server is down, and they
  // back off and try WebSocket again.
  // ---------------------------------------------------------------------------------------------
  var WS_MAX_CHANNELS = 16;
  var sharedSockets = [];   // page-wide sockets of Subscriptions that did not bring their own
  var blockedWs = [];       // [WebSocket constructor, ws URL] found blocked: later Subscriptions fall back at once
  function wsBlocked(ctor, url) {
    for (var i = 0; i < blockedWs.length; i++) if (blockedWs[i][0] === ctor && blockedWs[i][1] === url) return true;
    return false;
  }

  /** The /ws URL for a base URL ('' = this page's origin, http(s) -> ws(s)). */
  function wsUrlFor(url, env) {
    url = url == null ? '' : String(url);
    var loc = env && env.global && env.global.location;
    if (/^\/\//.test(url) && loc && loc.protocol) url = loc.protocol + url;
    else if (!/^[a-z][a-z0-9+.-]*:/i.test(url) && loc && loc.host) {
      url = loc.protocol + '//' + loc.host + (url.charAt(0) === '/' ? url : '/' + url);
    }
    url = url.replace(/^http(s?):/i, 'ws$1:');
    var q = url.indexOf('?'), head = q < 0 ? url : url.slice(0, q);
    if (!/\/ws$/.test(head)) {
      head = head.replace(/\/(sub|poll|sse|stream|ping)$/, '').replace(/\/+$/, '') + '/ws';
    }
    return head; // the query of an icomet-style sub_url is not for /ws
  }

  function Socket(opts) {
    if (!(this instanceof Socket)) return new Socket(opts);
    opts = opts || {};
    this.env = makeEnv(opts.env);
    this.url = opts.wsUrl ? String(opts.wsUrl) : wsUrlFor(opts.url, this.env);
    this.maxChannels = opts.maxChannels > 0 ? opts.maxChannels : WS_MAX_CHANNELS;
    this.ws = null;
    this.opened = false;     // the current WebSocket has fired open
    this.lastFrameAt = 0;    // env.now() of the last frame received (socket-level liveness)
    this.members = [];       // Subscriptions using this socket (running ones)
    this.active = {};        // cname -> Subscription subscribed or being subscribed on the server
    this._probing = null;
    this.refusedWhileHttpAnswers = 0; // handshakes refused in a row while /ping answered
  }
  /** Number of channels subscribed or being subscribed. */
  Socket.prototype.channels = function () { return Object.keys(this.active).length; };
  Object.defineProperty(Socket.prototype, 'connected', { get: function () { return !!this.ws && this.opened; } });
  Socket.prototype._hasRoomFor = function (sub) {
    if (this.members.indexOf(sub) >= 0) return true;
    if (this.members.length >= this.maxChannels) return false;
    for (var i = 0; i < this.members.length; i++) if (this.members[i].channel === sub.channel) return false;
    return true;
  };
  Socket.prototype.attach = function (sub) {
    if (this.members.indexOf(sub) < 0) this.members.push(sub);
  };
  Socket.prototype.detach = function (sub) {
    this.unsubscribe(sub);
    var i = this.members.indexOf(sub);
    if (i >= 0) this.members.splice(i, 1);
    if (!this.members.length) {
      if (this._probing) { this._probing.cancel(); this._probing = null; }
      var j = sharedSockets.indexOf(this);
      if (j >= 0) sharedSockets.splice(j, 1);
    }
  };
  /** Subscribes sub's channel: now when open, else once the socket opens (opening it if needed). */
  Socket.prototype.subscribe = function (sub) {
    this.attach(sub);
    var cur = this.active[sub.channel];
    if (cur && cur !== sub) return false;
    this.active[sub.channel] = sub;
    sub._wsState = 'pending';
    if (this.connected) this._sendSub(sub);
    else if (!this.ws) this._open();
    return true;
  };
  /** Drops sub's channel (sends unsub if the server still has it); closes the socket when none is left. */
  Socket.prototype.unsubscribe = function (sub) {
    if (this.active[sub.channel] !== sub) return;
    delete this.active[sub.channel];
    var st = sub._wsState;
    sub._wsState = null;
    if (this.connected && (st === 'sent' || st === 'subscribed')) this._send({ op: 'unsub', cname: sub.channel });
    if (!this.channels()) this.close();
  };
  Socket.prototype._sendSub = function (sub) {
    var p = sub._params(), f = { op: 'sub', cname: p.cname, seq: p.seq, noop: p.noop, epoch: p.epoch };
    if (p.token) f.token = p.token;
    sub._wsState = 'sent';
    this._send(f);
  };
  Socket.prototype._send = function (frame) {
    try { this.ws.send(JSON.stringify(frame)); } catch (e) { /* closing: onclose follows */ }
  };
  Socket.prototype._open = function () {
    var self = this, env = this.env, ws;
    this.opened = false;
    try { ws = new env.WebSocket(this.url); } catch (e) { ws = null; }
    if (!ws) return this._failed(false);
    this.ws = ws;
    ws.onopen = function () {
      if (self.ws !== ws) return;
      self.opened = true;
      self.refusedWhileHttpAnswers = 0;
      self.lastFrameAt = env.now();
      for (var c in self.active) if (self.active[c]._wsState === 'pending') self._sendSub(self.active[c]);
    };
    ws.onmessage = function (ev) {
      if (self.ws !== ws) return;
      self.lastFrameAt = env.now();
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return;
      var sub = msg.cname != null ? self.active[String(msg.cname)] : null;
      if (sub) sub._wsMessage(msg);
    };
    // error is always followed by close; close alone decides
    ws.onerror = function () {};
    ws.onclose = function () {
      if (self.ws !== ws) return;
      self._failed(self.opened);
    };
  };
  /** Closes the WebSocket (no callbacks follow). The next subscribe opens a new one. */
  Socket.prototype.close = function () {
    var ws = this.ws;
    this.ws = null;
    this.opened = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try { ws.close(1000); } catch (e) { /* ignore */ }
    }
  };
  /** The socket closed (or never opened): tell every channel on it. */
  Socket.prototype._failed = function (wasOpen) {
    this.close();
    var subs = [];
    for (var c in this.active) subs.push(this.active[c]);
    this.active = {};
    for (var i = 0; i < subs.length; i++) subs[i]._wsState = null;
    if (wasOpen || !subs.length) {
      for (var k = 0; k < subs.length; k++) subs[k]._wsLost('network');
      return;
    }
    // never opened: blocked on the way, or is the server down? Ask it over HTTP. A server that was
    // down and came back between the two is not blocking WebSocket: only a second refusal in a row
    // with HTTP answering counts as blocked.
    var self = this, env = this.env, url = subs[0]._pingUrl();
    var verdict = function (httpAnswers) {
      self._probing = null;
      // only channels still waiting for this verdict (not stopped, not gone on without it)
      var waiting = [];
      for (var j = 0; j < subs.length; j++) {
        var s = subs[j];
        if (s.running && s._socket === self && s._wsState === null && s._waitKind === null) waiting.push(s);
      }
      if (httpAnswers && ++self.refusedWhileHttpAnswers < 2) {
        for (var m = 0; m < waiting.length; m++) self.subscribe(waiting[m]); // once more, now
        return;
      }
      if (httpAnswers && !wsBlocked(env.WebSocket, self.url)) blockedWs.push([env.WebSocket, self.url]);
      for (var k = 0; k < waiting.length; k++) {
        if (httpAnswers) waiting[k]._wsBlocked();
        else waiting[k]._wsLost('network');
      }
    };
    if (!env.WebSocket || !env.fetch || !url) { this.refusedWhileHttpAnswers = 1; return verdict(true); }
    var done = false, ctrl = env.AbortController ? new env.AbortController() : null;
    var init = { cache: 'no-store', credentials: 'omit', mode: 'cors' };
    if (ctrl) init.signal = ctrl.signal;
    this._probing = { cancel: function () { done = true; if (ctrl) ctrl.abort(); } };
    env.fetch(url, init).then(function () {
      if (!done) { done = true; verdict(true); }   // HTTP gets through, WebSocket does not
    }, function () {
      if (!done) { done = true; verdict(false); }  // nothing gets through: the server is down
    });
  };
  /** Ends the socket after silence (half-open TCP): every channel on it reconnects. */
  Socket.prototype.kill = function () { if (this.ws) this._failed(true); };

  /** The page-wide socket for sub (same URL, room for one more channel, not carrying its cname). */
  function sharedSocketFor(sub) {
    var url = sub.opts.wsUrl ? String(sub.opts.wsUrl) : wsUrlFor(sub.opts.subUrl || sub.opts.url, sub.env);
    for (var i = 0; i < sharedSockets.length; i++) {
      var s = sharedSockets[i];
      if (s.url === url && s.env.WebSocket === sub.env.WebSocket && s._hasRoomFor(sub)) return s;
    }
    var env = {};
    for (var k in sub.env) env[k] = sub.env[k];
    var made = new Socket({ wsUrl: url, env: env });
    sharedSockets.push(made);
    return made;
  }

  // ---------------------------------------------------------------------------------------------
  // Subscription
  // ---------------------------------------------------------------------------------------------
  var TRANSPORTS = { poll: 1, sse: 1, jsonp: 1, ws: 1 };
  var NOOP_PAUSE_MS = 1000;   // random pause after a noop (icomet.js waits 0-1 s too)
  var WAKE_SPREAD_MS = 1000;  // random pause before reconnecting on 'online' / page shown again

  function Subscription(opts) {
    if (!(this instanceof Subscription)) return new Subscription(opts);
    opts = opts || {};
    if (!opts.channel) throw new Error('jcomet: channel is required');
    this.opts = opts;
    this.env = makeEnv(opts.env);
    this.channel = String(opts.channel);
    var tr = opts.transport || 'poll';
    if (!TRANSPORTS[tr]) throw new Error('jcomet: unknown transport ' + tr);
    if (tr === 'poll' && !this.env.fetch) tr = this.env.EventSource ? 'sse' : 'jsonp';
    if (tr === 'sse' && !this.env.EventSource) tr = this.env.fetch ? 'poll' : 'jsonp';
    if (tr === 'ws' && !this.env.WebSocket) tr = this._fallbackTransport();
    this.transport = tr;
    this.token = opts.token || '';
    this.subTimeout = opts.subTimeout > 0 ? opts.subTimeout : 0; // seconds; 0 = unknown
    this.noopPause = opts.noopPause >= 0 ? opts.noopPause : NOOP_PAUSE_MS;
    this.tracker = new SeqTracker(opts.seq, opts.epoch);
    this.backoff = new Backoff({ base: opts.backoffBase, max: opts.backoffMax, random: this.env.random });
    var self = this;
    this.dispatcher = new Dispatcher(this.tracker, {
      onMessage: opts.onMessage,
      onGap: opts.onGap,
      onStatus: function (s, d) { self._status(s, d); }
    });
    this.dispatcher.canResign = !!opts.signUrl;
    this.dispatcher.live = function () { return self.running; };
    this.running = false;
    this.state = 'stopped';
    this._gen = 0;          // bumps on stop() so stale callbacks are ignored
    this._timers = {};      // name -> id
    this._inflight = null;  // {cancel()}
    this._pinged = false;
    this._burst = [];       // times of immediate re-polls (spin guard)
    this._restartUntil = 0; // end of the server's reconnect window (graceful stop), 0 = none
    this._waitKind = null;  // why the retry timer runs: backoff|slow|restart|resign|noop|offline
    this._listeners = [];
    this._socket = null;    // transport 'ws': the Socket carrying this channel
    this._wsState = null;   // on that socket: pending|sent|subscribed|ended (by the server), null = not on it
  }

  /** Where 'ws' goes when WebSocket is missing or blocked: SSE, else long-poll (fetch, else JSONP). */
  Subscription.prototype._fallbackTransport = function () {
    return this.env.EventSource ? 'sse' : (this.env.fetch ? 'poll' : 'jsonp');
  };

  Subscription.prototype._status = function (state, detail) {
    // after stop() nothing but 'stopped' is reported: a late callback must not look alive
    if (!this.running && state !== 'stopped') return;
    this.state = state;
    var f = this.opts.onStatus;
    if (typeof f === 'function') {
      try { f(state, detail); } catch (e) { reportError(e); }
    }
  };

  Object.defineProperty(Subscription.prototype, 'seq', { get: function () { return u32(this.tracker.next); } });
  Object.defineProperty(Subscription.prototype, 'epoch', { get: function () { return this.tracker.epoch; } });

  Subscription.prototype.start = function () {
    if (this.running) return this;
    this.running = true;
    this.backoff.reset();
    this._pinged = false;
    this._listen();
    this._connect();
    return this;
  };

  /** Aborts the request in flight, closes the stream, clears every timer and listener. Idempotent. */
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
    this._unlisten();
    if (this._socket) { this._socket.detach(this); this._socket = null; }
  };

  Subscription.prototype._cancelInflight = function () {
    var c = this._inflight;
    this._inflight = null;
    if (c) { try { c.cancel(); } catch (e) { /* ignore */ } }
  };

  // --- online / offline / page visibility -----------------------------------------------------
  Subscription.prototype._on = function (target, type, fn) {
    if (!target || typeof target.addEventListener !== 'function') return;
    target.addEventListener(type, fn);
    this._listeners.push([target, type, fn]);
  };
  Subscription.prototype._listen = function () {
    var self = this, env = this.env;
    this._unlisten();
    this._on(env.global, 'offline', function () { if (self.running) self._goOffline(); });
    this._on(env.global, 'online', function () { if (self.running) self._wake('online'); });
    this._on(env.document, 'visibilitychange', function () {
      // a page shown again after a long backoff (phone in a pocket) reconnects soon, not in 30 s
      if (self.running && env.document.visibilityState === 'visible' && self._waitKind === 'backoff') self._wake('visible');
    });
  };
  Subscription.prototype._unlisten = function () {
    var l = this._listeners;
    this._listeners = [];
    for (var i = 0; i < l.length; i++) l[i][0].removeEventListener(l[i][1], l[i][2]);
  };
  Subscription.prototype._offline = function () {
    var nav = this.env.navigator;
    return !!nav && nav.onLine === false;
  };
  Subscription.prototype._goOffline = function () {
    this._cancelInflight();
    this._clearTimer('watchdog');
    this._clearTimer('retry');
    this._waitKind = 'offline';
    if (this.state !== 'offline') this._status('offline');
    // 'online' wakes us; a slow check in case the browser never fires it
    var self = this;
    this._setTimer('retry', this.backoff.max, function () { self._connect(); });
  };
  /** Back online or shown again: fresh backoff, reconnect after a short random pause (a whole office
   *  comes back online at once). */
  Subscription.prototype._wake = function (why) {
    this.backoff.reset();
    this._restartUntil = 0;
    this._wait(Math.round(this.env.random() * WAKE_SPREAD_MS), why, 'wake');
  };

  Subscription.prototype._watchdogMs = function () {
    return this.subTimeout > 0 ? Math.round(this.subTimeout * 1300) + 5000 : 65000;
  };

  Subscription.prototype._baseUrl = function () {
    var o = this.opts;
    if (this.transport === 'ws') return this._socket ? this._socket.url : (o.wsUrl || wsUrlFor(o.subUrl || o.url, this.env));
    if (this.transport === 'sse') {
      if (o.subUrl) return swapPath(o.subUrl, '/sse') || o.subUrl;
      return endpointUrl(o.url, '/sse');
    }
    if (o.subUrl) return o.subUrl;
    return endpointUrl(o.url, this.transport === 'jsonp' ? '/sub' : '/poll');
  };

  Subscription.prototype._params = function () {
    var t = this.tracker, p = { cname: this.channel, seq: u32(t.next), noop: u32(t.noop), token: this.token };
    // always sent, empty until the server named one: it marks a jcomet client, which the server
    // tells what it lost (gap) instead of answering it as icomet would
    p.epoch = t.epoch === null ? '' : t.epoch;
    return p;
  };

  /** Builds the subscribe URL for the current state (exposed for tests and debugging). */
  Subscription.prototype.url = function () {
    var p = this._params();
    if (this.transport !== 'sse' && this.transport !== 'ws') p._ = this.env.now();
    return buildUrl(this._baseUrl(), p);
  };

  Subscription.prototype._connect = function () {
    if (!this.running) return;
    this._cancelInflight();
    this._waitKind = null;
    if (this._offline()) return this._goOffline();
    if (this.opts.signUrl && !this.token) return this._sign();
    if (!this._pinged && !this.subTimeout && this.opts.ping !== false) this._ping();
    if (this.state !== 'connected') this._status('connecting');
    if (this.transport === 'sse') this._openSse();
    else if (this.transport === 'ws') this._openWs();
    else this._poll();
  };

  /** After a directive: poll again, wait, re-sign or stop. */
  Subscription.prototype._next = function (directive, detail) {
    if (!this.running) return;
    switch (directive) {
      case 'continue':
        if (this.transport === 'sse' || this.transport === 'ws') return; // stream goes on
        if (this._spinning()) return this._wait(1000, 'spinning', 'backoff');
        return this._connect();
      case 'noop':
        if (this.transport === 'sse' || this.transport === 'ws') return;
        // the fleet's held polls all time out polling_timeout after they came: a random pause keeps
        // them from staying in step (icomet.js does the same)
        this._cancelInflight();
        this._waitKind = 'noop';
        var self = this;
        return this._setTimer('retry', Math.round(this.env.random() * this.noopPause), function () { self._connect(); });
      case 'slow':
        return this._wait(this.backoff.next(5000), 'rate limited', 'slow');
      case 'resign':
        this.token = '';
        return this._wait(this.backoff.next(), 'sign again', 'resign');
      case 'stop':
        this.running = false;
        this._gen++;
        return this._halt();
      case 'restart': {
        // A graceful stop: the server said how wide a window its clients should spread over (it sizes
        // it from how many it held). Come back at a uniformly random moment in it; if the server is
        // not back yet, later tries keep the window as their smallest step.
        var w = Math.max(250, this.dispatcher.retryMs);
        this._restartUntil = this.env.now() + w;
        this.backoff.floor = w;
        return this._wait(Math.round(this.env.random() * w), 'server restarting', 'restart');
      }
      default:
        if (this._restartUntil && this.env.now() - this._restartUntil < 0) {
          // still inside the window: retry within one window, without growing yet
          return this._wait(Math.round(this.env.random() * this.backoff.floor), detail, 'restart');
        }
        this._restartUntil = 0;
        return this._wait(this.backoff.next(), detail, 'backoff');
    }
  };

  Subscription.prototype._wait = function (ms, detail, kind) {
    this._cancelInflight();
    this._clearTimer('watchdog'); // a wait is not a silent connection
    this._waitKind = kind || 'backoff';
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

  /** The server answered as a subscription (data, next_seq, gap, noop): the backoff starts over. */
  Subscription.prototype._ok = function () {
    if (!this.running) return;
    this.backoff.reset();
    this._restartUntil = 0;
    if (this.state !== 'connected') this._status('connected');
  };

  /** After a directive from a whole answer: success resets the backoff, then act on it. */
  Subscription.prototype._after = function (d) {
    if (d === 'continue' || d === 'noop') this._ok();
    this._next(d);
  };

  /** Messages that refuse or end a subscription (those a failed request's body may carry). */
  var REFUSALS = { '401': 1, '404': 1, '429': 1, error: 1, close: 1 };

  /**
   * A transport that cannot see the HTTP status (EventSource, <script>) failed: ask the same
   * endpoint with fetch once to tell a refusal (400 bad input, 401/404/429 as status or body) from a
   * network error. The probe asks seq=0, which a healthy server answers at once with next_seq.
   */
  Subscription.prototype._probe = function (url, detail) {
    var self = this, env = this.env, gen = this._gen;
    if (!env.fetch || this.backoff.attempt > 0) return this._next('backoff', detail); // probe the first failure only
    var ctrl = env.AbortController ? new env.AbortController() : null, done = false;
    this._inflight = { cancel: function () { done = true; if (ctrl) ctrl.abort(); } };
    var init = { cache: 'no-store', credentials: 'omit', mode: 'cors' };
    if (ctrl) init.signal = ctrl.signal;
    var finish = function (status, msg) {
      if (done || gen !== self._gen || !self.running) return;
      done = true;
      self._inflight = null;
      if (msg && typeof msg === 'object' && !Array.isArray(msg) && REFUSALS[msg.type]) {
        return self._next(self.dispatcher.dispatch(msg));
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        self._status('error', { status: status, reason: 'HTTP ' + status });
        return self._next('stop');
      }
      self._next(status === 429 ? 'slow' : 'backoff', detail);
    };
    env.fetch(url, init).then(function (res) {
      if (res.status === 200 && self.transport === 'sse') { // a stream that opens: do not read it
        if (ctrl) ctrl.abort();
        return finish(200, null);
      }
      return res.text().then(function (text) {
        var msg; try { msg = parseMaybeJsonp(text); } catch (e) { msg = null; }
        finish(res.status, msg);
      });
    }).then(null, function () { finish(0, null); });
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
      // 401/404/429 come as HTTP status or inside a 200 (icomet's way): the body decides either way
      self._after(self._dispatchPolled(msg));
    }, function () {
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
    var url = this.url();
    this._inflight = jsonpRequest(this.env, url, this.opts.callbackPrefix, 'cb', function (err, msg) {
      if (gen !== self._gen || !self.running) return;
      self._clearTimer('watchdog');
      self._inflight = null;
      if (err) {
        // a 4xx answer never runs as a script: find out what it was
        var p = self._params(); p.seq = 0;
        return self._probe(buildUrl(self._baseUrl(), p), 'network');
      }
      self._after(self._dispatchPolled(msg));
    });
  };

  // --- SSE ---------------------------------------------------------------------------------------
  Subscription.prototype._openSse = function () {
    var self = this, gen = this._gen, env = this.env;
    var es, url = this.url(), heard = false;
    try { es = new env.EventSource(url); } catch (e) { return this._next('backoff', 'network'); }
    this._inflight = { cancel: function () { es.onmessage = es.onerror = es.onopen = null; es.close(); } };
    var arm = function () {
      self._setTimer('watchdog', self._watchdogMs(), function () { self._next('backoff', 'timeout'); });
    };
    arm();
    es.onopen = function () {
      if (gen !== self._gen || !self.running) return;
      arm();
      // connected, but the backoff is reset only by a real answer: a stream that opens only to
      // carry a 429 or 401 must keep slowing down
      if (self.state !== 'connected') self._status('connected');
    };
    es.onmessage = function (ev) {
      if (gen !== self._gen || !self.running) return;
      heard = true;
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { arm(); return; }
      var d = self.dispatcher.dispatch(msg);
      if (gen !== self._gen || !self.running) return;
      if (d === 'continue' || d === 'noop') { arm(); self._ok(); return; }
      self._next(d);
    };
    es.onerror = function () {
      if (gen !== self._gen || !self.running) return;
      // The browser would reconnect on its own (Last-Event-ID); we reconnect ourselves instead so
      // that the seq/epoch we send are ours and the retry delay backs off with jitter.
      self._clearTimer('watchdog');
      var closed = es.readyState === 2; // CLOSED: an HTTP error status or a wrong content type
      self._cancelInflight();
      if (closed && !heard) return self._probe(url, 'network');
      self._next('backoff', 'network');
    };
  };

  // --- WebSocket (a channel on a shared Socket) ------------------------------------------------------
  Subscription.prototype._openWs = function () {
    var self = this, o = this.opts;
    if (!this._socket) {
      this._socket = o.socket instanceof Socket ? o.socket
        : (o.multiplex === false ? new Socket({ wsUrl: o.wsUrl, url: o.subUrl || o.url, env: this.env }) : sharedSocketFor(this));
    }
    var socket = this._socket;
    if (wsBlocked(socket.env.WebSocket, socket.url)) return this._wsBlocked();
    // set before subscribing: a WebSocket constructor that throws ends in _wsBlocked() right inside
    // subscribe(), which must find (and cancel) these, not have its SSE replaced by them afterwards
    this._inflight = { cancel: function () { socket.unsubscribe(self); } };
    this._armWs();
    if (!socket.subscribe(this)) {
      this._status('error', { reason: 'channel ' + this.channel + ' is already subscribed on this socket' });
      this._next('stop');
    }
  };
  /** Watchdog: a channel hears at least a noop every polling_timeout. When the whole socket has been
   *  silent that long it is dead (half-open TCP) and every channel on it reconnects; otherwise only
   *  this channel subscribes again. */
  Subscription.prototype._armWs = function () {
    var self = this, ms = this._watchdogMs();
    this._setTimer('watchdog', ms, function () {
      var s = self._socket;
      if (s && s.connected && self.env.now() - s.lastFrameAt >= ms) return s.kill();
      self._next('backoff', 'timeout');
    });
  };
  /** One frame for this channel (the Socket routes by cname). */
  Subscription.prototype._wsMessage = function (msg) {
    if (!this.running) return;
    if (msg.type === 'sub_ok') {
      this._wsState = 'subscribed';
      this._armWs();
      if (this.state !== 'connected') this._status('connected'); // the backoff resets on a real answer only
      return;
    }
    if (msg.type === 'unsub_ok') return;
    if (msg.type === 'error' && msg.op != null) {
      if (msg.op === 'rate') { this._wsState = 'ended'; return this._next('slow', 'rate limited'); }
      if (msg.op !== 'sub') return; // an unsub the server had already ended: nothing to do
      // the server refused the sub frame (bad cname, too many channels on the socket...)
      this._wsState = 'ended';
      this._status('error', msg);
      return this._next('stop');
    }
    var d = this.dispatcher.dispatch(msg);
    if (!this.running) return;
    if (d === 'continue' || d === 'noop') { this._armWs(); this._ok(); return; }
    // 401/404/429/close/reconnect/error end this channel's subscription on the server, not the socket
    this._wsState = 'ended';
    this._next(d);
  };
  /** The socket went away (or never opened, and the server is down): reconnect after our own backoff. */
  Subscription.prototype._wsLost = function (why) {
    if (!this.running) return;
    this._next('backoff', why);
  };
  /** WebSocket is blocked between the page and the server: go on with SSE or long-poll. */
  Subscription.prototype._wsBlocked = function () {
    if (!this.running) return;
    this._cancelInflight();
    if (this._socket) { this._socket.detach(this); this._socket = null; }
    var to = this._fallbackTransport();
    this.transport = to;
    this._status('fallback', { from: 'ws', to: to });
    this._connect();
  };

  Subscription.prototype._pingUrl = function () {
    var o = this.opts;
    return o.pingUrl || (o.subUrl ? swapPath(o.subUrl, '/ping') : endpointUrl(o.url, '/ping'));
  };

  // --- sub_timeout from /ping, token from sign ---------------------------------------------------
  Subscription.prototype._request = function (url, cb) {
    var env = this.env;
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

  /** Asks /ping once per start() for sub_timeout (the watchdog's measure). A failure is not retried
   *  on every poll: the watchdog keeps its default instead. */
  Subscription.prototype._ping = function () {
    var self = this, gen = this._gen, o = this.opts;
    this._pinged = true;
    var url = this._pingUrl();
    if (!url) return;
    var req = this._request(url, function (err, msg) {
      self._pingReq = null;
      if (gen !== self._gen) return;
      if (!err && msg && msg.sub_timeout > 0) self.subTimeout = msg.sub_timeout;
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
    var env = makeEnv(opts.env);
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

  /** jQuery's `cb=?` / `callback=?` placeholder in an icomet pub_url: {url without it, param name} or null. */
  function jsonpPlaceholder(url) {
    var m = /([?&])(cb|callback|jsoncallback)=\?(&|$)/.exec(url);
    if (!m) return null;
    var clean = url.slice(0, m.index) + (m[3] ? m[1] : '') + url.slice(m.index + m[0].length);
    return { url: clean, param: m[2] };
  }

  // ---------------------------------------------------------------------------------------------
  // iComet: drop-in for icomet.js pages (same config names, same fields, starts on construction)
  // ---------------------------------------------------------------------------------------------
  function iComet(config) {
    if (!(this instanceof iComet)) return new iComet(config);
    config = config || {};
    var env = makeEnv(config.env);
    this.config = config;
    this.env = env;
    // icomet.js reads both spellings: sub_url/subUrl, sign_url/signUrl, pub_url/pubUrl, callback/sub_callback
    var subUrl = config.sub_url || config.subUrl || '/sub';
    var signUrl = config.sign_url || config.signUrl;
    this.pub_url = config.pub_url || config.pubUrl || null;
    var cb = config.callback || config.sub_callback;
    var transport = 'jsonp';
    // like icomet.js: use SSE when the browser has EventSource and the URL is a /sub endpoint
    if (env.EventSource && config.transport !== 'jsonp' && swapPath(subUrl, '/sse')) transport = 'sse';
    if (config.transport && TRANSPORTS[config.transport]) transport = config.transport;
    this.sub = new Subscription({
      env: env,
      channel: config.channel,
      subUrl: subUrl,
      signUrl: signUrl,
      transport: transport,
      token: config.token,
      callbackPrefix: config.callbackPrefix,
      signJsonp: config.signJsonp !== false && env.document != null, // like icomet.js
      onMessage: function (content, msg) {
        if (typeof cb === 'function') cb(content, msg.type);
      },
      onGap: config.onGap,
      onStatus: config.onStatus
    });
    this.start();
  }
  // icomet.js's fields: the channel and token it uses (updated by the sign answer)
  Object.defineProperty(iComet.prototype, 'cname', { get: function () { return this.sub.channel; } });
  Object.defineProperty(iComet.prototype, 'token', { get: function () { return this.sub.token; } });
  iComet.prototype.start = function () { this.sub.start(); return this; };
  iComet.prototype.stop = function () { this.sub.stop(); return this; };
  /**
   * pub(content, cb): pub_url?cname=..&content=.., cb(answer) like icomet.js. A jQuery-style
   * `cb=?` in pub_url becomes a real JSONP callback (a <script>), as $.getJSON did; without a
   * document it is dropped and fetch is used.
   */
  iComet.prototype.pub = function (content, cb) {
    var url = this.pub_url, env = this.env;
    if (!url) return Promise.reject(new Error('iComet: pub_url is not configured'));
    var params = { cname: this.cname, content: content }, p;
    var ph = jsonpPlaceholder(url);
    if (ph && env.document) {
      p = new Promise(function (resolve, reject) {
        jsonpRequest(env, buildUrl(ph.url, params), 'jcomet_pub_', ph.param, function (err, v) {
          if (err) { err.body = { type: 'error', reason: 'publish failed' }; reject(err); } else resolve(v);
        });
      });
    } else {
      p = publish(ph ? ph.url : url, params, { env: env });
    }
    if (typeof cb === 'function') p.then(cb, function (e) { cb(e.body || { type: 'error', reason: e.message }); });
    return p;
  };

  var api = {
    version: VERSION,
    Subscription: Subscription,
    Socket: Socket,
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
    swapPath: swapPath,
    wsUrlFor: wsUrlFor
  };
  // `import JComet from 'jcomet.js'` compiled to CommonJS reads `.default`
  api['default'] = api;
  return api;
});
