/**
 * Listener filters: what a listener learns from a connection's first bytes before it picks a filter chain.
 *  - envoy.filters.listener.tls_inspector: a TLS ClientHello or not; its SNI and ALPN list.
 *  - envoy.filters.listener.http_inspector: on plain text, HTTP/2 prior knowledge (`h2c`) or HTTP/1.x.
 *  - skiff.filters.listener.protocol_inspector (protocol_inspector.ts): on plain text, what http_inspector
 *    says or a registered x-protocol's name (`bolt`, `dubbo`): one port for HTTP and RPC.
 *  - envoy.filters.listener.original_dst and the registered no-ops: accepted, nothing read (Skiff is not a
 *    transparent proxy; Istio's metadata exchange changes nothing about forwarding). On an internal listener,
 *    original_dst restores the destination from the connection's passed-through metadata (listener_manager.ts).
 * Reading is bounded (16 KiB for a ClientHello, 8 KiB for a request line) and timed
 * (listener_filters_timeout, Envoy's default 15 s; on timeout the connection closes unless
 * continue_on_listener_filters_timeout). The bytes read are handed on: nothing the client sent is lost.
 */
import { ConfigError, UnsupportedConfigError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Any, Duration } from '../types/envoy.js';
import { inspectClientHello, MAX_CLIENT_HELLO_BYTES } from './client_hello.js';
import { noopListenerFilterReason, warnNoopOnce } from './network_filters.js';
import { checkPreface } from '../stream/server_codecs.js';
import type { Socket } from 'node:net';
import type { StatsStore } from '../common/stats.js';
import type { WasmInstance } from '../wasm/module.js';
import { MAX_REQUEST_LINE_BYTES, PROTOCOL_INSPECTOR, PROTOCOL_INSPECTOR_TYPE_URL, ProtocolInspector } from './protocol_inspector.js';

export const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
export const TLS_INSPECTOR_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
export const HTTP_INSPECTOR = 'envoy.filters.listener.http_inspector';
export const HTTP_INSPECTOR_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector';
export const ORIGINAL_DST = 'envoy.filters.listener.original_dst';
export const ORIGINAL_DST_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst';

/** Envoy's http_inspector gives up after this many bytes without a request line. */
const MAX_HTTP_INSPECT_BYTES = 8 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

export interface ListenerFiltersSpec {
  readonly tlsInspector: boolean;
  readonly httpInspector: boolean;
  /** skiff.filters.listener.protocol_inspector, when configured. */
  readonly protocolInspector?: ProtocolInspector;
  /** 0 = no timeout. */
  readonly timeoutMs: number;
  readonly continueOnTimeout: boolean;
  /**
   * envoy.filters.listener.original_dst is configured: on an internal listener's connection it restores the
   * destination from the `envoy.filters.listener.original_dst` dynamic metadata's `local` (Istio's HBONE).
   */
  readonly originalDst?: boolean;
}

export interface ListenerFilterConfig { name: string; typed_config?: Any }

