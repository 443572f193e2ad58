/**
 * One Node SecureContext per distinct TLS material, shared by every context built from it. Istio names the same
 * two SDS secrets (`default`, `ROOTCA`) from every outbound cluster: without sharing, a secret arriving or
 * rotating makes each of thousands of clusters build its own SecureContext (~2 ms of main-thread CPU apiece),
 * blocking traffic for seconds. A SecureContext is not changed after it is built, so sharing one is safe.
 * Entries are held weakly: a context no TLS context uses any more is collected and its entry dropped.
 */
import { createHash } from 'node:crypto';
import tls from 'node:tls';

const cache = new Map<string, WeakRef<tls.SecureContext>>();
const collected = new FinalizationRegistry<string>((key) => {
  if (cache.get(key)?.deref() === undefined) cache.delete(key);
});

/** The options Skiff builds contexts from; anything else set would not be part of the key, so it is refused. */
const KEYED = new Set(['cert', 'key', 'ca', 'minVersion', 'maxVersion', 'ciphers']);

function addPart(h: ReturnType<typeof createHash>, tag: string, v: unknown): void {
  if (v === undefined) return;
  for (const item of Array.isArray(v) ? v : [v]) {
    const bytes = typeof item === 'string' ? Buffer.from(item) : item as Buffer;
    // Tagged and length-prefixed: no two different option sets hash the same input.
    h.update(`${tag}:${bytes.length}:`);
    h.update(bytes);
  }
}

/** tls.createSecureContext(options), or the context already built from the same options. Throws as it does. */
export function sharedSecureContext(options: tls.SecureContextOptions): tls.SecureContext {
  for (const k of Object.keys(options)) {
    if (!KEYED.has(k)) throw new Error(`sharedSecureContext: option ${k} is not part of the cache key`);
  }
  const h = createHash('sha256');
  addPart(h, 'cert', options.cert);
  addPart(h, 'key', options.key as Buffer | Buffer[] | string | undefined);
  addPart(h, 'ca', options.ca);
  addPart(h, 'v', `${options.minVersion ?? ''}|${options.maxVersion ?? ''}|${options.ciphers ?? ''}`);
  const key = h.digest('base64');
  const hit = cache.get(key)?.deref();
  if (hit !== undefined) return hit;
  const context = tls.createSecureContext(options);
  cache.set(key, new WeakRef(context));
  collected.register(context, key);
  return context;
}

/** How many distinct contexts are held (tests). */
export function sharedSecureContextCount(): number {
  let n = 0;
  for (const ref of cache.values()) if (ref.deref() !== undefined) n++;
  return n;
}
