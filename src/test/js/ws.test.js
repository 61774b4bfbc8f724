'use strict';
// jcomet.js with transport 'ws' on the fake browser of fake-env.js (manual clock, scripted WebSocket):
// the sub frame carries the channel's own seq/epoch; several Subscriptions share one socket and get
// only their own channel's frames; a lost socket makes each channel come back after its own
// jittered backoff with its own seq; a server message that ends one channel leaves the others;
// WebSocket missing or blocked falls back to SSE (then long-poll); stop() leaves nothing behind.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { fakeEnv } = require('./fake-env.js');

const J = require(path.join(__dirname, '..', '..', '..', 'webapp', 'js', 'jcomet.js'));

const data = (cname, seq, epoch, content) => ({ type: 'data', cname, seq, epoch, content: content ?? cname + seq });

function newSub(f, channel, opts) {
  const log = [];
  const sub = new J.Subscription(Object.assign({
    env: f.env, url: 'http://front.test', channel, transport: 'ws', ping: false,
    onMessage: (c) => log.push(['msg', c]),
    onGap: (g) => log.push(['gap', g.from, g.to, g.count, g.reason]),
    onStatus: (s, d) => log.push(['status', s, d]),
  }, opts));
  return {
    sub, log,
    msgs: () => log.filter((e) => e[0] === 'msg').map((e) => e[1]),
    gaps: () => log.filter((e) => e[0] === 'gap').map((e) => e.slice(1)),
    statuses: () => log.filter((e) => e[0] === 'status').map((e) => e[1]),
    delays: () => log.filter((e) => e[1] === 'waiting').map((e) => e[2].delay),
  };
}
const lastSocket = (f) => f.sockets[f.sockets.length - 1];

/** Ends with nothing left: no timer, no listener, no open socket. */
function assertClean(f, subs) {
  for (const s of subs) assert.equal(s.pendingTimers(), 0, 'stop() leaves no timer');
  assert.equal(f.global.listenerCount(), 0, 'stop() removes its listeners');
  assert.ok(f.sockets.every((s) => s.closed), 'every WebSocket is closed');
}

test('ws: subscribes with a sub frame carrying seq, epoch, noop and token; delivers once, in order, with gaps', async () => {
  const f = fakeEnv();
  const c = newSub(f, 'room1', { seq: 5, epoch: 'E1', token: 'tok' });
  c.sub.start();
  assert.equal(f.sockets.length, 1);
  const ws = lastSocket(f);
  assert.equal(ws.url, 'ws://front.test/ws');
  assert.equal(c.sub.transport, 'ws');
  assert.deepEqual(ws.sent, [], 'nothing is sent before the socket opens');
  ws.open();
  assert.deepEqual(ws.sent, [{ op: 'sub', cname: 'room1', seq: 5, noop: 0, epoch: 'E1', token: 'tok' }]);
  ws.send_({ type: 'sub_ok', cname: 'room1' });
  assert.equal(c.sub.state, 'connected');
  ws.send_(data('room1', 5, 'E1'));
  ws.send_(data('room1', 5, 'E1'));        // a duplicate (replay overlap)
  ws.send_(data('room1', 6, 'E1'));
  ws.send_(data('room1', 9, 'E1'));        // 7, 8 lost
  ws.send_({ type: 'gap', cname: 'room1', from: 10, to: 11, epoch: 'E1' });
  ws.send_(data('room1', 12, 'E1'));
  ws.send_(data('other', 1, 'E1'));        // not ours
  ws.send_('not json');
  assert.deepEqual(c.msgs(), ['room15', 'room16', 'room19', 'room112']);
  assert.deepEqual(c.gaps(), [[7, 8, 2, 'skipped'], [10, 11, 2, 'lost']]);
  assert.equal(c.sub.seq, 13);
  c.sub.stop();
  assert.equal(ws.closeCode, 1000, 'the last channel gone: the socket is closed, cleanly');
  assertClean(f, [c.sub]);
  assert.deepEqual(c.statuses().slice(-1), ['stopped']);
});

