// ES module consumer of webapp/js/jcomet.d.mts (jcomet.mjs): type-checked by tsc, then run by node.
import JComet, { Subscription, iComet, seqDiff, seqNext, buildUrl, parseMaybeJsonp, isCallbackName,
  endpointUrl, swapPath, version, SeqTracker, Backoff, Dispatcher } from '../../../../webapp/js/jcomet.mjs';
import type { GapInfo, SubscriptionOptions } from '../../../../webapp/js/jcomet.mjs';

const opts: SubscriptionOptions = { channel: 'c', url: 'http://127.0.0.1:9', ping: false, env: { now: () => 42 } };
const s = Subscription(opts);
const t = new JComet.Subscription(opts);
if (!s.url().endsWith('&_=42') || t.channel !== 'c') throw new Error('subscription: ' + s.url());
const gap: GapInfo | null = new SeqTracker(4294967294, 'E').onData(2).gap;
if (!gap || gap.count !== 3) throw new Error('wrap gap');
const b = new Backoff({ base: 100, random: () => 1 });
b.floor = 1000;
if (b.next() !== 1000) throw new Error('floor');
const d = new Dispatcher(new SeqTracker(), {});
if (d.dispatch({ type: 'noop', seq: 0 }) !== 'noop') throw new Error('dispatch');
const ok: boolean = isCallbackName('cb_1') && seqDiff(1, -1) === 2 && seqNext(-1) === 1;
const u: string = buildUrl(endpointUrl('http://h', '/sub'), { a: 1 });
const sw: string | null = swapPath(u, '/sse');
const parsed = parseMaybeJsonp('cb({"type":"ok"})');
if (!ok || sw !== 'http://h/sse?a=1' || parsed.type !== 'ok' || typeof version !== 'string') throw new Error('helpers');
const ic = iComet({ channel: 'c', subUrl: 'http://127.0.0.1:9/sub', env: { document: null, fetch: null, EventSource: null } });
ic.stop();
console.log('esm usage ok');
