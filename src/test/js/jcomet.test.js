'use strict';
// Unit tests of webapp/js/jcomet.js with Node's built-in runner: `node --test src/test/js`.
// The pure logic (seq tracking, backoff, dispatch) is tested directly; the Subscription's transport
// loops run against a fake browser (manual clock, scripted fetch/EventSource/<script>).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { fakeEnv } = require('./fake-env.js');

const J = require(path.join(__dirname, '..', '..', '..', 'webapp', 'js', 'jcomet.js'));

const data = (seq, content, extra) => Object.assign({ type: 'data', cname: 'c', seq, content: content ?? 'm' + seq }, extra);

// ------------------------------------------------------------------------------------------------
test('seq arithmetic wraps at 32 bits and compares by signed difference', () => {
  assert.equal(J.seqNext(5), 6);
  assert.equal(J.seqNext(2147483647), -2147483648);
  assert.equal(J.seqDiff(-2147483648, 2147483647), 1);
  assert.equal(J.seqNext(4294967295), 1, 'the server never assigns 0: after 4294967295 comes 1');
  assert.equal(J.seqNext(-1), 1);
  assert.equal(J.seqDiff(3, 7), -4);
});

test('SeqTracker delivers in order, drops duplicates, reports skipped seqs', () => {
  const t = new J.SeqTracker();
  assert.equal(t.next, 0);
  t.onNextSeq(10);
  assert.deepEqual(t.onData(10), { deliver: true, gap: null });
  assert.deepEqual(t.onData(10), { deliver: false, gap: null }, 'duplicate dropped');
  assert.deepEqual(t.onData(9), { deliver: false, gap: null }, 'old replay dropped');
  const r = t.onData(14);
  assert.equal(r.deliver, true);
  assert.deepEqual(r.gap, { from: 11, to: 13, count: 3, reason: 'skipped' });
  assert.equal(t.next, 15);
});

test('SeqTracker: first data without next_seq sets the position without a gap', () => {
  const t = new J.SeqTracker(0);
  assert.deepEqual(t.onData(42), { deliver: true, gap: null });
  assert.equal(t.next, 43);
});

test('SeqTracker: gap message moves past the lost seqs and is reported once', () => {
  const t = new J.SeqTracker(3);
  assert.deepEqual(t.onGap(3, 9), { from: 3, to: 9, count: 7, reason: 'lost' });
  assert.equal(t.next, 10);
  assert.equal(t.onGap(3, 9), null, 'repeated gap is not reported again');
  assert.deepEqual(t.onData(10), { deliver: true, gap: null });
});

test('SeqTracker: resume position and epoch survive; epoch change is detected', () => {
  const t = new J.SeqTracker(7, 'e1');
  assert.equal(t.synced, true);
  assert.equal(t.seeEpoch('e1'), false);
  assert.equal(t.seeEpoch(undefined), false);
  assert.equal(t.seeEpoch('e2'), true);
  assert.equal(t.epoch, 'e2');
  // after a restart the server points back to its oldest buffered seq: accepted
  t.onNextSeq(1);
  assert.equal(t.next, 1);
  assert.deepEqual(t.onData(1), { deliver: true, gap: null });
});

test('SeqTracker: noop counter advances only when the server echoes it', () => {
  const t = new J.SeqTracker();
  t.onNoop(0); assert.equal(t.noop, 1);
  t.onNoop(0); assert.equal(t.noop, 1);
  t.onNoop(1); assert.equal(t.noop, 2);
});

// ------------------------------------------------------------------------------------------------
test('Backoff grows exponentially with full jitter and is capped', () => {
  const b = new J.Backoff({ base: 100, max: 1000, random: () => 1 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000]);
  b.reset();
  assert.equal(b.next(), 100);
});

