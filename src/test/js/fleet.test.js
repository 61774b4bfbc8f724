'use strict';
// 100,000 real jcomet.js clients (long-poll) on one simulated clock against a simulated server
// (fleet-sim.js), to check the shape of the fleet around a restart: the herd a client library makes
// is invisible in a test of one client. What is asserted, after a graceful restart and after a crash:
//   - no 100 ms slot holds more than 2% of the clients (distinct clients that sent a request in it);
//   - every client is back on the new server within one window after it is up (graceful: the
//     server's retry_ms; crash: the largest backoff step, 30 s);
//   - while the server is down the fleet makes fewer requests than it has clients in any stretch of
//     one retry step (the mean pause between a client's tries: half the window / half the first step),
//     i.e. below one request per client per retry step. The old client made ~1 per client per second.
// JCOMET_FLEET_CLIENTS=N runs a smaller fleet while developing (the 2% bound needs the full fleet:
// the server sizes its window from the count it held).
const test = require('node:test');
const assert = require('node:assert/strict');
const S = require('./fleet-sim.js');

const N = +(process.env.JCOMET_FLEET_CLIENTS || 100000);
const FIRST_STEP_MS = 10000; // Backoff's default base: the first retry after a network error is uniform in [0, 10 s]
const MAX_STEP_MS = 30000;

function report(name, r, from, to, extra) {
  const backs = Array.from(r.back).filter((x) => !Number.isNaN(x));
  const figures = {
    clients: N,
    requests: r.requests.length,
    maxClientsPer100ms: S.maxClientsPerSlot(r, from, to),
    maxRequestsPer100msAtLiveServer: S.maxPerSlot(r, from, to, true),
    back: backs.length,
    lastBackAfterUpMs: Math.max(...backs) - r.upAt,
    failedWhileDown: S.failedBetween(r, from, r.upAt),
    maxFailedIn1s: S.maxFailedInWindow(r, 1000),
    ...extra,
  };
  console.log(`[fleet] ${name}: ${JSON.stringify(figures)}`);
  return figures;
}

test(`fleet: ${N} clients after a graceful restart spread over the server's window`, async () => {
  const eventAt = 15000, downMs = 5000;
  const windowMs = S.reconnectWindowMillis(N);
  const endAt = eventAt + downMs + windowMs + 1000;
  const r = await S.simulate({ clients: N, event: 'graceful', eventAt, downMs, endAt, seed: 11 });
  assert.equal(r.windowMs, windowMs, 'the server sized its window from the ' + N + ' it held');
  const stepMs = windowMs / 2;
  const f = report('graceful restart', r, eventAt, endAt, { windowMs, retryStepMs: stepMs, maxFailedInStep: S.maxFailedInWindow(r, stepMs) });
  assert.ok(f.maxClientsPer100ms <= 0.02 * N, `no 100 ms slot over 2% of the clients: ${f.maxClientsPer100ms}`);
  assert.equal(f.back, N, 'every client is back');
  assert.ok(f.lastBackAfterUpMs <= windowMs, `back within the window after the server is up: ${f.lastBackAfterUpMs} ms`);
  assert.ok(f.maxFailedInStep < N, `below one request per client per retry step while down: ${f.maxFailedInStep}`);
});

test(`fleet: ${N} clients after a crash come back spread and knock gently while it is down`, async () => {
  const eventAt = 15000, downMs = 10000;
  const endAt = eventAt + downMs + MAX_STEP_MS + 1000;
  const r = await S.simulate({ clients: N, event: 'crash', eventAt, downMs, endAt, seed: 12 });
  const stepMs = FIRST_STEP_MS / 2;
  const f = report('crash', r, eventAt, endAt, { retryStepMs: stepMs, maxFailedInStep: S.maxFailedInWindow(r, stepMs) });
  assert.ok(f.maxClientsPer100ms <= 0.02 * N, `no 100 ms slot over 2% of the clients: ${f.maxClientsPer100ms}`);
  assert.equal(f.back, N, 'every client is back');
  assert.ok(f.lastBackAfterUpMs <= MAX_STEP_MS, `back within the largest step after the server is up: ${f.lastBackAfterUpMs} ms`);
  assert.ok(f.maxFailedInStep < N, `below one request per client per retry step while down: ${f.maxFailedInStep}`);
  // and in no second does it knock more than once per client per 5 s (the old client: once a second)
  assert.ok(f.maxFailedIn1s < 0.2 * N, `requests in the busiest second while down: ${f.maxFailedIn1s}`);
});