function durationMs(d: Duration | undefined, fallback: number): number {
  if (d === undefined || d === null) return fallback;
  return Math.round((d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6);
}

/** What listener filters that run wasm need (protocol_inspector); without it they are refused. */
export interface ListenerFilterDeps { readonly wasm: WasmInstance; readonly stats?: StatsStore }

/** Reads a listener's listener_filters and their timeout; unknown filters are rejected by name. */
export function readListenerFilters(filters: readonly ListenerFilterConfig[] | undefined, timeout: Duration | undefined,
  continueOnTimeout: boolean | undefined, path: string, log: Logger | undefined, deps?: ListenerFilterDeps): ListenerFiltersSpec {
  let tlsInspector = false;
  let httpInspector = false;
  let protocolInspector: ProtocolInspector | undefined;
  let originalDst = false;
  (filters ?? []).forEach((f, i) => {
    const url = f.typed_config?.['@type'];
    const is = (name: string, typeUrl: string): boolean => (url !== undefined ? url === typeUrl : f.name === name);
    if (is(TLS_INSPECTOR, TLS_INSPECTOR_TYPE_URL)) tlsInspector = true;
    else if (is(HTTP_INSPECTOR, HTTP_INSPECTOR_TYPE_URL)) httpInspector = true;
    else if (is(PROTOCOL_INSPECTOR, PROTOCOL_INSPECTOR_TYPE_URL)) {
      if (deps === undefined) throw new UnsupportedConfigError(`${path}.listener_filters[${i}]`, `listener filter ${f.name} without a wasm instance`);
      protocolInspector ??= new ProtocolInspector(deps.wasm, deps.stats);
    } else if (is(ORIGINAL_DST, ORIGINAL_DST_TYPE_URL)) {
      originalDst = true;
      warnNoopOnce('listener filter', f.name, 'Skiff is not a transparent proxy: the accepted address is the destination (internal listeners: the passed-through original destination)', log);
    } else {
      const reason = noopListenerFilterReason(url ?? f.name) ?? noopListenerFilterReason(f.name);
      if (reason === undefined) throw new UnsupportedConfigError(`${path}.listener_filters[${i}]`, `listener filter ${f.name}${url ? ` (${url})` : ''}`);
      warnNoopOnce('listener filter', f.name, reason, log);
    }
    for (const key of Object.keys(f)) {
      if (key !== 'name' && key !== 'typed_config') throw new UnsupportedConfigError(`${path}.listener_filters[${i}].${key}`, 'field');
    }
  });
  const timeoutMs = durationMs(timeout, DEFAULT_TIMEOUT_MS);
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new ConfigError(`${path}.listener_filters_timeout`, 'must not be negative');
  return { tlsInspector, httpInspector, ...(protocolInspector ? { protocolInspector } : {}), timeoutMs, continueOnTimeout: continueOnTimeout ?? false, ...(originalDst ? { originalDst } : {}) };
}

/** What the listener filters learned. */
export interface Inspection {
  transportProtocol: 'tls' | 'raw_buffer';
  serverName: string;
  /** ALPN list offered in the ClientHello, or ['h2c'] / ['http/1.1'] / ['http/1.0'] from http_inspector. */
  applicationProtocols: string[];
  /** Every byte read, in order: the chain gets them first. */
  data: Buffer;
}

type HttpGuess = 'need-more' | 'h2c' | 'http/1.1' | 'http/1.0' | 'unknown';

/** HTTP/2 prior knowledge, an HTTP/1.x request line, or neither (Envoy's http_inspector). */
export function inspectHttp(bytes: Uint8Array): HttpGuess {
  const preface = checkPreface(bytes);
  if (preface === 'h2') return 'h2c';
  const crlf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf('\r\n');
  if (crlf < 0) return bytes.length >= MAX_HTTP_INSPECT_BYTES ? 'unknown' : 'need-more';
  if (preface === 'need-more') return 'need-more'; // "PRI * HTTP/2.0\r\n" is a prefix of the preface
  const line = Buffer.from(bytes.buffer, bytes.byteOffset, crlf).toString('latin1');
  const m = /^[A-Za-z]+ \S+ HTTP\/1\.([01])$/.exec(line);
  if (m === null) return 'unknown';
  return m[1] === '1' ? 'http/1.1' : 'http/1.0';
}

export type InspectOutcome = { ok: true; inspection: Inspection } | { ok: false; reason: 'timeout' | 'closed' };

/**
 * Runs the listener filters on a fresh socket: reads until every inspector has its answer (or gives up), then
 * pauses the socket and calls `done` with the bytes read. Calls `done` once; on close or timeout (without
 * continue_on_listener_filters_timeout) with ok: false, and the caller closes the socket.
 */
export function runListenerFilters(socket: Socket, spec: ListenerFiltersSpec, done: (outcome: InspectOutcome) => void): void {
  const result: Inspection = { transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: [], data: Buffer.alloc(0) };
  let tlsDone = !spec.tlsInspector;
  let httpDone = !spec.httpInspector;
  const protocolInspector = spec.protocolInspector;
  let protocolDone = protocolInspector === undefined;
  const chunks: Buffer[] = [];
  let length = 0;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (outcome: InspectOutcome): void => {
    if (finished) return;
    finished = true;
    if (!protocolDone) {
      // Closed or timed out before an answer (a read error), or served undecided (continue on timeout, half-close).
      if (outcome.ok) protocolInspector!.record({ kind: 'unknown' });
      else protocolInspector!.recordReadError();
    }
    if (timer !== undefined) clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onClosed);
    socket.off('error', onClosed);
    socket.pause();
    done(outcome);
  };
  const succeed = (): void => {
    result.data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
    finish({ ok: true, inspection: result });
  };
  const examine = (bytes: Buffer): void => {
    if (!tlsDone) {
      const r = inspectClientHello(bytes);
      if (r.kind !== 'need-more') {
        tlsDone = true;
        if (r.kind !== 'not-tls') result.transportProtocol = 'tls';
        if (r.kind === 'hello') { result.serverName = r.serverName; result.applicationProtocols = r.alpn; }
      }
    }
    // http_inspector looks at plain text only; once TLS is seen it has nothing to say.
    if (!httpDone && tlsDone && result.transportProtocol === 'tls') httpDone = true;
    if (!httpDone) {
      const h = inspectHttp(bytes);
      if (h !== 'need-more') {
        httpDone = true;
        if (h !== 'unknown' && (tlsDone || bytes[0] !== 0x16)) result.applicationProtocols = [h];
      }
    }
    if (!tlsDone && bytes.length >= MAX_CLIENT_HELLO_BYTES) tlsDone = true;
    if (!protocolDone && tlsDone && result.transportProtocol === 'tls') protocolDone = true;
    if (!protocolDone) {
      // Like http_inspector, it waits for tls_inspector's verdict: a ClientHello is no protocol of its own.
      const guess = tlsDone || bytes[0] !== 0x16 ? protocolInspector!.inspect(bytes) : undefined;
      if (guess !== undefined && (guess.kind !== 'need-more' || bytes.length >= MAX_REQUEST_LINE_BYTES)) {
        protocolDone = true;
        protocolInspector!.record(guess);
        if (guess.kind === 'found') result.applicationProtocols = [guess.protocol];
      }
    }
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    length += chunk.length;
    examine(chunks.length === 1 ? chunk : Buffer.concat(chunks, length));
    if (tlsDone && httpDone && protocolDone) succeed();
  };
  const onClosed = (): void => finish({ ok: false, reason: 'closed' });
  // A peer that sent its bytes and half-closed gets them served: no more will come to inspect.
  const onEnd = (): void => { if (length > 0) succeed(); else onClosed(); };
  if (spec.timeoutMs > 0) {
    timer = setTimeout(() => {
      if (spec.continueOnTimeout) succeed();
      else finish({ ok: false, reason: 'timeout' });
    }, spec.timeoutMs);
  }
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onClosed);
  socket.once('error', onClosed);
}
