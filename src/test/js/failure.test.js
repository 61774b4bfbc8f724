'use strict';
// jcomet.js under failure: restarts, crashes, offline, refusals, seq wrap, stop(), leaks, icomet.js
// compatibility. Each test reproduces a defect the client once had (see the test name), on the fake
// browser of fake-env.js (manual clock, scripted fetch/EventSource/<script>, online/offline events).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { fakeEnv } = require('./fake-env.js');

const JS = path.join(__dirname, '..', '..', '..', 'webapp', 'js', 'jcomet.js');
const J = require(JS);

const data = (seq, epoch, content) => ({ type: 'data', cname: 'room1', seq, epoch, content: content ?? 'm' + seq });
const q = (req, k) => req.url.searchParams.get(k);

function newSub(f, opts) {
  const log = [];
  const sub = new J.Subscription(Object.assign({
    env: f.env, url: 'http://front.test', channel: 'room1', ping: false,
    onMessage: (c, m) => log.push(['msg', c, m.seq]),
    onGap: (g) => log.push(['gap', g.from, g.to, g.count, g.reason]),
    onStatus: (s, d) => log.push(['status', s, d && d.delay]),
  }, opts));
  return {
    sub, log,
    msgs: () => log.filter((e) => e[0] === 'msg').map((e) => e[1]),
    gaps: () => log.filter((e) => e[0] === 'gap').map((e) => e.slice(1)),
    statuses: () => log.filter((e) => e[0] === 'status').map((e) => e[1]),
    delays: () => log.filter((e) => e[1] === 'waiting').map((e) => e[2]),
  };
}

// ---- restart: never skip silently ---------------------------------------------------------------
test('restart: a client started at seq 1 without an epoch learns it from data and replays the new run', async () => {
  const f = fakeEnv();
  const c = newSub(f, { seq: 1 });
  c.sub.start();
  let r = f.pending();
  assert.equal(q(r, 'seq'), '1');
  assert.equal(q(r, 'epoch'), '', 'no epoch known yet (sent empty)');
  r.respond(200, [data(1, 'E1'), data(2, 'E1')]);
  await f.flush();
  r = f.pending();
  assert.equal(q(r, 'seq'), '3');
  assert.equal(q(r, 'epoch'), 'E1', 'learnt from the data messages');
  r.respond(200, { type: 'reconnect', cname: 'room1', seq: 0, retry_ms: 2000 });   // graceful stop
  await f.flush();
  await f.advance(c.delays().pop());
  r = f.pending();
  assert.equal(q(r, 'epoch'), 'E1');
  // the restarted server has E2 and already holds two new messages: it points the stale client at its oldest
  r.respond(200, { type: 'next_seq', cname: 'room1', seq: 1, epoch: 'E2' });
  await f.flush();
  r = f.pending();
  assert.equal(q(r, 'seq'), '1');
  assert.equal(q(r, 'epoch'), 'E2');
  r.respond(200, [data(1, 'E2', 'new 1'), data(2, 'E2', 'new 2')]);
  await f.flush();
  assert.deepEqual(c.msgs(), ['m1', 'm2', 'new 1', 'new 2'], 'nothing of the new run skipped');
  assert.ok(c.statuses().includes('restarted'));
  assert.deepEqual(c.gaps(), []);
  c.sub.stop();
});

test('restart: what the new run no longer buffers is reported as a restart gap', async () => {
  const f = fakeEnv();
  const c = newSub(f, { seq: 7, epoch: 'E1' });
  c.sub.start();
  f.pending().respond(200, { type: 'next_seq', cname: 'room1', seq: 4, epoch: 'E2' }); // oldest kept: 4
  await f.flush();
  assert.deepEqual(c.gaps(), [[1, 3, 3, 'restart']]);
  assert.equal(q(f.pending(), 'seq'), '4');
  c.sub.stop();
});

test('restart: data of another epoch without a next_seq first is not trusted to follow on', () => {
  const log = [];
  const t = new J.SeqTracker(10, 'E1');
  const d = new J.Dispatcher(t, {
    onMessage: (c) => log.push(['msg', c]), onGap: (g) => log.push(['gap', g.from, g.to, g.reason]), onStatus: (s) => log.push(['status', s]),
  });
  d.dispatch(data(3, 'E2', 'three'));
  assert.deepEqual(log, [['status', 'restarted'], ['gap', 1, 2, 'restart'], ['msg', 'three']],
    'the old tracker would have dropped seq 3 as a duplicate of the old run');
  assert.equal(t.next, 4);
});

