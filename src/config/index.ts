/** src/config's public API: load, validate, read with defaults, dump. */
export { loadBootstrapFile, loadBootstrapText, formatOfPath, type ConfigFormat, type LoadOptions } from './bootstrap.js';
export type { LoadedBootstrap } from './types.js';
export { validateBootstrap, listUnsupported } from './validate.js';
export { buildConfigDump, configDumpSection, CONFIG_DUMP_TYPES, RESOURCE_TYPES, type ConfigDump } from './config_dump.js';
export * from './values.js';
export { HCM_TYPE_URL, ROUTER_TYPE_URL, SUPPORTED, HINT_FIELDS } from './subset.js';
export { protoLoadStats, releaseEnvoyRoot } from './protos.js';
export { decodeResource, validateResource, type DecodedResource } from './resources.js';
