// Skiff's one wasm module. Every export is a numeric entry point (see abi/exports.ts);
// each area re-exports its own entry points here, one line per area.
export * from "./abi/exports";
export * from "./abi/layout";
export * from "./mem/exports";
export * from "./codec/http1/exports";
export * from "./router/exports";
export * from "./codec/http2/exports";
export * from "./codec/hpack/exports";
export * from "./xprotocol/exports";