test('restart: next_seq pointing back while no epoch is known (icomet, or a lost epoch) replays the channel from 1', async () => {
  const f = fakeEnv();
  const c = newSub(f, { seq: 5 });
  c.sub.start();
  f.pending().respond(200, { type: 'next_seq', cname: 'room1', seq: 3 }); // the channel never reached 5: re-created
  await f.flush();
  assert.ok(c.statuses().includes('restarted'));
  assert.equal(q(f.pending(), 'seq'), '1', 'asks for the new run from its start instead of skipping 1..2');
  f.pending().respond(200, [data(1), data(2)]);
  await f.flush();
  assert.deepEqual(c.msgs(), ['m1', 'm2']);
  c.sub.stop();
});

test('restart: a quiet channel tells its epoch through noop', async () => {
  const f = fakeEnv();
  const c = newSub(f, { seq: 1 });
  c.sub.start();
  f.pending().respond(200, { type: 'noop', cname: 'room1', seq: 0, epoch: 'E1' });
  await f.flush();
  await f.advance(1000);
  assert.equal(q(f.pending(), 'epoch'), 'E1');
  c.sub.stop();
});

// ---- seq wrap -----------------------------------------------------------------------------------
test('wrap: after 4294967295 comes 1, with no false gap and never seq=0', async () => {
  const f = fakeEnv();
  const c = newSub(f, { seq: 4294967294, epoch: 'E' });
  c.sub.start();
  f.pending().respond(200, [data(4294967294, 'E'), data(4294967295, 'E')]);
  await f.flush();
  assert.equal(q(f.pending(), 'seq'), '1', 'asks 1, not 0 ("where are you?", which would skip)');
  assert.equal(c.sub.seq, 1);
  f.pending().respond(200, [data(1, 'E'), data(2, 'E')]);
  await f.flush();
  assert.deepEqual(c.gaps(), []);
  assert.deepEqual(c.msgs(), ['m4294967294', 'm4294967295', 'm1', 'm2']);
  c.sub.stop();
  // a real hole across the wrap counts the seqs the server assigned (0 is not one)
  const t = new J.SeqTracker(4294967294, 'E');
  assert.deepEqual(t.onData(2).gap, { from: 4294967294, to: 1, count: 3, reason: 'skipped' });
});

// ---- offline / online / visibility --------------------------------------------------------------
test('offline: no requests while offline; back online it reconnects within a second, not 12-30 s later', async () => {
  const f = fakeEnv();
  const c = newSub(f, { seq: 1 });
  c.sub.start();
  const held = f.pending();
  f.goOffline();
  await f.flush();
  assert.ok(held.aborted, 'the held request is dropped');
  assert.equal(c.sub.state, 'offline');
  const before = f.requests.length;
  await f.advance(120000);
  assert.equal(f.requests.length, before, 'two minutes offline: not one request');
  f.goOnline();
  await f.flush();
  await f.advance(1000);
  assert.equal(f.requests.length, before + 1, 'reconnected within 1 s (random pause 0-1 s)');
  assert.equal(q(f.pending(), 'seq'), '1');
  c.sub.stop();
  assert.equal(f.global.listenerCount(), 0, 'stop() removes its listeners');
  assert.equal(f.env.document.listenerCount(), 0);
});

test('visibility: a page shown again after a long backoff reconnects soon', async () => {
  const f = fakeEnv();
  f.env.random = () => 0.99;
  const c = newSub(f, { seq: 1 });
  c.sub.start();
  for (let i = 0; i < 4; i++) {             // the server is away: the step grows to 30 s
    f.pending().fail();
    await f.flush();
    if (i < 3) await f.advance(c.delays().pop());
  }
  assert.ok(c.delays().pop() > 25000);
  f.setVisible(false);
  f.setVisible(true);
  await f.advance(1000);
  assert.ok(f.pending(), 'asked again within 1 s of being shown');
  c.sub.stop();
});

// ---- refusals on SSE, JSONP and poll ------------------------------------------------------------
test('sse: a stream that opens only to carry 429 keeps slowing down (onopen does not reset the backoff)', async () => {
  const f = fakeEnv();
  f.env.random = () => 1;
  const c = newSub(f, { transport: 'sse', seq: 1 });
  c.sub.start();
  for (let i = 0; i < 4; i++) {
    const es = f.sources[f.sources.length - 1];
    es.open();
    es.send({ type: '429', cname: 'room1', seq: 0, content: 'Too many subscribers' });
    await f.advance(c.delays().pop());
  }
  assert.deepEqual(c.delays(), [10000, 20000, 30000, 30000], 'grows (random 1 here: the top of each step), not a flat pace');
  c.sub.stop();
});