test('ws: the socket URL follows url, subUrl, wsUrl and the page origin (https -> wss)', () => {
  const env = { global: { location: { protocol: 'https:', host: 'app.test:8443' } } };
  assert.equal(J.wsUrlFor('', env), 'wss://app.test:8443/ws');
  assert.equal(J.wsUrlFor('/push/', env), 'wss://app.test:8443/push/ws');
  assert.equal(J.wsUrlFor('//cdn.test', env), 'wss://cdn.test/ws');
  assert.equal(J.wsUrlFor('http://h:8100/'), 'ws://h:8100/ws');
  assert.equal(J.wsUrlFor('https://h/sub?x=1'), 'wss://h/ws', 'an icomet-style sub_url: its endpoint swapped, its query dropped');
  assert.equal(J.wsUrlFor('ws://h/ws'), 'ws://h/ws');
  const f = fakeEnv();
  const c = newSub(f, 'a', { wsUrl: 'ws://elsewhere.test/ws' });
  c.sub.start();
  assert.equal(lastSocket(f).url, 'ws://elsewhere.test/ws');
  assert.equal(new URL(c.sub.url()).searchParams.get('cname'), 'a', 'url() says what it subscribes');
  c.sub.stop();
});

test('ws: several channels share one socket; each gets only its frames; stopping one leaves the others', async () => {
  const f = fakeEnv();
  const a = newSub(f, 'a', { seq: 3, epoch: 'E' });
  const b = newSub(f, 'b');
  const c = newSub(f, 'c');
  a.sub.start(); b.sub.start();
  const ws = lastSocket(f);
  ws.open();
  c.sub.start(); // joins the open socket at once
  assert.equal(f.sockets.length, 1, 'one socket for the page');
  assert.deepEqual(ws.sent.map((x) => [x.op, x.cname, x.seq]), [['sub', 'a', 3], ['sub', 'b', 0], ['sub', 'c', 0]]);
  for (const n of ['a', 'b', 'c']) ws.send_({ type: 'sub_ok', cname: n });
  ws.send_({ type: 'next_seq', cname: 'b', seq: 10, epoch: 'E' });
  ws.send_(data('a', 3, 'E'));
  ws.send_(data('b', 10, 'E'));
  ws.send_(data('c', 1, 'E'));
  assert.deepEqual([a.msgs(), b.msgs(), c.msgs()], [['a3'], ['b10'], ['c1']]);
  b.sub.stop();
  assert.deepEqual(ws.frames('unsub'), [{ op: 'unsub', cname: 'b' }]);
  assert.ok(!ws.closed, 'the others still use it');
  ws.send_({ type: 'unsub_ok', cname: 'b' });
  ws.send_(data('b', 11, 'E')); // late frame for a stopped channel
  ws.send_(data('a', 4, 'E'));
  assert.deepEqual([a.msgs(), b.msgs()], [['a3', 'a4'], ['b10']]);
  a.sub.stop(); c.sub.stop();
  assertClean(f, [a.sub, b.sub, c.sub]);
});