test('Backoff full jitter spans [0, step]: a fleet that failed together does not retry together', () => {
  let i = 0;
  const rs = [0, 0.25, 0.999, 0.5];
  const b = new J.Backoff({ base: 1000, max: 60000, random: () => rs[i++ % rs.length] });
  const seen = [];
  for (let n = 0; n < 12; n++) {
    const step = Math.min(60000, 1000 * 2 ** n);
    const d = b.next();
    seen.push(d / step);
    assert.ok(d >= 0 && d <= step, `attempt ${n}: ${d} within [0, ${step}]`);
  }
  assert.ok(Math.min(...seen) === 0 && Math.max(...seen) > 0.99, 'the whole range is used');
});

test('Backoff floor: a server window raises the step; reset() drops it', () => {
  const b = new J.Backoff({ base: 1000, max: 30000, random: () => 1 });
  b.floor = 20000;
  assert.deepEqual([b.next(), b.next(), b.next()], [20000, 30000, 30000], 'steps double from the window');
  b.attempt = 0;
  b.floor = 45000;
  assert.equal(b.next(), 45000, 'a window wider than max is honoured');
  b.reset();
  assert.equal(b.next(), 1000);
});

test('Backoff honours a minimum (429: 5-10 s like icomet)', () => {
  for (const r of [0, 0.5, 0.999]) {
    const d = new J.Backoff({ base: 500, random: () => r }).next(5000);
    assert.ok(d >= 5000 && d <= 10000, String(d));
  }
});

// ------------------------------------------------------------------------------------------------
function recorder() {
  const log = [];
  return {
    log,
    onMessage: (content, msg) => log.push(['msg', content, msg.seq]),
    onGap: (info) => log.push(['gap', info.from, info.to, info.reason]),
    onStatus: (s) => log.push(['status', s]),
  };
}

test('Dispatcher: a long-poll batch [gap, data...] reports the gap first, then delivers in order', () => {
  const r = recorder();
  const d = new J.Dispatcher(new J.SeqTracker(3, 'e'), r);
  const dir = d.dispatch([{ type: 'gap', cname: 'c', from: 3, to: 9, epoch: 'e' }, data(10), data(11), data(11)]);
  assert.equal(dir, 'continue');
  assert.deepEqual(r.log, [['gap', 3, 9, 'lost'], ['msg', 'm10', 10], ['msg', 'm11', 11]]);
});

test('Dispatcher: next_seq and unknown types continue, noop pauses; broadcast is delivered', () => {
  const r = recorder();
  const t = new J.SeqTracker();
  const d = new J.Dispatcher(t, r);
  assert.equal(d.dispatch({ type: 'next_seq', cname: 'c', seq: 4, epoch: 'x' }), 'continue');
  assert.equal(t.next, 4);
  assert.equal(d.dispatch({ type: 'noop', cname: 'c', seq: 0 }), 'noop', 'noop: poll again after a pause');
  assert.equal(t.noop, 1);
  assert.equal(d.dispatch({ type: 'something_new' }), 'continue');
  assert.equal(d.dispatch({ type: 'broadcast', cname: 'c', seq: 4, content: 'all' }), 'continue');
  assert.deepEqual(r.log, [['msg', 'all', 4]]);
});

test('Dispatcher: 401/404 stop without a sign URL, re-sign with one; 429 slow; close stop; error stop', () => {
  const r = recorder();
  const d = new J.Dispatcher(new J.SeqTracker(), r);
  assert.equal(d.dispatch({ type: '401', cname: 'c', content: 'Token error' }), 'stop');
  assert.equal(d.dispatch({ type: '404', cname: 'c', content: 'Not Found' }), 'stop');
  d.canResign = true;
  assert.equal(d.dispatch({ type: '401', cname: 'c' }), 'resign');
  assert.equal(d.dispatch({ type: '404', cname: 'c' }), 'resign');
  assert.equal(d.dispatch({ type: '429', cname: 'c', content: 'Too many subscribers' }), 'slow');
  assert.equal(d.dispatch({ type: 'reconnect', cname: 'c', retry_ms: 2000 }), 'restart');
  assert.equal(d.retryMs, 2000);
  assert.equal(d.dispatch({ type: 'close', cname: 'c', seq: 3 }), 'stop');
  assert.equal(d.dispatch({ type: 'error', reason: 'bad cname' }), 'stop');
  assert.deepEqual(r.log.map((e) => e[1]), ['unauthorized', 'not_found', 'unauthorized', 'not_found', 'rate_limited', 'closed', 'error']);
  assert.equal(d.dispatch([data(1), { type: 'close' }, data(2)]), 'stop', 'batch directive is the worst one');
});

