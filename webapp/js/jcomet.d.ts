// Type declarations for jcomet.js (script tag: global `JComet`/`iComet`; ES module: jcomet.mjs).

export type Transport = 'poll' | 'sse' | 'jsonp';

/** A message as the server sends it (long-poll, SSE data line, JSONP argument). */
export interface CometMessage {
  type: 'data' | 'broadcast' | 'next_seq' | 'gap' | 'noop' | '401' | '404' | '429' | 'close'
      | 'reconnect' | 'error' | 'ping' | 'sign' | string;
  cname?: string;
  seq?: number;
  content?: string;
  epoch?: string;
  /** gap only: first lost seq */
  from?: number;
  /** gap only: last lost seq */
  to?: number;
  reason?: string;
  sub_timeout?: number;
  token?: string;
}

export interface GapInfo {
  /** first seq that will never arrive */
  from: number;
  /** last seq that will never arrive */
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
  | 'connecting' | 'connected' | 'waiting' | 'signing' | 'restarted' | 'stopped'
  | 'unauthorized' | 'not_found' | 'rate_limited' | 'closed' | 'error';

/** Anything the client needs from the browser; tests pass fakes. */
export interface Env {
  fetch: typeof fetch | null;
  EventSource: typeof EventSource | null;
  AbortController: typeof AbortController | null;
  document: Document | null;
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
  /** epoch seen with `seq` (resume across a server restart) */
  epoch?: string;
  /** server polling timeout in seconds; otherwise read from /ping or sign */
  subTimeout?: number;
  /** false: do not call /ping */
  ping?: boolean;
  pingUrl?: string;
  /** JSONP callback name prefix, must match [A-Za-z_$][\w$]* (default 'jcomet_cb_') */
  callbackPrefix?: string;
  /** first backoff delay in ms (default 500) */
  backoffBase?: number;
  /** backoff cap in ms (default 30000) */
  backoffMax?: number;
  env?: Partial<Env>;
}

export declare class Subscription {
  constructor(opts: SubscriptionOptions);
  readonly transport: Transport;
  readonly channel: string;
  readonly state: Status;
  readonly running: boolean;
  /** next seq expected (persist it with `epoch` to resume later) */
  readonly seq: number;
  readonly epoch: string | null;
  start(): this;
  /** aborts the request in flight, closes the stream, clears all timers */
  stop(): this;
  /** the subscribe URL for the current state */
  url(): string;
  pendingTimers(): number;
}

export interface PublishOptions {
  method?: 'GET' | 'POST';
  credentials?: RequestCredentials;
  env?: Partial<Env>;
}

/** Publishes through the application's own endpoint. Rejects with Error{status, body} on HTTP errors. */
export declare function publish(url: string, params: Record<string, string | number | boolean>,
                                opts?: PublishOptions): Promise<any>;

export interface IcometConfig {
  channel: string;
  subUrl?: string;
  signUrl?: string;
  pubUrl?: string;
  token?: string;
  transport?: Transport;
  /** default true: the sign URL is called with JSONP (cb=icomet_cb_N), as icomet.js does */
  signJsonp?: boolean;
  callback?: (content: string, type: string) => void;
  onGap?: (info: GapInfo, msg: CometMessage) => void;
  onStatus?: (state: Status, detail?: any) => void;
}

/** Drop-in for icomet.js: starts on construction. */
export declare class iComet {
  constructor(config: IcometConfig);
  readonly sub: Subscription;
  start(): this;
  stop(): this;
  pub(content: string, cb?: (answer: any) => void): Promise<any>;
}

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
  next(min?: number): number;
  reset(): void;
}

export type Directive = 'continue' | 'backoff' | 'restart' | 'slow' | 'resign' | 'stop';

export declare class Dispatcher {
  constructor(tracker: SeqTracker, cb: Pick<SubscriptionOptions, 'onMessage' | 'onGap' | 'onStatus'>);
  canResign: boolean;
  /** retry_ms of the last `reconnect` message (default 1000) */
  retryMs: number;
  dispatch(msg: CometMessage | CometMessage[]): Directive;
}

export declare const version: string;

declare const JComet: {
  version: string;
  Subscription: typeof Subscription;
  publish: typeof publish;
  iComet: typeof iComet;
  SeqTracker: typeof SeqTracker;
  Backoff: typeof Backoff;
  Dispatcher: typeof Dispatcher;
  seqDiff(a: number, b: number): number;
  seqNext(a: number): number;
  buildUrl(base: string, params: Record<string, any>): string;
  parseMaybeJsonp(text: string): any;
  isCallbackName(s: string): boolean;
};
export default JComet;

declare global {
  interface Window {
    JComet: typeof JComet;
    iComet: typeof iComet;
  }
}
