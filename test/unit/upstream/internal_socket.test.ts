// The in-process connection behind internal listeners: bytes both ways, half-close, backpressure, close and reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { waitFor } from '../../helpers/wait.js';
import { internalSocketPair, INTERNAL_CLIENT_ADDRESS } from '../../../src/upstream/internal_socket.js';
import { InternalListenerRegistry, type InternalConnection } from '../../../src/upstream/internal_listeners.js';
import { FilterStateStore, stringObject } from '../../../src/common/filter_state.js';

/** `p`, or a failure after `ms` (every wait in these tests is bounded). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}


function collect(s: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (c: Buffer) => { text += c.toString(); });
    s.once('end', () => resolve(text));
  });
}

test('bytes flow both ways; a FIN is EOF on the other end, which may still write (half-close)', async () => {
  const { client, server } = internalSocketPair('l1');
  server.allowHalfOpen = true;
  assert.equal(server.remoteAddress, INTERNAL_CLIENT_ADDRESS);
  assert.equal(client.remoteAddress, 'envoy://l1/');
  const atServer = collect(server);
  client.write('hello ');
  client.end('world');
  assert.equal(await within(atServer, 10_000, 'server EOF'), 'hello world');
  const atClient = collect(client);
  server.end('reply after FIN');
  assert.equal(await within(atClient, 10_000, 'client EOF'), 'reply after FIN');
  await waitFor(() => client.destroyed && server.destroyed, 5000, 'both ends closed after both FINs');
});

test('backpressure: a reader that does not read makes write() return false; reading drains it', async () => {
  const { client, server } = internalSocketPair('l2');
  server.pause();
  const chunk = Buffer.alloc(16 * 1024, 1);
  let writes = 0;
  while (client.write(chunk) && writes < 1000) writes++;
  assert.ok(writes < 1000, 'write() returned false before 16 MiB were buffered');
  const drained = once(client, 'drain');
  let received = 0;
  server.on('data', (c: Buffer) => { received += c.length; });
  server.resume();
  await within(drained, 10_000, 'drain');
  assert.ok(received >= writes * chunk.length);
  client.destroy();
  server.destroy();
});

test('destroy() closes after the written bytes (EOF); destroy(err) resets the peer', async () => {
  const a = internalSocketPair('l3');
  a.client.allowHalfOpen = true; // keeps its writable side open after the EOF, so the next write meets the closed peer
  const got = collect(a.client);
  a.server.write('last words');
  a.server.destroy();
  assert.equal(await within(got, 10_000, 'last words'), 'last words');
  a.client.write('too late');
  const [err] = await within(once(a.client, 'error'), 10_000, 'EPIPE');
  assert.equal((err as NodeJS.ErrnoException).code, 'EPIPE');

  const b = internalSocketPair('l4');
  const reset = once(b.server, 'error');
  b.client.resetAndDestroy();
  const [rerr] = await within(reset, 10_000, 'ECONNRESET');
  assert.equal((rerr as NodeJS.ErrnoException).code, 'ECONNRESET');
});

test('the registry connects by name, refuses unknown names, and stops after unregister', async () => {
  const reg = new InternalListenerRegistry();
  const refused = reg.connect({ listenerName: 'nobody', endpointId: '' });
  const [e] = await within(once(refused, 'error'), 10_000, 'refused error');
  assert.equal((e as NodeJS.ErrnoException).code, 'ECONNREFUSED');

  const seen: string[] = [];
  const acceptor = (conn: InternalConnection): void => {
    seen.push(JSON.stringify(conn.dynamicMetadata.get('ns')));
    seen.push([...conn.filterState.keys()].sort().join(','));
    conn.socket.end('hi');
  };
  reg.register('svc', acceptor);
  // What the connecting side shared with upstream: ONCE and TRANSITIVE objects go, NONE ones stay.
  const shared = new FilterStateStore();
  shared.set('once', stringObject('a', { sharedWithUpstream: 'ONCE' }));
  shared.set('transitive', stringObject('b', { sharedWithUpstream: 'TRANSITIVE' }));
  shared.set('local', stringObject('c'));
  const c = reg.connect({ listenerName: 'svc', endpointId: 'e1', metadata: new Map([['ns', { local: '10.0.0.1:80' }]]) }, { filterState: shared });
  await within(once(c, 'connect'), 10_000, 'c connect');
  assert.equal(await within(collect(c), 10_000, 'hi'), 'hi');
  assert.deepEqual(seen, ['{"local":"10.0.0.1:80"}', 'once,transitive']);
  c.destroy();
  assert.equal(reg.unregister('svc', acceptor), true);
  const after = reg.connect({ listenerName: 'svc', endpointId: '' });
  const [e2] = await within(once(after, 'error'), 10_000, 'after error');
  assert.equal((e2 as NodeJS.ErrnoException).code, 'ECONNREFUSED');
});