test('ws: a lost socket: each channel re-subscribes after its own jittered delay with its own seq and epoch', async () => {
  const f = fakeEnv();
  const rolls = [0.1, 0.9, 0.5, 0.5, 0.5];
  f.env.random = () => (rolls.length ? rolls.shift() : 0.5);
  const a = newSub(f, 'a', { seq: 1, backoffBase: 10000 });
  const b = newSub(f, 'b', { seq: 1, backoffBase: 10000 });
  a.sub.start(); b.sub.start();
  let ws = lastSocket(f);
  ws.open();
  ws.send_(data('a', 1, 'EA')); ws.send_(data('a', 2, 'EA'));
  ws.send_(data('b', 1, 'EB'));
  ws.drop(1006);
  assert.deepEqual([a.sub.state, b.sub.state], ['waiting', 'waiting']);
  const [da, db] = [a.delays().pop(), b.delays().pop()];
  assert.deepEqual([da, db], [1000, 9000], 'full jitter: uniform in [0, 10 s] per channel, not in step');
  await f.advance(da);
  assert.equal(f.sockets.length, 2, 'the first channel back opens a new socket');
  ws = lastSocket(f);
  ws.open();
  assert.deepEqual(ws.sent, [{ op: 'sub', cname: 'a', seq: 3, noop: 0, epoch: 'EA' }]);
  await f.advance(db - da);
  assert.equal(f.sockets.length, 2, 'the second joins it');
  assert.deepEqual(ws.sent[1], { op: 'sub', cname: 'b', seq: 2, noop: 0, epoch: 'EB' });
  ws.send_(data('a', 3, 'EA')); ws.send_(data('b', 2, 'EB'));
  assert.deepEqual([a.msgs(), b.msgs()], [['a1', 'a2', 'a3'], ['b1', 'b2']]);
  // a success resets the backoff; a failure before that grows it
  ws.drop(1001);
  assert.equal(a.delays().pop(), 5000, 'reset by the data: first step again');
  a.sub.stop(); b.sub.stop();
  assertClean(f, [a.sub, b.sub]);
});

test('ws: close, 401 and reconnect end only their channel; the socket and the other channels go on', async () => {
  const f = fakeEnv();
  const a = newSub(f, 'a');
  const b = newSub(f, 'b');
  const r = newSub(f, 'r', { seq: 4, epoch: 'E1' });
  const keep = newSub(f, 'keep');
  a.sub.start(); b.sub.start(); r.sub.start(); keep.sub.start();
  const ws = lastSocket(f);
  ws.open();
  ws.send_({ type: 'close', cname: 'a', seq: 0 });
  ws.send_({ type: '401', cname: 'b', seq: 0 });
  ws.send_({ type: 'reconnect', cname: 'r', seq: 0, retry_ms: 2000 });
  assert.equal(a.sub.running, false, 'closed: stops');
  assert.ok(a.statuses().includes('closed'));
  assert.equal(b.sub.running, false, 'unauthorized without signUrl: stops');
  assert.ok(b.statuses().includes('unauthorized'));
  assert.deepEqual(ws.frames('unsub'), [], 'the server already ended those: no unsub for them');
  assert.ok(!ws.closed);
  const d = r.delays().pop();
  assert.ok(d >= 0 && d <= 2000, 'comes back inside the restart window: ' + d);
  await f.advance(d);
  assert.deepEqual(ws.frames('sub', 'r').pop(), { op: 'sub', cname: 'r', seq: 4, noop: 0, epoch: 'E1' }, 're-subscribes on the same socket');
  ws.send_({ type: 'next_seq', cname: 'r', seq: 3, epoch: 'E2' });
  ws.send_(data('r', 3, 'E2'));
  assert.ok(r.statuses().includes('restarted'));
  assert.deepEqual(r.gaps(), [[1, 2, 2, 'restart']]);
  assert.deepEqual(r.msgs(), ['r3']);
  ws.send_(data('keep', 1, 'E2'));
  assert.deepEqual(keep.msgs(), ['keep1']);
  assert.equal(f.sockets.length, 1);
  r.sub.stop(); keep.sub.stop();
  assertClean(f, [a.sub, b.sub, r.sub, keep.sub]);
});

test('ws: 401 with a signUrl signs again and re-subscribes with the new token', async () => {
  const f = fakeEnv();
  const c = newSub(f, 'a', { signUrl: 'http://app.test/sign', token: 'old' });
  c.sub.start();
  const ws = lastSocket(f);
  ws.open();
  ws.send_({ type: '401', cname: 'a', seq: 0 });
  await f.advance(c.delays().pop());
  const sign = f.pending();
  assert.match(sign.rawUrl, /^http:\/\/app\.test\/sign\?cname=a/);
  sign.respond(200, { type: 'sign', cname: 'a', token: 'new', sub_timeout: 30 });
  await f.flush();
  assert.ok(ws.closed, 'its only channel ended: the socket was closed while signing');
  lastSocket(f).open();
  const frame = lastSocket(f).frames('sub', 'a').pop();
  assert.equal(frame.token, 'new');
  c.sub.stop();
  assertClean(f, [c.sub]);
});