test('Dispatcher: after a restart, seqs before the oldest surviving one are reported lost', () => {
  const r = recorder();
  const d = new J.Dispatcher(new J.SeqTracker(12, 'old'), r);
  d.dispatch([{ type: 'next_seq', seq: 6, epoch: 'new' }, data(6), data(7)]);
  assert.deepEqual(r.log, [['status', 'restarted'], ['gap', 1, 5, 'restart'], ['msg', 'm6', 6], ['msg', 'm7', 7]]);
  r.log.length = 0;
  d.dispatch({ type: 'next_seq', seq: 1, epoch: 'newer' });  // nothing published since: nothing lost
  d.dispatch({ type: 'next_seq', seq: 8, epoch: 'newer' });  // same epoch: not a restart
  assert.deepEqual(r.log, [['status', 'restarted']]);
  const fresh = recorder();
  new J.Dispatcher(new J.SeqTracker(), fresh).dispatch({ type: 'next_seq', seq: 40, epoch: 'e' });
  assert.deepEqual(fresh.log, [], 'a first subscription starts at the newest message: no gap');
});

test('Dispatcher: epoch change reports "restarted"; a throwing callback does not break delivery', () => {
  const log = [];
  const orig = console.error; console.error = () => {};
  try {
    const d = new J.Dispatcher(new J.SeqTracker(5, 'old'), {
      onMessage: (c) => { log.push(c); if (c === 'a') throw new Error('page bug'); },
      onStatus: (s) => log.push(s),
    });
    d.dispatch([{ type: 'next_seq', seq: 1, epoch: 'new' }, data(1, 'a'), data(2, 'b')]);
  } finally { console.error = orig; }
  assert.deepEqual(log, ['restarted', 'a', 'b']);
});

// ------------------------------------------------------------------------------------------------
test('helpers: buildUrl, callback names, JSONP parsing, endpoint URLs', () => {
  assert.equal(J.buildUrl('/sub', { cname: 'a b', seq: 1, x: undefined }), '/sub?cname=a%20b&seq=1');
  assert.equal(J.buildUrl('/sub?', { a: 1 }), '/sub?a=1');
  assert.equal(J.buildUrl('/sub?k=v', { a: '</script>' }), '/sub?k=v&a=%3C%2Fscript%3E');
  for (const ok of ['icomet_cb_1', '$cb', '_x9']) assert.ok(J.isCallbackName(ok), ok);
  for (const bad of ['1cb', 'alert(1)', 'a.b', 'a-b', '', 'x'.repeat(65), null]) assert.ok(!J.isCallbackName(bad), String(bad));
  assert.deepEqual(J.parseMaybeJsonp('icomet_cb({"type":"ping","sub_timeout":30});'), { type: 'ping', sub_timeout: 30 });
  assert.deepEqual(J.parseMaybeJsonp(' [1,2] \n'), [1, 2]);
  assert.throws(() => J.parseMaybeJsonp('<html>'));
  assert.equal(J.endpointUrl('http://h:1', '/poll'), 'http://h:1/poll');
  assert.equal(J.endpointUrl('http://h:1/', '/poll'), 'http://h:1/poll');
  assert.equal(J.endpointUrl('', '/sse'), '/sse');
  assert.equal(J.endpointUrl('http://h:1/sub?x=1', '/poll'), 'http://h:1/sub?x=1');
  assert.equal(J.swapPath('http://h:1/sub?a=1', '/sse'), 'http://h:1/sse?a=1');
  assert.equal(J.swapPath('http://h:1/other', '/sse'), null);
});

