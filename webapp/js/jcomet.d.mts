// Types for the ES module entry jcomet.mjs (same API as jcomet.d.ts).
export * from './jcomet.js';
export { default } from './jcomet.js';