test('ws: 429 and a rate error frame wait at least 5 s, and keep slowing down', async () => {
  const f = fakeEnv();
  const c = newSub(f, 'a');
  const keep = newSub(f, 'keep');
  c.sub.start(); keep.sub.start();
  const ws = lastSocket(f);
  ws.open();
  ws.send_({ type: '429', cname: 'a', seq: 0 });
  const d1 = c.delays().pop();
  assert.ok(d1 >= 5000, 'rate limited: >= 5 s, was ' + d1);
  await f.advance(d1);
  ws.send_({ type: 'error', op: 'rate', cname: 'a', reason: 'more than 20 frames per second' });
  const d2 = c.delays().pop();
  assert.ok(d2 >= 5000, 'rate error: >= 5 s, was ' + d2);
  assert.equal(ws.frames('sub', 'a').length, 2);
  assert.deepEqual(ws.frames('unsub'), [], 'the server has no subscription to drop');
  await f.advance(d2);
  assert.equal(ws.frames('sub', 'a').length, 3);
  c.sub.stop(); keep.sub.stop();
  assertClean(f, [c.sub, keep.sub]);
});

test('ws: a sub frame the server refuses (error op sub) is reported and the channel stops; others go on', async () => {
  const f = fakeEnv();
  const a = newSub(f, 'bad name');
  const b = newSub(f, 'b');
  a.sub.start(); b.sub.start();
  const ws = lastSocket(f);
  ws.open();
  ws.send_({ type: 'error', op: 'sub', cname: 'bad name', reason: 'cname must be ...' });
  ws.send_({ type: 'error', op: 'unsub', cname: 'b', reason: 'not subscribed' }); // ignored
  assert.equal(a.sub.running, false);
  assert.equal(a.log.find((e) => e[1] === 'error')[2].reason, 'cname must be ...');
  assert.equal(b.sub.running, true);
  b.sub.stop();
  assertClean(f, [a.sub, b.sub]);
});

test('ws: watchdog: a socket silent past polling_timeout is dropped and every channel on it comes back', async () => {
  const f = fakeEnv();
  const a = newSub(f, 'a', { subTimeout: 30 });
  const b = newSub(f, 'b', { subTimeout: 30 });
  a.sub.start(); b.sub.start();
  const ws = lastSocket(f);
  ws.open();
  ws.send_({ type: 'noop', cname: 'a', seq: 0 });
  ws.send_({ type: 'noop', cname: 'b', seq: 0 });
  await f.advance(30000);
  ws.send_({ type: 'noop', cname: 'a', seq: 1 });
  ws.send_({ type: 'noop', cname: 'b', seq: 1 });
  assert.deepEqual([a.sub.state, b.sub.state], ['connected', 'connected'], 'noops keep it alive');
  await f.advance(30 * 1300 + 5000);   // then nothing at all: half-open TCP
  assert.ok(ws.closed, 'the dead socket is closed');
  assert.deepEqual([a.sub.state, b.sub.state], ['waiting', 'waiting']);
  await f.advance(30000);
  const ws2 = lastSocket(f);
  assert.notEqual(ws2, ws);
  ws2.open();
  assert.deepEqual(ws2.sent.map((x) => [x.cname, x.noop]), [['a', 2], ['b', 2]], 'each with its own noop counter');
  a.sub.stop(); b.sub.stop();
  assertClean(f, [a.sub, b.sub]);
});