// ------------------------------------------------------------------------------------------------
function newSub(f, opts) {
  const log = [];
  const sub = new J.Subscription(Object.assign({
    env: f.env, url: 'http://front.test', channel: 'room1', ping: false,
    onMessage: (c, m) => log.push(['msg', c, m.seq]),
    onGap: (g) => log.push(['gap', g.from, g.to]),
    onStatus: (s, d) => log.push(['status', s, d && d.delay]),
  }, opts));
  return { sub, log, msgs: () => log.filter((e) => e[0] === 'msg').map((e) => e[1]) };
}
const q = (req, k) => req.url.searchParams.get(k);

test('poll: follows next_seq, delivers batches, resumes with seq+epoch after a network error, drops replays', async () => {
  const f = fakeEnv();
  const { sub, log, msgs } = newSub(f);
  sub.start();
  let r = f.pending();
  assert.equal(r.url.pathname, '/poll');
  assert.equal(q(r, 'cname'), 'room1');
  assert.equal(q(r, 'seq'), '0');
  assert.equal(q(r, 'noop'), '0');
  assert.equal(q(r, 'epoch'), '', 'always sent, empty until known: it marks a jcomet client (told about losses with gap)');
  assert.equal(r.init.mode, 'cors');
  r.respond(200, { type: 'next_seq', cname: 'room1', seq: 5, epoch: 'e1' });
  await f.flush();
  r = f.pending();
  assert.equal(q(r, 'seq'), '5');
  assert.equal(q(r, 'epoch'), 'e1');
  r.respond(200, [data(5), data(6)]);
  await f.flush();
  r = f.pending();
  assert.equal(q(r, 'seq'), '7');
  r.fail();
  await f.flush();
  assert.equal(f.pending(), undefined, 'waits before retrying');
  const waiting = log.filter((e) => e[1] === 'waiting').pop();
  assert.equal(waiting[2], 5000, 'first backoff delay: full jitter over the first 10 s step (random 0.5 here)');
  await f.advance(5000);
  r = f.pending();
  assert.equal(q(r, 'seq'), '7', 'resumes where it stopped');
  r.respond(200, [data(6), data(7)]);
  await f.flush();
  assert.deepEqual(msgs(), ['m5', 'm6', 'm7'], 'each message once, in order');
  sub.stop();
});

test('poll: server restart (new epoch) replays what the new buffer holds', async () => {
  const f = fakeEnv();
  const { sub, log, msgs } = newSub(f, { seq: 12, epoch: 'old' });
  sub.start();
  let r = f.pending();
  assert.equal(q(r, 'seq'), '12');
  assert.equal(q(r, 'epoch'), 'old');
  r.respond(200, { type: 'next_seq', cname: 'room1', seq: 1, epoch: 'new' });
  await f.flush();
  r = f.pending();
  assert.equal(q(r, 'seq'), '1');
  assert.equal(q(r, 'epoch'), 'new');
  r.respond(200, [data(1, 'after-1'), data(2, 'after-2')]);
  await f.flush();
  assert.deepEqual(msgs(), ['after-1', 'after-2']);
  assert.ok(log.some((e) => e[1] === 'restarted'));
  sub.stop();
});

test('poll: after a noop it re-polls after a random pause of up to 1 s, with the next noop counter', async () => {
  const f = fakeEnv();
  const { sub, log } = newSub(f, { seq: 3 });
  sub.start();
  f.pending().respond(200, { type: 'noop', cname: 'room1', seq: 0 });
  await f.flush();
  assert.equal(f.pending(), undefined, 'not at once: the fleet\'s polls would stay in step');
  assert.equal(sub.state, 'connected', 'a pause is not a wait');
  await f.advance(499);
  assert.equal(f.pending(), undefined);
  await f.advance(1);
  assert.ok(!log.some((e) => e[1] === 'waiting'));
  assert.equal(q(f.pending(), 'noop'), '1');
  assert.equal(q(f.pending(), 'seq'), '3');
  sub.stop();
});

