// ES module entry for jcomet.js: `import JComet, { Subscription, publish } from '/js/jcomet.mjs';`
// Types: jcomet.d.mts (next to this file) re-exports jcomet.d.ts.
// jcomet.js is a dependency-free script that registers globalThis.JComet (and iComet) when it runs;
// importing it for its side effect works in browsers (module graph) and in Node (CommonJS interop).
import './jcomet.js';

const JComet = globalThis.JComet;
export default JComet;
export const Subscription = JComet.Subscription;
export const publish = JComet.publish;
export const iComet = JComet.iComet;
export const SeqTracker = JComet.SeqTracker;
export const Backoff = JComet.Backoff;
export const Dispatcher = JComet.Dispatcher;
export const version = JComet.version;