test('ws: a channel silent while the socket is not: only that channel subscribes again', async () => {
  const f = fakeEnv();
  const a = newSub(f, 'a', { subTimeout: 10 });
  const b = newSub(f, 'b', { subTimeout: 1000 });
  a.sub.start(); b.sub.start();
  const ws = lastSocket(f);
  ws.open();
  for (let t = 0; t < 4; t++) { await f.advance(5000); ws.send_({ type: 'noop', cname: 'b', seq: t }); }
  assert.equal(a.sub.state, 'waiting');
  assert.deepEqual(ws.frames('unsub'), [{ op: 'unsub', cname: 'a' }]);
  assert.ok(!ws.closed);
  assert.equal(b.sub.state, 'connected');
  a.sub.stop(); b.sub.stop();
  assertClean(f, [a.sub, b.sub]);
});

test('ws: no WebSocket in the browser: SSE, else long-poll', () => {
  const f = fakeEnv();
  const c = newSub(f, 'a', { env: Object.assign({}, f.env, { WebSocket: null }) });
  assert.equal(c.sub.transport, 'sse');
  const p = newSub(f, 'a', { env: Object.assign({}, f.env, { WebSocket: null, EventSource: null }) });
  assert.equal(p.sub.transport, 'poll');
  c.sub.start();
  assert.equal(f.sources.length, 1);
  assert.equal(f.sources[0].url.pathname, '/sse');
  c.sub.stop();
});

test('ws: blocked (refused before it opened, /ping answers): falls back to SSE with the same seq; later channels go straight to SSE', async () => {
  const f = fakeEnv();
  const a = newSub(f, 'a', { seq: 7, epoch: 'E' });
  const b = newSub(f, 'b');
  a.sub.start(); b.sub.start();
  lastSocket(f).refuse(); // 403 on Origin, or a proxy that refuses the upgrade
  let probe = f.pending();
  assert.equal(probe.url.pathname, '/ping');
  probe.respond(200, { type: 'ping', sub_timeout: 30 });
  await f.flush();
  assert.equal(f.sockets.length, 2, 'once more at once: the server may just have come back');
  assert.deepEqual([a.sub.transport, b.sub.transport], ['ws', 'ws']);
  lastSocket(f).refuse();
  probe = f.pending();
  probe.respond(200, { type: 'ping', sub_timeout: 30 });
  await f.flush();
  assert.deepEqual([a.sub.transport, b.sub.transport], ['sse', 'sse']);
  assert.deepEqual(a.log.find((e) => e[1] === 'fallback')[2], { from: 'ws', to: 'sse' });
  assert.equal(f.sources.length, 2);
  const es = f.sources[0];
  assert.equal(es.url.searchParams.get('cname'), 'a');
  assert.equal(es.url.searchParams.get('seq'), '7');
  assert.equal(es.url.searchParams.get('epoch'), 'E');
  es.open();
  es.send(data('a', 7, 'E'));
  assert.deepEqual(a.msgs(), ['a7']);
  const c = newSub(f, 'c');
  c.sub.start();
  assert.equal(f.sockets.length, 2, 'no more WebSocket tries for a blocked URL');
  assert.equal(c.sub.transport, 'sse');
  for (const s of [a, b, c]) s.sub.stop();
  assertClean(f, [a.sub, b.sub, c.sub]);
  assert.ok(f.sources.every((s) => s.closed));
});

test('ws: refused before it opened and /ping fails too (server down): backs off and tries WebSocket again', async () => {
  const f = fakeEnv();
  const a = newSub(f, 'down-a', { url: 'http://down.test' });
  a.sub.start();
  lastSocket(f).refuse();
  f.pending().fail();
  await f.flush();
  assert.equal(a.sub.transport, 'ws');
  assert.equal(a.sub.state, 'waiting');
  await f.advance(a.delays().pop());
  assert.equal(f.sockets.length, 2, 'WebSocket again');
  lastSocket(f).refuse();
  f.pending().respond(200, { type: 'ping' }); // the server is back, and the socket was refused: try again at once
  await f.flush();
  assert.equal(f.sockets.length, 3);
  assert.equal(a.sub.transport, 'ws');
  lastSocket(f).open();
  assert.equal(lastSocket(f).frames('sub', 'down-a').length, 1);
  a.sub.stop();
  assertClean(f, [a.sub]);
});

