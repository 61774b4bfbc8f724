// Type declarations for jcomet.js (script tag: global `JComet`/`iComet`; CommonJS: require('jcomet.js'),
// whose `.default` is the module itself; ES module: jcomet.mjs with jcomet.d.mts).
// Checked by `tsc` against small CommonJS and ES module usage files in src/test/ts (run by `mvn verify`).

/**
 * 'ws': one WebSocket to /ws per page and server URL, shared by the Subscriptions that use it; falls
 * back to 'sse' (then 'poll', then 'jsonp') when WebSocket is missing or blocked.
 */
export type Transport = 'poll' | 'sse' | 'jsonp' | 'ws';

/** A message as the server sends it (long-poll, SSE data line, JSONP argument). */
export interface CometMessage {
  type: 'data' | 'broadcast' | 'next_seq' | 'gap' | 'noop' | '401' | '404' | '429' | 'close'
      | 'reconnect' | 'error' | 'ping' | 'sign' | string;
  cname?: string;
  seq?: number;
  content?: string;
  /** the channel's incarnation (jcomet puts it on every channel message) */
  epoch?: string;
  /** gap only: first lost seq */
  from?: number;
  /** gap only: last lost seq */
  to?: number;
  reason?: string;
  sub_timeout?: number;
  token?: string;
  /** reconnect only: the window (ms) over which to come back */
  retry_ms?: number;
}

export interface GapInfo {
  /** first seq that will never arrive (unsigned) */
  from: number;
  /** last seq that will never arrive (unsigned) */
  to: number;
  count: number;
  /**
   * 'lost': the server said so (older than its buffer); 'skipped': a data seq jumped ahead;
   * 'restart': the server restarted (or re-created the channel) and no longer has seqs from..to of
   * the new incarnation (numbered from 1)
   */
  reason: 'lost' | 'skipped' | 'restart';
}

export type Status =
  | 'connecting' | 'connected' | 'waiting' | 'signing' | 'restarted' | 'stopped' | 'offline'
  | 'unauthorized' | 'not_found' | 'rate_limited' | 'closed' | 'error'
  /** transport 'ws' found WebSocket blocked (detail: {from: 'ws', to}) and goes on with `to` */
  | 'fallback';

/** Anything the client needs from the browser; tests pass fakes. Any subset may be given. */
export interface Env {
  fetch: typeof fetch | null;
  EventSource: typeof EventSource | null;
  WebSocket: typeof WebSocket | null;
  AbortController: typeof AbortController | null;
  document: Document | null;
  /** `navigator.onLine === false` pauses the client until the `online` event */
  navigator: { onLine?: boolean } | null;
  global: any;
  setTimeout(f: () => void, ms: number): any;
  clearTimeout(id: any): void;
  now(): number;
  random(): number;
}