test('poll: a busy channel is drained without pauses; instant empty answers are throttled', async () => {
  const f = fakeEnv();
  const { sub, log, msgs } = newSub(f, { seq: 1 });
  sub.start();
  for (let i = 1; i <= 50; i++) {          // 50 answers with data, all at the same instant
    f.pending().respond(200, data(i));
    await f.flush();
  }
  assert.equal(msgs().length, 50);
  assert.ok(!log.some((e) => e[1] === 'waiting'), 'no pause while messages flow');
  for (let i = 0; i < 11; i++) {           // a proxy answering next_seq instantly, again and again
    f.pending().respond(200, { type: 'next_seq', cname: 'room1', seq: 51 });
    await f.flush();
  }
  const w = log.filter((e) => e[1] === 'waiting').pop();
  assert.ok(w && w[2] === 1000, 'spin guard pauses 1 s');
  assert.equal(f.pending(), undefined);
  sub.stop();
});

test('poll: after a reconnect message (graceful stop) it comes back at a random moment in the server\'s window', async () => {
  for (const r of [0.1, 0.9]) {
    const f = fakeEnv();
    f.env.random = () => r;
    const { sub, log } = newSub(f, { seq: 4 });
    sub.start();
    f.pending().respond(200, { type: 'reconnect', cname: 'room1', retry_ms: 20000 });
    await f.flush();
    const delays = () => log.filter((e) => e[1] === 'waiting').map((e) => e[2]);
    assert.deepEqual(delays(), [Math.round(20000 * r)], 'uniform in [0, retry_ms]');
    await f.advance(delays()[0]);
    const p = f.pending();
    assert.equal(q(p, 'seq'), '4', 'same seq after the restart');
    p.fail();                                // not back yet: retry within one window, no growth
    await f.flush();
    assert.equal(delays()[1], Math.round(20000 * r));
    await f.advance(delays()[1]);
    f.pending().respond(200, { type: 'next_seq', cname: 'room1', seq: 1, epoch: 'new' });
    await f.flush();
    f.pending().fail();                      // a later, unrelated failure backs off from the first step again
    await f.flush();
    assert.equal(delays().pop(), Math.round(10000 * r));
    sub.stop();
  }
});

test('poll: past the server\'s window the backoff grows from the window, per client (not reset in step)', async () => {
  const f = fakeEnv();
  f.env.random = () => 1;
  const { sub, log } = newSub(f, { seq: 4 });
  sub.start();
  f.pending().respond(200, { type: 'reconnect', cname: 'room1', retry_ms: 8000 });
  await f.flush();
  for (let t = 0; t < 8; t++) {
    await f.advance(log.filter((e) => e[1] === 'waiting').pop()[2]);
    f.pending().fail();
    await f.flush();
  }
  const d = log.filter((e) => e[1] === 'waiting').map((e) => e[2]);
  assert.equal(d[0], 8000, 'the window');
  assert.deepEqual(d.slice(1), [8000, 16000, 30000, 30000, 30000, 30000, 30000, 30000],
    'then steps that double from the window (random 1 here: the top of each step)');
  sub.stop();
});

test('poll: 429 waits at least 5 s; close stops for good; 400 error stops', async () => {
  const f = fakeEnv();
  const { sub, log } = newSub(f, { seq: 1 });
  sub.start();
  f.pending().respond(200, { type: '429', cname: 'room1', content: 'Too many subscribers' });
  await f.flush();
  const w = log.filter((e) => e[1] === 'waiting').pop();
  assert.ok(w[2] >= 5000 && w[2] <= 10000, String(w[2]));
  await f.advance(4999);
  assert.equal(f.pending(), undefined);
  await f.advance(w[2]);
  f.pending().respond(200, { type: 'close', cname: 'room1', seq: 1 });
  await f.flush();
  assert.equal(sub.running, false);
  assert.equal(sub.state, 'closed');
  assert.equal(sub.pendingTimers(), 0);
  assert.equal(f.timers.size, 0);

  const g = fakeEnv();
  const s2 = newSub(g, { seq: 1 });
  s2.sub.start();
  g.pending().respond(400, { type: 'error', reason: 'bad cname' });
  await g.flush();
  assert.equal(s2.sub.running, false);
  assert.equal(s2.sub.state, 'error');
});

