import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PATIENCE_MS, waitFor as sharedWaitFor } from '../../helpers/wait.js';
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
  // A deadline far beyond the test's patience: resolving within the patience means it did not wait for it.
  const started = Date.now();
  await lm.drain(60_000);
  assert.ok(Date.now() - started < PATIENCE_MS);
});

test('invalid listeners are rejected by field path before anything binds', () => {
  assert.throws(() => manager([listener('x', { address: {} })]), { message: /listeners\[0\]\.address\.socket_address/ });
  assert.throws(() => manager([listener('x', { filter_chains: [] })]), { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /filter_chains/ });
  assert.throws(() => manager([listener('x', { filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy' }] }] })]), { message: /tcp_proxy/ });
  assert.throws(() => manager([listener('ok'), listener('x', {}, { stat_prefix: '' })]), { message: /listeners\[1\].*stat_prefix/ });
  assert.throws(() => manager([listener('x', {}, { rds: { route_config_name: 'r', config_source: { ads: {} } } })]), { code: 'SKIFF_CONFIG_INVALID', message: /exclusive/ });
  assert.throws(() => manager([listener('x', {}, { route_config: undefined, rds: { route_config_name: 'r', config_source: { path: '/x' } } })]),
    { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /rds\.config_source/ });
  assert.throws(() => manager([listener('x', {}, { route_config: undefined, rds: { config_source: { ads: {} } } })]), { message: /rds\.route_config_name/ });
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

// ---- listeners at run time (LDS / RDS) ----

function directRoutes(body: string): Record<string, unknown> {
  return { name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } }] }] };
}

function rdsListener(name: string, routeName: string, port = 0): Listener {
  return listener(name, { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
    { route_config: undefined, rds: { route_config_name: routeName, config_source: { ads: {} } } });
}

const meta = { version: '1', lastUpdated: new Date(), json: {} };

const waitFor = (cond: () => boolean, what: string, ms = PATIENCE_MS): Promise<void> => sharedWaitFor(cond, ms, what);

/** Sends one keep-alive request on an open socket and returns the body of the response. */
async function keepAliveGet(s: net.Socket): Promise<string> {
  let data = '';
  const onData = (c: Buffer): void => { data += c.toString('latin1'); };
  s.on('data', onData);
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const complete = (): boolean => {
    const end = data.indexOf('\r\n\r\n');
    const m = /content-length: (\d+)/i.exec(data.slice(0, end));
    return end >= 0 && m !== null && data.length >= end + 4 + Number(m[1]);
  };
  await waitFor(complete, 'a response');
  s.off('data', onData);
  return data.slice(data.indexOf('\r\n\r\n') + 4);
}

test('an RDS listener warms until its route table arrives, then a table swap is seen by the next request', async (t) => {
  const { lm, stats } = manager([]);
  t.after(() => lm.close());
  await lm.start();
  const wasm = mainInstance();
  const { compileRouteTable } = await import('../../../src/router/index.js');
  assert.equal(lm.addOrUpdateListener(lm.buildSpec(rdsListener('dyn', 'r'), 'Listener "dyn"'), meta), 'added');
  assert.deepEqual(lm.addresses(), []);
  assert.equal(stats.gauge('listener_manager.total_listeners_warming').value, 1);
  assert.deepEqual([...lm.rdsNames()], ['r']);
  lm.setRouteTable('r', compileRouteTable(directRoutes('first') as never, wasm));
  await waitFor(() => lm.addresses().length === 1, 'the listener to bind');
  assert.equal(stats.gauge('listener_manager.total_listeners_active').value, 1);
  const port = lm.addresses()[0]!.port;
  const s = net.connect(port, '127.0.0.1');
  t.after(() => s.destroy());
  await once(s, 'connect');
  assert.equal(await keepAliveGet(s), 'first');
  lm.setRouteTable('r', compileRouteTable(directRoutes('second') as never, wasm));
  assert.equal(await keepAliveGet(s), 'second');
});

test('a changed listener on the same address keeps the socket: new connections get the new config, open ones keep theirs', async (t) => {
  const { lm, stats } = manager([]);
  t.after(() => lm.close());
  await lm.start();
  const wasm = mainInstance();
  const spec = (body: string, port: number) => lm.buildSpec(listener('dyn', { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
    { route_config: directRoutes(body) }), 'Listener "dyn"');
  lm.addOrUpdateListener(spec('old', 0), meta);
  await waitFor(() => lm.addresses().length === 1, 'the listener to bind');
  const port = lm.addresses()[0]!.port;
  const before = net.connect(port, '127.0.0.1');
  t.after(() => before.destroy());
  await once(before, 'connect');
  assert.equal(await keepAliveGet(before), 'old');
  assert.equal(lm.addOrUpdateListener(spec('old', port), meta), 'updated', 'a different requested port is a change');
  assert.equal(lm.addOrUpdateListener(spec('new', port), meta), 'updated');
  await waitFor(() => stats.counter('listener_manager.listener_modified').value === 2, 'modified');
  assert.equal(lm.addresses()[0]!.port, port, 'the bound socket is kept');
  assert.match(await get(port), /new$/);
  // The open connection was idle when the update came: drained (closed), as Envoy does.
  await waitFor(() => before.destroyed || before.readableEnded, 'the old idle connection to close');
  assert.equal(lm.addOrUpdateListener(spec('new', port), meta), 'unchanged');
});

test('a removed listener stops accepting', async (t) => {
  const { lm, stats } = manager([]);
  t.after(() => lm.close());
  await lm.start();
  lm.addOrUpdateListener(lm.buildSpec(listener('gone'), 'Listener "gone"'), meta);
  await waitFor(() => lm.addresses().length === 1, 'the listener to bind');
  const port = lm.addresses()[0]!.port;
  assert.match(await get(port), /from gone$/);
  assert.equal(lm.removeListener('gone'), true);
  assert.equal(lm.removeListener('gone'), false);
  assert.equal(stats.counter('listener_manager.listener_removed').value, 1);
  const s = net.connect(port, '127.0.0.1');
  const [err] = await once(s, 'error');
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
});

test('a changed listener on another address binds it, then the old address stops accepting', async (t) => {
  const { lm } = manager([]);
  t.after(() => lm.close());
  await lm.start();
  const wasm = mainInstance();
  lm.addOrUpdateListener(lm.buildSpec(listener('moving'), 'Listener "moving"'), meta);
  await waitFor(() => lm.addresses().length === 1, 'the listener to bind');
  const oldPort = lm.addresses()[0]!.port;
  const holder = net.createServer().listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const newPort = (holder.address() as net.AddressInfo).port;
  await new Promise((r) => holder.close(r));
  const moved = listener('moving', { address: { socket_address: { address: '127.0.0.1', port_value: newPort } } });
  assert.equal(lm.addOrUpdateListener(lm.buildSpec(moved, 'Listener "moving"'), meta), 'updated');
  await waitFor(() => lm.addresses()[0]?.port === newPort, 'the new address');
  assert.match(await get(newPort), /from moving$/);
  const s = net.connect(oldPort, '127.0.0.1');
  const [err] = await once(s, 'error');
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.deepEqual(lm.dynamicListeners().map((l) => [l.name, l.state]), [['moving', 'active']]);
});

test('a listener that cannot bind is counted and the one it replaces keeps serving', async (t) => {
  const { lm, stats } = manager([]);
  t.after(() => lm.close());
  await lm.start();
  const wasm = mainInstance();
  lm.addOrUpdateListener(lm.buildSpec(listener('l'), 'Listener "l"'), meta);
  await waitFor(() => lm.addresses().length === 1, 'the listener to bind');
  const port = lm.addresses()[0]!.port;
  const holder = net.createServer().listen(0, '127.0.0.1');
  t.after(() => holder.close());
  await once(holder, 'listening');
  const taken = (holder.address() as net.AddressInfo).port;
  lm.addOrUpdateListener(lm.buildSpec(listener('l', { address: { socket_address: { address: '127.0.0.1', port_value: taken } } }), 'Listener "l"'), meta);
  await waitFor(() => stats.counter('listener_manager.listener_create_failure').value === 1, 'the bind failure');
  assert.equal(lm.addresses()[0]!.port, port);
  assert.match(await get(port), /from l$/);
});

test('a listener removed while it is still binding never serves', async (t) => {
  const { lm, stats } = manager([]);
  t.after(() => lm.close());
  await lm.start();
  lm.addOrUpdateListener(lm.buildSpec(listener('brief'), 'Listener "brief"'), meta);
  assert.equal(lm.removeListener('brief'), true); // the bind is asynchronous: it is still under way here
  assert.equal(await lm.whenWarm(PATIENCE_MS), true);
  assert.deepEqual(lm.addresses(), []);
  assert.equal(stats.gauge('listener_manager.total_listeners_active').value, 0);
});

test('a request in flight on a replaced listener completes, with connection: close', async (t) => {
  const http = await import('node:http');
  const { createClusterManager } = await import('../../../src/upstream/cluster_manager.js');
  const { createClientConnection } = await import('../../../src/stream/http1/client.js');
  // The upstream answers when the test says so: the request is surely in flight when the listener is replaced.
  let answer: (() => void) | undefined;
  const slow = http.createServer((_req, res) => { answer = () => res.end('slow done'); });
  slow.listen(0, '127.0.0.1');
  await once(slow, 'listening');
  t.after(() => { slow.closeAllConnections(); slow.close(); });
  const wasm = mainInstance();
  const stats = new StatsStore();
  const clusters = createClusterManager([{
    name: 'slow', type: 'STATIC', connect_timeout: { seconds: 1 },
    load_assignment: { cluster_name: 'slow', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: (slow.address() as net.AddressInfo).port } } } }] }] },
  }], { stats, connect: (s) => createClientConnection(wasm, s) });
  const lm = new ListenerManager([], { wasm, stats, clusters, resolverFor: (tb) => new InlineRouteResolver(tb), drainTimeMs: 5000 });
  t.after(() => { lm.close(); clusters.close(); });
  await lm.start();
  const toSlow = listener('l', {}, { route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'slow' } }] }] } });
  lm.addOrUpdateListener(lm.buildSpec(toSlow, 'Listener "l"'), meta);
  await waitFor(() => lm.addresses().length === 1, 'the listener to bind');
  const port = lm.addresses()[0]!.port;
  const s = net.connect(port, '127.0.0.1');
  t.after(() => s.destroy());
  await once(s, 'connect');
  let data = '';
  s.on('data', (c: Buffer) => { data += c.toString('latin1'); });
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(() => answer !== undefined, 'the request to reach the upstream');
  lm.addOrUpdateListener(lm.buildSpec(listener('l'), 'Listener "l"'), meta);
  await waitFor(() => stats.gauge('listener_manager.total_listeners_draining').value === 1, 'the old listener to drain');
  answer!();
  await once(s, 'close');
  assert.match(data, /^HTTP\/1\.1 200/);
  assert.match(data, /connection: close/i);
  assert.match(data, /slow done$/);
  assert.match(await get(port), /from l$/, 'new connections get the new config');
});

