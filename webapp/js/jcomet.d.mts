// Types for the ES module entry jcomet.mjs: the same API as jcomet.d.ts, default export included.
import JComet from './jcomet.js';
export * from './jcomet.js';
export default JComet;