test('poll: 5xx and non-JSON answers back off exponentially; success resets the backoff', async () => {
  const f = fakeEnv();
  const { sub, log } = newSub(f, { seq: 1, backoffBase: 100, backoffMax: 1000 });
  sub.start();
  const delays = [];
  for (let i = 0; i < 5; i++) {
    f.pending().respond(i % 2 ? 502 : 200, '<html>proxy error</html>');
    await f.flush();
    delays.push(log.filter((e) => e[1] === 'waiting').pop()[2]);
    await f.advance(delays[i]);
  }
  assert.deepEqual(delays, [50, 100, 200, 400, 500], 'full jitter (0.5 here) of 100, 200, 400, 800, 1000');
  f.pending().respond(200, data(1));
  await f.flush();
  f.pending().fail();
  await f.flush();
  assert.equal(log.filter((e) => e[1] === 'waiting').pop()[2], 50, 'reset after success');
  sub.stop();
});

test('poll: the watchdog aborts a request the server never answers (sub_timeout from /ping)', async () => {
  const f = fakeEnv();
  const { sub, log } = newSub(f, { ping: true, seq: 1 });
  sub.start();
  const ping = f.requests.find((r) => r.url.pathname === '/ping');
  assert.ok(ping, 'pings for sub_timeout');
  ping.respond(200, 'icomet_cb({"type":"ping","sub_timeout":2});');
  await f.flush();
  assert.equal(sub.subTimeout, 2);
  const poll = f.requests.find((r) => r.url.pathname === '/poll');
  await f.advance(64999);
  assert.equal(poll.aborted, false, 'default watchdog (sub_timeout unknown when it was sent): 65 s');
  await f.advance(1);
  assert.ok(poll.aborted, 'first poll aborted by the watchdog');
  const w = log.filter((e) => e[1] === 'waiting').pop();
  assert.equal(f.pending(), undefined);
  await f.advance(w[2]);
  // the next poll uses 2 s * 1.3 + 5 s
  const next = f.pending();
  assert.notEqual(next, poll);
  await f.advance(7599);
  assert.equal(next.aborted, false);
  await f.advance(2);
  assert.equal(next.aborted, true);
  sub.stop();
});

test('stop() aborts the request in flight, leaves no timers and no late callbacks', async () => {
  const f = fakeEnv();
  const { sub, msgs } = newSub(f, { ping: true, seq: 1 });
  sub.start();
  const inflight = f.requests.slice();
  assert.equal(inflight.length, 2, 'ping + poll');
  sub.stop();
  await f.flush();
  assert.ok(inflight.every((r) => r.aborted), 'all requests aborted');
  assert.equal(f.timers.size, 0, 'no timers left');
  inflight[1].respond(200, data(1)); // ignored even if it arrives
  await f.flush();
  assert.deepEqual(msgs(), []);
  assert.equal(sub.state, 'stopped');
  // restart works and continues from the same position
  sub.start();
  assert.equal(q(f.pending(), 'seq'), '1');
  sub.stop();
  // stop() during backoff clears the retry timer
  sub.start();
  f.pending().fail();
  await f.flush();
  assert.ok(f.timers.size > 0);
  sub.stop();
  assert.equal(f.timers.size, 0);
});

test('sign URL: token and sub_timeout are used; 401 re-signs', async () => {
  const f = fakeEnv();
  const { sub } = newSub(f, { signUrl: '/app/sign', ping: true });
  sub.start();
  let r = f.pending();
  assert.equal(r.url.pathname, '/app/sign');
  assert.equal(q(r, 'cname'), 'room1');
  r.respond(200, { type: 'sign', cname: 'room1', seq: 3, token: 'a'.repeat(32), expires: 30, sub_timeout: 10 });
  await f.flush();
  r = f.pending();
  assert.equal(r.url.pathname, '/poll');
  assert.equal(q(r, 'token'), 'a'.repeat(32));
  assert.equal(sub.subTimeout, 10);
  assert.ok(!f.requests.some((x) => x.url.pathname === '/ping'), 'sign gave sub_timeout: no ping');
  r.respond(200, { type: '401', cname: 'room1', content: 'Token error' });
  await f.flush();
  await f.advance(5000);
  assert.equal(f.pending().url.pathname, '/app/sign');
  sub.stop();
});