test('ws: stop() while the socket is still connecting closes it and sends nothing', () => {
  const f = fakeEnv();
  const c = newSub(f, 'a');
  c.sub.start();
  c.sub.stop();
  const ws = lastSocket(f);
  ws.open(); // a late open of the abandoned socket
  assert.deepEqual(ws.sent, []);
  assertClean(f, [c.sub]);
});

test('ws: multiplex false gives a socket of its own; an explicit Socket carries the channels given it', async () => {
  const f = fakeEnv();
  const a = newSub(f, 'a');
  const b = newSub(f, 'b', { multiplex: false });
  a.sub.start(); b.sub.start();
  assert.equal(f.sockets.length, 2);
  a.sub.stop(); b.sub.stop();
  const socket = new J.Socket({ url: 'http://front.test', env: f.env });
  const x = newSub(f, 'x', { socket });
  const y = newSub(f, 'y', { socket });
  x.sub.start(); y.sub.start();
  assert.equal(f.sockets.length, 3);
  lastSocket(f).open();
  assert.equal(socket.connected, true);
  assert.equal(socket.channels(), 2);
  const dup = newSub(f, 'x', { socket });
  dup.sub.start();
  assert.equal(dup.sub.running, false, 'one channel once per socket (the server refuses a second sub)');
  x.sub.stop(); y.sub.stop();
  assert.equal(socket.connected, false);
  assertClean(f, [a.sub, b.sub, x.sub, y.sub, dup.sub]);
});

test('ws: past 16 channels (the server default ws_max_channels) the page opens another socket', () => {
  const f = fakeEnv();
  const subs = [];
  for (let i = 0; i < 17; i++) subs.push(newSub(f, 'ch' + i).sub.start());
  assert.equal(f.sockets.length, 2);
  const twice = newSub(f, 'ch0').sub.start();
  assert.equal(f.sockets.length, 2, 'the same channel twice: goes where it is not yet');
  assert.equal(twice.running, true);
  for (const s of subs) s.stop();
  twice.stop();
  assertClean(f, subs.concat([twice]));
});

test('ws: offline closes the socket; online comes back within a second', async () => {
  const f = fakeEnv();
  const c = newSub(f, 'a', { seq: 2, epoch: 'E' });
  c.sub.start();
  lastSocket(f).open();
  f.goOffline();
  assert.ok(lastSocket(f).closed);
  assert.equal(c.sub.state, 'offline');
  f.goOnline();
  await f.advance(1000);
  assert.equal(f.sockets.length, 2);
  lastSocket(f).open();
  assert.equal(lastSocket(f).frames('sub', 'a')[0].seq, 2);
  c.sub.stop();
  assertClean(f, [c.sub]);
});

test('ws: a WebSocket constructor that throws (bad URL, a page policy) ends on SSE with nothing of the socket left', async () => {
  const f = fakeEnv();
  const env = Object.assign({}, f.env, { WebSocket: class { constructor() { throw new Error('SyntaxError'); } }, fetch: null });
  const c = newSub(f, 'a', { env, seq: 3, epoch: 'E' });
  c.sub.start();
  assert.equal(c.sub.transport, 'sse');
  assert.equal(f.sources.length, 1);
  assert.equal(f.sources[0].url.searchParams.get('seq'), '3');
  f.sources[0].open();
  f.sources[0].send(data('a', 3, 'E'));
  assert.deepEqual(c.msgs(), ['a3']);
  await f.advance(30000); // only the SSE watchdog (65 s) runs; a left-over ws one would have reconnected it
  assert.equal(f.sources.length, 1);
  c.sub.stop();
  assert.ok(f.sources[0].closed, 'stop() closes the EventSource');
  assert.equal(c.sub.pendingTimers(), 0);
});
