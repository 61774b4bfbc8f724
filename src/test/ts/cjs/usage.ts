// CommonJS consumer of webapp/js/jcomet.d.ts: type-checked by tsc, then run by node (TypeCheckTest),
// so a type that does not match the runtime fails the build.
import JComet, { Subscription, iComet, publish, seqNext, GapInfo, Status, CometMessage } from '../../../../webapp/js/jcomet.js';

const seen: string[] = [];
const sub = new JComet.Subscription({
  channel: 'c', url: 'http://127.0.0.1:9', transport: 'sse', seq: 1,
  onMessage(content: string, msg: CometMessage) { seen.push(content + msg.type); },
  onGap(g: GapInfo) { if (g.reason === 'restart') seen.push('restart ' + g.count); },
  onStatus(s: Status) { seen.push(s); },
  env: { random: () => 0.5 },            // a partial environment
});
const viaCall = Subscription({ channel: 'c2', url: 'http://127.0.0.1:9', ping: false }); // without new
const seq: number = sub.seq;
const epoch: string | null = sub.epoch;
if (!/\/poll\?cname=c2&seq=0/.test(viaCall.url())) throw new Error('url: ' + viaCall.url());
if (seq !== 1 || epoch !== null) throw new Error('seq/epoch');

// icomet.js's spellings and fields; callable without new
const ic = iComet({
  channel: 'room', sub_url: 'http://127.0.0.1:9/sub', sign_url: 'http://127.0.0.1:9/sign',
  pub_url: 'http://127.0.0.1:9/push?cb=?', sub_callback(content: string, type: string) { seen.push(content + type); },
  env: { document: null, EventSource: null, fetch: null },
});
ic.stop();
const cname: string = ic.cname;
const token: string = ic.token;
if (cname !== 'room' || token !== '') throw new Error('iComet fields');
const other = new iComet({ channel: 'room', subUrl: '/sub', callback() {}, env: { document: null, fetch: null, EventSource: null } });
other.stop();

const wrapped: number = seqNext(4294967295);
if (wrapped !== 1) throw new Error('wrap');
if (JComet.publish !== publish) throw new Error('default export is the module');
const p: Promise<any> = publish('/x', { a: 1, b: 'two', c: true }, { method: 'POST', env: { fetch: null } });
p.catch(() => {});

// what the types must refuse (never run: the runtime throws on the first two)
export function refusedByTheTypes(): void {
  // @ts-expect-error unknown transport
  Subscription({ channel: 'c', transport: 'websocket' });
  // @ts-expect-error the channel is required
  new Subscription({ url: '' });
  // @ts-expect-error seq is a number
  new Subscription({ channel: 'c', seq: '1' });
}
console.log('cjs usage ok');
