/** A raw Bolt v1 upstream for the x-protocol tests: answers with sofa-bolt-node's encoder, or misbehaves on purpose. */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { startServer } from '../tcp_proxy/harness.js';

const require = createRequire(import.meta.url);
const proto = require('sofa-bolt-node/lib/protocol') as { responseEncode(id: number, r: object, o: object): Buffer };
const V1 = { protocolType: 'bolt', codecType: 'hessian2' };
const BOLT_STATUS_SERVER_THREADPOOL_BUSY = 4;

export type Behaviour = 'ok' | 'busy' | 'reset' | 'silent';

export interface BoltUpstream {
  readonly port: number;
  /** Requests received (heartbeats not counted). */
  readonly requests: number;
  /** Connections open now. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/**
 * A Bolt v1 upstream answering every request according to `behaviour()`, with `tag` as the result; over TLS
 * with `tlsOptions` (cert and key).
 */
export async function boltUpstream(tag: string, behaviour: () => Behaviour = () => 'ok', tlsOptions?: tls.TlsOptions): Promise<BoltUpstream> {
  let requests = 0;
  let open = 0;
  let accepted = 0;
  const onSocket = (s: net.Socket): void => {
    open++;
    accepted++;
    s.once('close', () => { open--; });
    let pending = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('end', () => s.end());
    s.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      // Bounded: each pass takes one whole request frame (22-byte header + class + header map + content).
      while (pending.length >= 22) {
        const len = 22 + pending.readUInt16BE(14) + pending.readUInt16BE(16) + pending.readUInt32BE(18);
        if (pending.length < len) break;
        const frame = pending.subarray(0, len);
        pending = pending.subarray(len);
        if (frame.readUInt16BE(2) !== 1) { s.write(Buffer.from([1, 0, 0, 0, 1, ...frame.subarray(5, 9), 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); continue; } // heartbeat
        requests++;
        const b = behaviour();
        if (b === 'reset') { s.destroy(); return; }
        if (b === 'silent') continue;
        const res = proto.responseEncode(frame.readUInt32BE(5), { isError: false, appResponse: { $class: 'java.lang.String', $: tag } }, V1);
        if (b === 'busy') res.writeUInt16BE(BOLT_STATUS_SERVER_THREADPOOL_BUSY, 10);
        s.write(res);
      }
    });
  };
  const server = tlsOptions === undefined ? await startServer(onSocket) : await startTlsServer(tlsOptions, onSocket);
  return {
    port: server.port, get requests() { return requests; }, get open() { return open; }, get accepted() { return accepted; },
    close: () => server.close(),
  };
}

async function startTlsServer(opts: tls.TlsOptions, onSocket: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = tls.createServer(opts, (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); onSocket(s); });
  srv.on('tlsClientError', () => {});
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>((r) => srv.close(() => r())); },
  };
}