test('sse: one EventSource, stays open across next_seq/noop, reconnects with seq+epoch after an error', async () => {
  const f = fakeEnv();
  const { sub, msgs } = newSub(f, { transport: 'sse' });
  sub.start();
  assert.equal(f.sources.length, 1);
  let es = f.sources[0];
  assert.equal(es.url.pathname, '/sse');
  assert.equal(es.url.searchParams.get('seq'), '0');
  assert.equal(es.url.searchParams.get('_'), null, 'no cache buster: URL stays stable');
  es.open();
  es.send({ type: 'next_seq', cname: 'room1', seq: 8, epoch: 'E' });
  es.send({ type: 'noop', cname: 'room1', seq: 0 });
  es.send(data(8), 8);
  es.send(data(9), 9);
  assert.equal(f.sources.length, 1, 'same stream');
  assert.equal(es.closed, false);
  es.error();
  assert.equal(es.closed, true, 'closed: we reconnect ourselves');
  await f.advance(5000);
  assert.equal(f.sources.length, 2);
  es = f.sources[1];
  assert.equal(es.url.searchParams.get('seq'), '10');
  assert.equal(es.url.searchParams.get('epoch'), 'E');
  assert.equal(es.url.searchParams.get('noop'), '1');
  es.open();
  es.send(data(9), 9);
  es.send(data(10), 10);
  assert.deepEqual(msgs(), ['m8', 'm9', 'm10']);
  sub.stop();
  assert.equal(es.closed, true);
  assert.equal(f.timers.size, 0);
});

test('jsonp: validated callback names, script src carries the state, late answers are harmless', async () => {
  const f = fakeEnv();
  const { sub, msgs } = newSub(f, { transport: 'jsonp', seq: 4, callbackPrefix: 'alert(1)//' });
  sub.start();
  assert.equal(f.scripts.length, 1);
  const src = new URL(f.scripts[0].src);
  assert.equal(src.pathname, '/sub');
  const cb = src.searchParams.get('cb');
  assert.match(cb, /^jcomet_[0-9a-z]+_\d+$/, 'bad prefix replaced by the default');
  assert.equal(src.searchParams.get('seq'), '4');
  f.global[cb]([data(4), data(5)]);
  await f.flush();
  assert.ok(f.scripts[0].removed);
  assert.deepEqual(msgs(), ['m4', 'm5']);
  const src2 = new URL(f.scripts[1].src);
  assert.equal(src2.searchParams.get('seq'), '6');
  const cb2 = src2.searchParams.get('cb');
  assert.notEqual(cb2, cb);
  sub.stop();
  assert.doesNotThrow(() => f.global[cb2](data(6)), 'late answer after stop');
  assert.deepEqual(msgs(), ['m4', 'm5']);
  assert.equal(f.timers.size, 0);
  // script load error backs off
  const g = fakeEnv();
  const s = newSub(g, { transport: 'jsonp', seq: 1 });
  s.sub.start();
  g.scripts[0].onerror();
  g.pending().fail();                      // the probe (fetch) fails too: a network error
  await g.flush();
  assert.equal(s.sub.state, 'waiting');
  s.sub.stop();
});