test('sse: a rejected token re-signs with a growing delay, not every 375 ms', async () => {
  const f = fakeEnv();
  f.env.random = () => 1;
  const c = newSub(f, { transport: 'sse', signUrl: '/app/sign' });
  c.sub.start();
  for (let i = 0; i < 3; i++) {
    f.pending().respond(200, { type: 'sign', cname: 'room1', token: 'x'.repeat(32), sub_timeout: 30 });
    await f.flush();
    const es = f.sources[f.sources.length - 1];
    es.open();
    es.send({ type: '401', cname: 'room1', seq: 0, content: 'Token error' });
    await f.advance(c.delays().pop());
  }
  assert.deepEqual(c.delays(), [10000, 20000, 30000], 'the backoff steps, not a flat 375 ms');
  c.sub.stop();
});

test('sse: HTTP 400 (bad channel name) is reported as an error and not retried', async () => {
  const f = fakeEnv();
  const c = newSub(f, { transport: 'sse', channel: 'bad name' });
  c.sub.start();
  f.sources[0].error(true);                 // the browser gives up: not a 200 event stream
  const probe = f.pending();
  assert.equal(probe.url.pathname, '/sse', 'asks the same URL once with fetch to see the status');
  probe.respond(400, { type: 'error', reason: 'bad cname' });
  await f.flush();
  assert.equal(c.sub.state, 'error');
  assert.equal(c.sub.running, false);
  await f.advance(120000);
  assert.equal(f.sources.length, 1, 'never retried');
  assert.equal(f.timers.size, 0);
});

test('sse: 401/404/429 given as HTTP status reach the page like the same type inside a 200 stream', async () => {
  for (const [type, state] of [['401', 'unauthorized'], ['404', 'not_found'], ['429', 'rate_limited']]) {
    const f = fakeEnv();
    const c = newSub(f, { transport: 'sse', seq: 1 });
    c.sub.start();
    f.sources[0].error(true);
    f.pending().respond(+type, { type, cname: 'room1', seq: 0, content: 'x' });
    await f.flush();
    assert.ok(c.statuses().includes(state), type + ' as status');
    c.sub.stop();
    const g = fakeEnv();
    const d = newSub(g, { transport: 'sse', seq: 1 });
    d.sub.start();
    g.sources[0].open();
    g.sources[0].send({ type, cname: 'room1', seq: 0, content: 'x' });
    assert.ok(d.statuses().includes(state), type + ' in the body');
    assert.equal(d.sub.running, type === '429', type === '429' ? '429 waits' : 'no sign URL: stops');
    d.sub.stop();
  }
});

test('sse: a network error (the browser would retry) is not probed, it backs off', async () => {
  const f = fakeEnv();
  const c = newSub(f, { transport: 'sse', seq: 1 });
  c.sub.start();
  f.sources[0].error(false);
  assert.equal(f.requests.length, 0);
  assert.equal(c.sub.state, 'waiting');
  c.sub.stop();
});

test('jsonp: HTTP 400 (the script never runs) is reported as an error and not retried', async () => {
  const f = fakeEnv();
  const c = newSub(f, { transport: 'jsonp', channel: 'bad name', seq: 1 });
  c.sub.start();
  f.scripts[0].onerror();
  const probe = f.pending();
  assert.equal(probe.url.pathname, '/sub');
  assert.equal(q(probe, 'seq'), '0', 'a probe a healthy server answers at once');
  assert.equal(q(probe, 'cb'), null);
  probe.respond(400, { type: 'error', reason: 'bad cname' });
  await f.flush();
  assert.equal(c.sub.state, 'error');
  await f.advance(120000);
  assert.equal(f.scripts.length, 1, 'never retried');
});

test('jsonp: a refusal inside a 200 answer, and a network error after the probe, behave like poll', async () => {
  const f = fakeEnv();
  const c = newSub(f, { transport: 'jsonp', seq: 1 });
  c.sub.start();
  const cb = new URL(f.scripts[0].src).searchParams.get('cb');
  f.global[cb]({ type: '429', cname: 'room1', seq: 0, content: 'Too many channels' });
  await f.flush();
  assert.equal(c.sub.state, 'waiting');
  assert.ok(c.delays().pop() >= 5000);
  await f.advance(10000);
  f.scripts[1].onerror();
  assert.equal(f.requests.length, 0, 'only the first failure of a streak is probed');
  assert.equal(c.sub.state, 'waiting');
  c.sub.stop();

  const g = fakeEnv();
  const d = newSub(g, { transport: 'jsonp', seq: 1 });
  d.sub.start();
  g.scripts[0].onerror();
  g.pending().respond(200, { type: 'next_seq', cname: 'room1', seq: 1, epoch: 'E' }); // the server is fine: it was the network
  await g.flush();
  assert.equal(d.sub.state, 'waiting');
  assert.equal(d.sub.epoch, null, 'the probe\'s answer does not move the subscription');
  d.sub.stop();
});

