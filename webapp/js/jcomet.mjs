// ES module entry for jcomet.js: `import JComet, { Subscription, publish } from '/js/jcomet.mjs';`
// Types: jcomet.d.mts (next to this file).
// jcomet.js is a dependency-free script that registers globalThis.JComet (and iComet) when it runs;
// importing it for its side effect works in browsers (module graph) and in Node (CommonJS interop).
import './jcomet.js';

const JComet = globalThis.JComet;
export default JComet;
export const Subscription = JComet.Subscription;
export const Socket = JComet.Socket;
export const publish = JComet.publish;
export const iComet = JComet.iComet;
export const SeqTracker = JComet.SeqTracker;
export const Backoff = JComet.Backoff;
export const Dispatcher = JComet.Dispatcher;
export const version = JComet.version;
export const seqDiff = JComet.seqDiff;
export const seqNext = JComet.seqNext;
export const buildUrl = JComet.buildUrl;
export const parseMaybeJsonp = JComet.parseMaybeJsonp;
export const isCallbackName = JComet.isCallbackName;
export const endpointUrl = JComet.endpointUrl;
export const swapPath = JComet.swapPath;
export const wsUrlFor = JComet.wsUrlFor;