test('iComet drop-in: icomet config names, SSE when EventSource exists, callback(content, type), pub()', async () => {
  const f = fakeEnv();
  const got = [];
  const c = new J.iComet({
    env: f.env, channel: 'ch', subUrl: 'http://front.test/sub', pubUrl: '/app/pub',
    callback: (content, type) => got.push([content, type]),
  });
  assert.equal(c.sub.transport, 'sse');
  assert.equal(c.sub.running, true, 'starts on construction like icomet.js');
  const es = f.sources[0];
  assert.equal(es.url.pathname, '/sse');
  es.send({ type: 'next_seq', cname: 'ch', seq: 1 });
  es.send({ type: 'data', cname: 'ch', seq: 1, content: 'hi' });
  es.send({ type: 'broadcast', cname: 'ch', seq: 2, content: 'all' });
  assert.deepEqual(got, [['hi', 'data'], ['all', 'broadcast']]);
  let answer;
  c.pub('x y', (a) => { answer = a; });
  const pr = f.requests.find((r) => r.url.pathname === '/app/pub');
  assert.equal(q(pr, 'cname'), 'ch');
  assert.equal(q(pr, 'content'), 'x y');
  pr.respond(200, { type: 'ok', seq: 3 });
  await f.flush();
  assert.deepEqual(answer, { type: 'ok', seq: 3 });
  c.stop();
  assert.equal(es.closed, true);

  // signUrl: JSONP like icomet.js (the app's sign endpoint has no CORS), then SSE with the token
  const h = fakeEnv();
  const c3 = new J.iComet({ env: h.env, channel: 'ch', subUrl: 'http://front.test/sub', signUrl: 'http://app.test/sign.php?x=1', callback() {} });
  assert.equal(h.requests.length, 0, 'no fetch for sign');
  const signSrc = new URL(h.scripts[0].src);
  assert.equal(signSrc.pathname, '/sign.php');
  assert.equal(signSrc.searchParams.get('cname'), 'ch');
  h.global[signSrc.searchParams.get('cb')]({ type: 'sign', cname: 'ch', seq: 1, token: 'f'.repeat(32), expires: 30, sub_timeout: 9 });
  assert.equal(h.sources.length, 1);
  assert.equal(h.sources[0].url.searchParams.get('token'), 'f'.repeat(32));
  assert.equal(c3.sub.subTimeout, 9);
  c3.stop();

  const g = fakeEnv();
  g.env.EventSource = null;
  const c2 = new J.iComet({ env: g.env, channel: 'ch', subUrl: 'http://front.test/sub', callback() {} });
  assert.equal(c2.sub.transport, 'jsonp', 'no EventSource: JSONP like icomet.js');
  assert.match(new URL(g.scripts[0].src).searchParams.get('cb'), /^jcomet_[0-9a-z]+_\d+$/, 'never icomet_cb_N: a real icomet.js may be on the page');
  c2.stop();
});

test('publish(): GET with params, POST form, 4xx rejects with the server reason', async () => {
  const f = fakeEnv();
  const p1 = J.publish('/demo/chat/pub', { room: 'r', text: '</script> 😀' }, { env: f.env });
  const r1 = f.pending();
  assert.equal(q(r1, 'text'), '</script> 😀');
  r1.respond(200, { type: 'ok', seq: 1 });
  assert.deepEqual(await p1, { type: 'ok', seq: 1 });

  const p2 = J.publish('/demo/chat/pub', { room: 'r', text: 'a&b' }, { env: f.env, method: 'POST' });
  const r2 = f.pending();
  assert.equal(r2.init.method, 'POST');
  assert.equal(r2.init.body, 'room=r&text=a%26b');
  r2.respond(429, { type: 'error', reason: 'slow down' });
  await assert.rejects(p2, (e) => e.status === 429 && e.message === 'slow down');
});

test('ES module entry re-exports the same API', async () => {
  const m = await import(path.join(__dirname, '..', '..', '..', 'webapp', 'js', 'jcomet.mjs'));
  assert.equal(typeof m.default.Subscription, 'function');
  assert.equal(m.Subscription, m.default.Subscription);
  assert.equal(typeof m.iComet, 'function');
  assert.equal(typeof globalThis.JComet, 'object', 'plain script: global JComet');
  assert.equal(typeof globalThis.iComet, 'function', 'plain script: global iComet');
});