test('poll: 401/404/429 as HTTP status or in a 200 body both reach the page', async () => {
  for (const status of [200, 401]) {
    const f = fakeEnv();
    const c = newSub(f, { seq: 1 });
    c.sub.start();
    f.pending().respond(status, { type: '401', cname: 'room1', seq: 0, content: 'Token error' });
    await f.flush();
    assert.equal(c.sub.state, 'unauthorized', 'status ' + status);
    assert.equal(c.sub.running, false);
  }
});

// ---- watchdog, ping ---------------------------------------------------------------------------
test('sse: the watchdog is disarmed during a wait: a 429 wait is not cut short', async () => {
  const f = fakeEnv();
  const c = newSub(f, { transport: 'sse', seq: 1, subTimeout: 1 });  // watchdog 1.3 s + 5 s
  c.sub.start();
  f.sources[0].open();
  f.sources[0].send({ type: '429', cname: 'room1', seq: 0, content: 'x' });
  const wait = c.delays().pop();
  assert.ok(wait > 6300, 'the wait is longer than the watchdog: ' + wait);
  await f.advance(wait - 1);
  assert.equal(f.sources.length, 1, 'no reconnect before the wait is over');
  await f.advance(1);
  assert.equal(f.sources.length, 2);
  c.sub.stop();
});

test('ping: one failing /ping is not retried on every poll', async () => {
  const f = fakeEnv();
  const c = newSub(f, { ping: true, seq: 1 });
  c.sub.start();
  const pings = () => f.requests.filter((r) => r.url.pathname === '/ping');
  pings()[0].respond(502, 'bad gateway');
  for (let i = 0; i < 5; i++) {
    const p = f.requests.filter((r) => r.url.pathname === '/poll' && !r.settled).pop();
    p.respond(200, data(i + 1, 'E'));
    await f.flush();
  }
  assert.equal(pings().length, 1, 'polls: ' + f.requests.length);
  c.sub.stop();
});

// ---- stop() -----------------------------------------------------------------------------------
test('stop() inside onMessage: the rest of the batch is not delivered and the status stays stopped', async () => {
  const f = fakeEnv();
  const seen = [], states = [];
  const sub = new J.Subscription({
    env: f.env, url: 'http://front.test', channel: 'room1', ping: false, seq: 1,
    onMessage: (content) => { seen.push(content); if (content === 'm2') sub.stop(); },
    onStatus: (s) => states.push(s),
  });
  sub.start();
  f.pending().respond(200, [data(1, 'E'), data(2, 'E'), data(3, 'E'), data(4, 'E')]);
  await f.flush();
  assert.deepEqual(seen, ['m1', 'm2']);
  assert.equal(sub.state, 'stopped');
  assert.equal(states[states.length - 1], 'stopped', 'not back to connected: ' + states);
  assert.equal(f.pending(), undefined);
  assert.equal(f.timers.size, 0);
});

// ---- JSONP leaks and collisions ----------------------------------------------------------------
test('jsonp: 1,000 answers leave no global behind; stop() leaves none once the late answer or its time is up', async () => {
  const f = fakeEnv();
  const c = newSub(f, { transport: 'jsonp', seq: 1 });
  c.sub.start();
  for (let i = 1; i <= 1000; i++) {
    const s = f.scripts[f.scripts.length - 1];
    f.global[new URL(s.src).searchParams.get('cb')](data(i, 'E'));
    await f.flush();
    assert.ok(s.removed);
  }
  assert.equal(c.msgs().length, 1000);
  assert.equal(f.globals().length, 1, 'only the request in flight: ' + f.globals().slice(0, 3));
  c.sub.stop();
  assert.equal(f.globals().length, 1, 'a stub waits for the late answer of the cancelled script');
  await f.advance(120000);
  assert.deepEqual(f.globals(), [], 'gone after stop()');
  assert.equal(f.timers.size, 0);
});

test('jsonp: two copies of the client on one page use different callback names; never icomet_cb_N', () => {
  delete require.cache[require.resolve(JS)];
  const J2 = require(JS);
  delete require.cache[require.resolve(JS)];
  require(JS); // leave the module cache as the other tests expect? they hold J already
  const f = fakeEnv();
  const a = new J.Subscription({ env: f.env, url: 'http://front.test', channel: 'c', transport: 'jsonp', ping: false }).start();
  const b = new J2.Subscription({ env: f.env, url: 'http://front.test', channel: 'c', transport: 'jsonp', ping: false }).start();
  const [ca, cb] = f.scripts.map((s) => new URL(s.src).searchParams.get('cb'));
  assert.notEqual(ca, cb);
  assert.notEqual(ca.replace(/_\d+$/, ''), cb.replace(/_\d+$/, ''), 'a random prefix per load: ' + ca + ' ' + cb);
  assert.doesNotMatch(ca, /^icomet_cb_/);
  a.stop(); b.stop();
});