export interface SubscriptionOptions {
  /** channel name (cname) */
  channel: string;
  /** front base URL, e.g. 'http://127.0.0.1:8100' ('' or omitted = same origin) */
  url?: string;
  /** full subscribe endpoint instead of url (icomet style, e.g. 'http://h:8100/sub') */
  subUrl?: string;
  /** default 'poll' (fetch long-poll, needs CORS when cross-origin) */
  transport?: Transport;
  /** transport 'ws': the WebSocket URL (default: url or subUrl with ws(s): and path /ws) */
  wsUrl?: string;
  /** transport 'ws': false = a socket of its own instead of the page's shared one (default true) */
  multiplex?: boolean;
  /** transport 'ws': the socket to carry this channel (several Subscriptions on one socket, explicitly) */
  socket?: Socket;
  /** called once per data/broadcast message, in seq order */
  onMessage?: (content: string, msg: CometMessage) => void;
  /** messages that can no longer be delivered */
  onGap?: (info: GapInfo, msg: CometMessage) => void;
  onStatus?: (state: Status, detail?: any) => void;
  /** application endpoint returning a `sign` message (JSON or JSONP); gives token and sub_timeout */
  signUrl?: string;
  /** sign and ping through JSONP (a <script>) instead of fetch; iComet() sets it, like icomet.js */
  signJsonp?: boolean;
  /** credentials mode of the sign/ping fetch, default 'same-origin' */
  signCredentials?: RequestCredentials;
  token?: string;
  /** next seq to ask for (resume); 0 = start from the newest */
  seq?: number;
  /** epoch seen with `seq`; without it the client learns the epoch from the first answer */
  epoch?: string;
  /** server polling timeout in seconds; otherwise read from /ping or sign */
  subTimeout?: number;
  /** false: do not call /ping */
  ping?: boolean;
  pingUrl?: string;
  /** JSONP callback name prefix, must match [A-Za-z_$][\w$]* (default 'jcomet_'); a random per-load id follows */
  callbackPrefix?: string;
  /** first backoff step in ms (default 5000; the delay is uniform in [0, step]) */
  backoffBase?: number;
  /** largest backoff step in ms (default 30000) */
  backoffMax?: number;
  /** largest random pause before polling again after a noop, ms (default 1000) */
  noopPause?: number;
  env?: Partial<Env>;
}

export interface Subscription {
  /** the transport in use: 'ws' turns into 'sse' (or 'poll', 'jsonp') where WebSocket is missing or blocked */
  readonly transport: Transport;
  readonly channel: string;
  readonly state: Status;
  readonly running: boolean;
  /** next seq expected (persist it with `epoch` to resume later) */
  readonly seq: number;
  readonly epoch: string | null;
  readonly token: string;
  start(): this;
  /** aborts the request in flight, closes the stream, clears all timers and listeners */
  stop(): this;
  /** the subscribe URL for the current state */
  url(): string;
  pendingTimers(): number;
}
export interface SubscriptionConstructor {
  new (opts: SubscriptionOptions): Subscription;
  /** works without `new` too */
  (opts: SubscriptionOptions): Subscription;
  readonly prototype: Subscription;
}
export declare const Subscription: SubscriptionConstructor;

export interface SocketOptions {
  /** front base URL ('' or omitted = same origin); ws(s): and /ws are derived from it */
  url?: string;
  /** the WebSocket URL itself, e.g. 'wss://push.example.com/ws' */
  wsUrl?: string;
  /** channels it carries at most (the server's ws_max_channels, default 16) */
  maxChannels?: number;
  env?: Partial<Env>;
}
/** One WebSocket to /ws carrying the channels of the Subscriptions given it as `socket`. It opens
 *  when a channel subscribes and closes when none is left. */
export declare class Socket {
  constructor(opts?: SocketOptions);
  readonly url: string;
  readonly maxChannels: number;
  /** the WebSocket is open */
  readonly connected: boolean;
  /** channels subscribed or being subscribed */
  channels(): number;
  /** closes the WebSocket now; its channels are not told (stop them first) */
  close(): void;
}

export interface PublishOptions {
  method?: 'GET' | 'POST';
  credentials?: RequestCredentials;
  env?: Partial<Env>;
}

/** Publishes through the application's own endpoint. Rejects with Error{status, body} on HTTP errors. */
export declare function publish(url: string, params: Record<string, string | number | boolean>,
                                opts?: PublishOptions): Promise<any>;

/** icomet.js's configuration: both its spellings are read (sub_url/subUrl, sign_url/signUrl, ...). */
export interface IcometConfig {
  channel: string;
  sub_url?: string;
  subUrl?: string;
  sign_url?: string;
  signUrl?: string;
  /** publish URL; a jQuery-style `cb=?` in it is answered through a real JSONP callback */
  pub_url?: string;
  pubUrl?: string;
  token?: string;
  transport?: Transport;
  /** default true: the sign URL is called with JSONP, as icomet.js does */
  signJsonp?: boolean;
  callbackPrefix?: string;
  callback?: (content: string, type: string) => void;
  sub_callback?: (content: string, type: string) => void;
  onGap?: (info: GapInfo, msg: CometMessage) => void;
  onStatus?: (state: Status, detail?: any) => void;
  env?: Partial<Env>;
}

