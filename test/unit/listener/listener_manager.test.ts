import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { StatsStore } from '../../../src/common/stats.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { ListenerManager } from '../../../src/listener/listener_manager.js';
import { InlineRouteResolver } from '../../../src/router/index.js';
import type { Listener } from '../../../src/types/envoy.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

function listener(name: string, extra: Record<string, unknown> = {}, filterExtra: Record<string, unknown> = {}): Listener {
  return {
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: { '@type': HCM, stat_prefix: name, route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [
        { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: `from ${name}` } } },
      ] }] }, ...filterExtra },
    }] }],
    ...extra,
  } as Listener;
}

function manager(listeners: Listener[]): { lm: ListenerManager; stats: StatsStore } {
  const stats = new StatsStore();
  const clusters = { get: () => undefined, all: () => [], close: () => {} };
  const lm = new ListenerManager(listeners, { wasm: mainInstance(), stats, clusters, resolverFor: (t) => new InlineRouteResolver(t) });
  return { lm, stats };
}

async function get(port: number): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  let data = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  await once(s, 'close');
  return data;
}

test('binds every listener on its own port and reports the bound ports', async (t) => {
  const { lm, stats } = manager([listener('one'), listener('two')]);
  t.after(() => lm.close());
  await lm.start();
  const addrs = lm.addresses();
  assert.deepEqual(addrs.map((a) => a.name), ['one', 'two']);
  assert.ok(addrs.every((a) => a.port > 0 && a.address === '127.0.0.1'));
  assert.notEqual(addrs[0]!.port, addrs[1]!.port);
  assert.match(await get(addrs[0]!.port), /from one$/);
  assert.match(await get(addrs[1]!.port), /from two$/);
  assert.equal(stats.counter(`listener.127.0.0.1_${addrs[0]!.port}.downstream_cx_total`).value, 1);
  assert.equal(stats.counter('http.two.downstream_rq_total').value, 1);
});

test('stopAccepting refuses new connections', async (t) => {
  const { lm } = manager([listener('one')]);
  t.after(() => lm.close());
  await lm.start();
  const port = lm.addresses()[0]!.port;
  lm.stopAccepting();
  const s = net.connect(port, '127.0.0.1');
  const [err] = await once(s, 'error');
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
});

test('drain with no connections resolves at once', async (t) => {
  const { lm } = manager([listener('one')]);
  t.after(() => lm.close());
  await lm.start();
  const started = Date.now();
  await lm.drain(5000);
  assert.ok(Date.now() - started < 1000);
});

test('invalid listeners are rejected by field path before anything binds', () => {
  assert.throws(() => manager([listener('x', { address: {} })]), { message: /listeners\[0\]\.address\.socket_address/ });
  assert.throws(() => manager([listener('x', { filter_chains: [] })]), { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /filter_chains/ });
  assert.throws(() => manager([listener('x', { filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy' }] }] })]), { message: /tcp_proxy/ });
  assert.throws(() => manager([listener('ok'), listener('x', {}, { stat_prefix: '' })]), { message: /listeners\[1\].*stat_prefix/ });
  assert.throws(() => manager([listener('x', {}, { rds: {} })]), { code: 'SKIFF_CONFIG_UNSUPPORTED' });
  const badRegex = { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { safe_regex: { regex: '(' } }, route: { cluster: 'c' } }] }] };
  assert.throws(() => manager([listener('x', {}, { route_config: badRegex })]),
    { code: 'SKIFF_CONFIG_INVALID', message: /^static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.route_config\.virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex/ });
});

test('a port already in use fails start', async (t) => {
  const holder = net.createServer().listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  const port = (holder.address() as net.AddressInfo).port;
  const l = listener('busy');
  l.address!.socket_address!.port_value = port;
  const { lm } = manager([l]);
  t.after(() => lm.close());
  await assert.rejects(lm.start(), { code: 'EADDRINUSE' });
});