// ---- iComet (icomet.js's names) and publish --------------------------------------------------
test('iComet: snake_case options, cname/token fields, callable without new', async () => {
  const f = fakeEnv();
  const got = [];
  // eslint-disable-next-line new-cap
  const c = J.iComet({
    env: f.env, channel: 'ch', sub_url: 'http://front.test/sub', sign_url: 'http://app.test/sign',
    pub_url: 'http://app.test/pub', sub_callback: (content, type) => got.push([content, type]),
  });
  assert.ok(c instanceof J.iComet);
  assert.equal(c.cname, 'ch');
  assert.equal(c.token, '');
  const sign = new URL(f.scripts[0].src);
  assert.equal(sign.host, 'app.test', 'sign_url used');
  f.global[sign.searchParams.get('cb')]({ type: 'sign', cname: 'ch2', token: 't'.repeat(32), sub_timeout: 30 });
  assert.equal(c.token, 't'.repeat(32));
  assert.equal(c.cname, 'ch2', 'the sign answer\'s cname, like icomet.js');
  const es = f.sources[0];
  assert.equal(es.url.host, 'front.test', 'sub_url used');
  es.send(data(1, 'E', 'hi'));
  assert.deepEqual(got, [['hi', 'data']], 'sub_callback used');
  assert.equal(c.pub_url, 'http://app.test/pub');
  c.stop();
});

test('iComet.pub(): a jQuery `cb=?` becomes a real JSONP callback, never sent literally', async () => {
  const f = fakeEnv();
  f.env.EventSource = null;
  const c = new J.iComet({ env: f.env, channel: 'ch', subUrl: 'http://front.test/sub', pubUrl: 'http://admin.test/push?cb=?', callback() {} });
  let answer;
  const p = c.pub('hello', (a) => { answer = a; });
  const s = f.scripts.find((x) => new URL(x.src).pathname === '/push');
  const u = new URL(s.src);
  assert.doesNotMatch(s.src, /cb=%3F|cb=\?/);
  assert.match(u.searchParams.get('cb'), /^jcomet_pub_[0-9a-z]+_\d+$/);
  assert.equal(u.searchParams.get('cname'), 'ch');
  assert.equal(u.searchParams.get('content'), 'hello');
  f.global[u.searchParams.get('cb')]({ type: 'ok', seq: 1 });
  assert.deepEqual(await p, { type: 'ok', seq: 1 });
  assert.deepEqual(answer, { type: 'ok', seq: 1 });
  assert.equal(f.globals().filter((g) => g.startsWith('jcomet_pub_')).length, 0);
  c.stop();
  // without a document (node, workers): the placeholder is dropped and fetch is used
  const g = fakeEnv();
  g.env.document = null;
  const d = new J.iComet({ env: g.env, channel: 'ch', subUrl: 'http://front.test/sub', pubUrl: 'http://admin.test/push?cb=?&x=1', transport: 'poll', callback() {} });
  d.pub('hi');
  const r = g.requests.find((x) => x.url.pathname === '/push');
  assert.equal(r.url.search, '?x=1&cname=ch&content=hi');
  d.stop();
});

// ---- env, module shapes -------------------------------------------------------------------------
test('env: a partial environment is completed from the defaults (it used to crash)', () => {
  const sub = new J.Subscription({ channel: 'c', url: 'http://x.test', env: { random: () => 0.5 } });
  assert.equal(typeof sub.env.setTimeout, 'function');
  assert.match(sub.url(), /^http:\/\/x\.test\/poll\?cname=c&seq=0&noop=0&token=&epoch=&_=\d+$/);
});

test('module shapes: CommonJS default export; the ES module exports the helpers its types declare', async () => {
  assert.equal(J.default, J, 'require(...).default for `import JComet from` compiled to CommonJS');
  const m = await import(path.join(__dirname, '..', '..', '..', 'webapp', 'js', 'jcomet.mjs'));
  for (const k of ['seqDiff', 'seqNext', 'buildUrl', 'parseMaybeJsonp', 'isCallbackName', 'endpointUrl', 'swapPath', 'version']) {
    assert.ok(m[k] !== undefined, k);
  }
});
