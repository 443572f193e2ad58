/** The x-protocols Skiff ships, registered in one explicit list. */
import { boltSpec } from './bolt.js';
import { dubboSpec } from './dubbo.js';
import { hasXProtocol, registerXProtocol } from './registry.js';

let done = false;

/** Registers bolt and dubbo once (idempotent: every importer of the codec may call it). */
export function registerBuiltinXProtocols(): void {
  if (done) return;
  done = true;
  for (const spec of [boltSpec, dubboSpec]) {
    if (!hasXProtocol(spec.name)) registerXProtocol(spec.name, spec);
  }
}