test('a listener whose chains follow two RDS names warms until both tables are there; each chain gets its own', async (t) => {
  const { lm } = manager([]);
  t.after(() => lm.close());
  await lm.start();
  const wasm = mainInstance();
  const { compileRouteTable } = await import('../../../src/router/index.js');
  const base = rdsListener('two', 'r1');
  const chain0 = base.filter_chains![0]!;
  const hcm1 = chain0.filters![0]!;
  const hcm2 = { ...hcm1, typed_config: { ...hcm1.typed_config!, rds: { route_config_name: 'r2', config_source: { ads: {} } } } };
  const l = {
    ...base,
    filter_chains: [
      { filter_chain_match: { prefix_ranges: [{ address_prefix: '127.0.0.2', prefix_len: { value: 32 } }] }, filters: [hcm2] },
      { filters: [hcm1] },
    ],
    address: { socket_address: { address: '0.0.0.0', port_value: 0 } },
  } as Listener;
  lm.addOrUpdateListener(lm.buildSpec(l, 'Listener "two"'), meta);
  assert.deepEqual([...lm.rdsNames()].sort(), ['r1', 'r2']);
  lm.setRouteTable('r1', compileRouteTable(directRoutes('one') as never, wasm));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(lm.addresses(), [], 'still warming: r2 is missing');
  lm.setRouteTable('r2', compileRouteTable(directRoutes('two') as never, wasm));
  await waitFor(() => lm.addresses().length === 1, 'the listener to bind');
  const port = lm.addresses()[0]!.port;
  for (const [host, body] of [['127.0.0.1', 'one'], ['127.0.0.2', 'two']] as const) {
    const s = net.connect(port, host);
    t.after(() => s.destroy());
    await once(s, 'connect');
    assert.equal(await keepAliveGet(s), body);
  }
});
