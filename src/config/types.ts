/** What src/config hands to the rest of Skiff. */
import type { Bootstrap } from '../types/envoy.js';

export interface LoadedBootstrap {
  /** The decoded config in the shape of src/types/envoy.ts (absent fields absent, no defaults). */
  bootstrap: Bootstrap;
  /** The same config in Envoy's proto3 JSON form (snake_case names, "5s" durations), for /config_dump. */
  raw: unknown;
  /** Notes that do not stop loading (deprecated fields, hints Skiff does not use). */
  warnings: string[];
}