/** Drop-in for icomet.js: starts on construction. */
export interface iComet {
  readonly sub: Subscription;
  /** the channel in use (the sign answer may change it), like icomet.js */
  readonly cname: string;
  /** the token in use ('' before signing), like icomet.js */
  readonly token: string;
  readonly pub_url: string | null;
  start(): this;
  stop(): this;
  pub(content: string, cb?: (answer: any) => void): Promise<any>;
}
export interface IcometConstructor {
  new (config: IcometConfig): iComet;
  /** icomet.js pages call it without `new` too */
  (config: IcometConfig): iComet;
  readonly prototype: iComet;
}
export declare const iComet: IcometConstructor;

export declare class SeqTracker {
  constructor(seq?: number, epoch?: string | null);
  next: number;
  synced: boolean;
  epoch: string | null;
  noop: number;
  seeEpoch(epoch: string | null | undefined): boolean;
  onNextSeq(seq: number): void;
  onGap(from: number, to: number): GapInfo | null;
  onData(seq: number | undefined): { deliver: boolean; gap: GapInfo | null };
  onNoop(seq: number): void;
}

export declare class Backoff {
  constructor(opts?: { base?: number; max?: number; factor?: number; random?: () => number });
  attempt: number;
  /** a server's reconnect window: steps double from it instead of from `base` */
  floor: number;
  step(): number;
  next(min?: number): number;
  reset(): void;
}

export type Directive = 'continue' | 'noop' | 'backoff' | 'restart' | 'slow' | 'resign' | 'stop';

export declare class Dispatcher {
  constructor(tracker: SeqTracker, cb: Pick<SubscriptionOptions, 'onMessage' | 'onGap' | 'onStatus'>);
  canResign: boolean;
  /** retry_ms of the last `reconnect` message: the window to come back in (default 1000) */
  retryMs: number;
  /** false stops a batch half-way (the page called stop()) */
  live: () => boolean;
  dispatch(msg: CometMessage | CometMessage[]): Directive;
}

export declare const version: string;
export declare function seqDiff(a: number, b: number): number;
/** the seq after `a`: wraps 4294967295 -> 1 (0 is never a message seq) */
export declare function seqNext(a: number): number;
export declare function buildUrl(base: string, params: Record<string, any>): string;
export declare function parseMaybeJsonp(text: string): any;
export declare function isCallbackName(s: string): boolean;
export declare function endpointUrl(url: string | null | undefined, path: string): string;
export declare function swapPath(url: string, path: string): string | null;
/** the /ws URL for a front base URL or sub endpoint ('' = this page's origin; http(s) -> ws(s)) */
export declare function wsUrlFor(url: string | null | undefined, env?: Partial<Env>): string;

export interface JCometApi {
  version: string;
  Subscription: SubscriptionConstructor;
  Socket: typeof Socket;
  publish: typeof publish;
  iComet: IcometConstructor;
  SeqTracker: typeof SeqTracker;
  Backoff: typeof Backoff;
  Dispatcher: typeof Dispatcher;
  seqDiff: typeof seqDiff;
  seqNext: typeof seqNext;
  buildUrl: typeof buildUrl;
  parseMaybeJsonp: typeof parseMaybeJsonp;
  isCallbackName: typeof isCallbackName;
  endpointUrl: typeof endpointUrl;
  swapPath: typeof swapPath;
  wsUrlFor: typeof wsUrlFor;
  /** the module itself (CommonJS consumers of `import JComet from` read `.default`) */
  default: JCometApi;
}
declare const JComet: JCometApi;
export default JComet;

declare global {
  interface Window {
    JComet: JCometApi;
    iComet: IcometConstructor;
  }
}
