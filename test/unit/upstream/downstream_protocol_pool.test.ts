// use_downstream_protocol_config's pool: each request's protocol picks the HTTP/1.1 or HTTP/2 pool (made on
// first use), releases reach the pool that lent the connection, and drain/close reach pools made later too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientConnection, RequestHead } from '../../../src/types/http.js';
import type { PoolHandle } from '../../../src/types/upstream.js';
import type { SkiffError } from '../../../src/common/errors.js';
import type { ProtocolPool } from '../../../src/upstream/alpn_pool.js';
import { DownstreamProtocolPool } from '../../../src/upstream/downstream_protocol_pool.js';

class FakePool implements ProtocolPool {
  acquired = 0;
  released: ClientConnection[] = [];
  state: 'open' | 'draining' | 'closed' = 'open';
  readonly lent = new Set<ClientConnection>();
  constructor(readonly protocol: 'http1' | 'http2') {}
  get activeConnections(): number { return this.lent.size; }
  get pendingRequests(): number { return 0; }
  get isDraining(): boolean { return this.state !== 'open'; }
  acquire(cb: (err: SkiffError | null, conn?: ClientConnection) => void): PoolHandle {
    this.acquired++;
    const conn = { id: this.acquired, protocol: this.protocol } as unknown as ClientConnection;
    this.lent.add(conn);
    cb(null, conn);
    return { cancel() {} };
  }
  release(conn: ClientConnection): void { if (this.lent.delete(conn)) this.released.push(conn); }
  drain(): void { if (this.state === 'open') this.state = 'draining'; }
  close(): void { this.state = 'closed'; }
  reconcile(): void {}
}

const head = (protocol?: 'http1' | 'http2'): RequestHead => ({ protocol } as unknown as RequestHead);

function pool(): { p: DownstreamProtocolPool; made: FakePool[] } {
  const made: FakePool[] = [];
  const p = new DownstreamProtocolPool((protocol) => { const f = new FakePool(protocol); made.push(f); return f; });
  return { p, made };
}

function take(p: DownstreamProtocolPool, request?: RequestHead): ClientConnection {
  let got: ClientConnection | undefined;
  p.acquire((_e, c) => { got = c; }, request);
  return got!;
}

test('HTTP/2 requests get the HTTP/2 pool; HTTP/1.x and unmarked requests the HTTP/1.1 pool, each made once', () => {
  const { p, made } = pool();
  const a = take(p, head('http2'));
  const b = take(p, head('http2'));
  const c = take(p, head('http1'));
  const d = take(p);
  assert.deepEqual(made.map((m) => m.protocol), ['http2', 'http1']);
  assert.equal(made[0]!.acquired, 2);
  assert.equal(made[1]!.acquired, 2);
  assert.equal(p.activeConnections, 4);
  for (const conn of [a, b, c, d]) p.release(conn);
  assert.equal(made[0]!.released.length, 2);
  assert.equal(made[1]!.released.length, 2);
  assert.equal(p.activeConnections, 0);
});

test('drain and close reach the pools made before and after', () => {
  const { p, made } = pool();
  take(p, head('http1'));
  p.drain();
  assert.equal(made[0]!.state, 'draining');
  assert.equal(p.isDraining, true);
  take(p, head('http2'));
  assert.equal(made[1]!.state, 'draining');
  p.close();
  assert.deepEqual(made.map((m) => m.state), ['closed', 'closed']);
  const late = pool();
  late.p.close();
  take(late.p, head('http2'));
  assert.equal(late.made[0]!.state, 'closed');
});
