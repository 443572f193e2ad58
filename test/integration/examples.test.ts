// The bundled examples, run through the real `skiff` CLI exactly as examples/README.md shows them: each
// example's fixed ports are rewritten to ports this test owns (listener and admin: 0; upstreams: the ports of
// the upstreams started here), and every behaviour the README lists is asserted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startSkiff, REPO_ROOT, type RunningSkiff } from '../helpers/skiff.js';
import { httpUpstream, rawUpstream, request, waitFor, type Reply, type Upstream } from './proxy_harness.js';

const EXAMPLE_ADMIN_PORT = 9901;
const EXAMPLE_LISTENER_PORT = 10000;
/** Port 1 in local-replies.yaml stands for "nothing listens here"; it is kept. */
const KEPT_PORTS = new Set([1]);

/**
 * The example's text with every `port_value: N` replaced through `ports` (admin and listener to 0). A port
 * the test does not know fails, so an example that gains an upstream also gains a test for it.
 */
function withPorts(exampleText: string, ports: ReadonlyMap<number, number>): string {
  const all = new Map<number, number>([[EXAMPLE_ADMIN_PORT, 0], [EXAMPLE_LISTENER_PORT, 0], ...ports]);
  return exampleText.replace(/port_value: (\d+)\b/g, (whole, n: string) => {
    const port = Number(n);
    if (KEPT_PORTS.has(port)) return whole;
    const to = all.get(port);
    if (to === undefined) throw new Error(`the example uses port ${port}, which this test does not provide`);
    return `port_value: ${to}`;
  });
}

const readExample = (file: string): string => readFileSync(`${REPO_ROOT}examples/${file}`, 'utf8');

/**
 * The README's HTTP upstream: names its port in x-upstream-port and echoes the path; "slow" paths wait 1 s, or,
 * while `holdSlow` is set, until `releaseHeld()` (so a test can keep a request in flight on a busy machine).
 */
const heldSlow: (() => void)[] = [];
let holdSlow = false;
function releaseHeld(): void { holdSlow = false; for (const answer of heldSlow.splice(0)) answer(); }

async function echoUpstream(): Promise<Upstream> {
  let port = 0;
  const upstream = await httpUpstream((req, res) => {
    const answer = (): void => {
      if (res.destroyed) return;
      res.setHeader('x-upstream-port', String(port));
      res.end(`upstream ${port} ${req.url}\n`);
    };
    if (!req.url!.includes('slow')) answer();
    else if (holdSlow) heldSlow.push(answer);
    else setTimeout(answer, 1000);
  });
  port = upstream.port;
  return upstream;
}

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of cleanups.reverse()) await close();
});

async function startExample(file: string, ports: ReadonlyMap<number, number>): Promise<RunningSkiff> {
  const skiff = await startSkiff({ config: withPorts(readExample(file), ports) });
  cleanups.push(() => skiff.stop());
  return skiff;
}

async function echoUpstreams(count: number): Promise<Upstream[]> {
  const upstreams: Upstream[] = [];
  for (let i = 0; i < count; i++) {
    const u = await echoUpstream();
    cleanups.push(() => u.close());
    upstreams.push(u);
  }
  return upstreams;
}

const answeredBy = (r: Reply): number => Number(r.headers['x-upstream-port']);

test('withPorts rewrites every fixed port and refuses one it does not know', () => {
  const text = 'a: { port_value: 9901 }\nb: { port_value: 10000 }\nc: { port_value: 18080 }\nd: { port_value: 1 }\n';
  assert.equal(withPorts(text, new Map([[18080, 4242]])),
    'a: { port_value: 0 }\nb: { port_value: 0 }\nc: { port_value: 4242 }\nd: { port_value: 1 }\n');
  assert.throws(() => withPorts(text, new Map()), /port 18080/);
});

test('default.yaml: /healthz answered by Skiff, everything else proxied to the local service', async () => {
  const [local] = await echoUpstreams(1);
  const skiff = await startExample('default.yaml', new Map([[8080, local!.port]]));
  const port = skiff.port('ingress');

  const health = await request(port, { path: '/healthz' });
  assert.equal(health.status, 200);
  assert.equal(health.body, 'ok\n');
  assert.equal(local!.seen.length, 0, 'the health check never reaches the upstream');

  const hello = await request(port, { path: '/hello' });
  assert.equal(hello.status, 200);
  assert.equal(hello.body, `upstream ${local!.port} /hello\n`);
});

test('routing.yaml: by host, path and header; round robin; redirect', async () => {
  const [up1, up2] = await echoUpstreams(2);
  const skiff = await startExample('routing.yaml', new Map([[18080, up1!.port], [18081, up2!.port]]));
  const port = skiff.port('routing');
  const api = { host: 'api.example.com' };

  const health = await request(port, { path: '/v1/health', headers: api });
  assert.equal(health.status, 200);
  assert.equal(health.body, 'api ok\n');
  assert.equal(health.headers['x-served-by'], 'skiff', 'route table response_headers_to_add applies to direct responses');

  const user = await request(port, { path: '/v1/users/42', headers: api });
  assert.equal(user.status, 200);
  assert.equal(user.body, `upstream ${up1!.port} /v1/users/42\n`, 'regex route: path forwarded as it is');
  assert.equal(user.headers['x-served-by'], 'skiff');

  const orders = await request(port, { path: '/v1/orders', headers: api });
  assert.equal(orders.body, `upstream ${up1!.port} /orders\n`, 'prefix route: /v1/ rewritten to /');

  assert.equal((await request(port, { path: '/v2/orders', headers: api })).status, 404, 'the api host has no route for /v2/');

  // *.example.com: the web cluster, round robin over both endpoints.
  const web: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await request(port, { path: '/page', headers: { host: 'www.example.com' } });
    assert.equal(r.status, 200);
    web.push(answeredBy(r));
  }
  assert.deepEqual(new Set(web), new Set([up1!.port, up2!.port]));
  assert.equal(web[0], web[2]);
  assert.equal(web[1], web[3]);
  assert.notEqual(web[0], web[1]);

  // Any other host with x-canary: 1: the canary cluster (the second upstream only).
  for (let i = 0; i < 3; i++) {
    const r = await request(port, { path: '/', headers: { 'x-canary': '1' } });
    assert.equal(r.status, 200);
    assert.equal(answeredBy(r), up2!.port);
  }
  // Any other host without it: web, round robin.
  const plain = [await request(port, { path: '/x' }), await request(port, { path: '/x' })].map(answeredBy);
  assert.deepEqual(new Set(plain), new Set([up1!.port, up2!.port]));

  const moved = await request(port, { path: '/old/page?q=1' });
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, `http://127.0.0.1:${port}/new/page?q=1`);
});

test('local-replies.yaml: 404, 503 (no upstream, connect failure after retries, undefined cluster, overflow), 504, 502', async () => {
  const [up] = await echoUpstreams(1);
  const garbage = await rawUpstream((socket) => socket.once('data', () => socket.end('THIS IS NOT HTTP\r\n\r\n')));
  cleanups.push(() => garbage.close());
  const skiff = await startExample('local-replies.yaml', new Map([[18080, up!.port], [18082, garbage.port]]));
  const port = skiff.port('local_replies');
  const counter = async (name: string): Promise<number> => {
    const stats = await (await fetch(`${skiff.adminUrl}/stats?filter=${encodeURIComponent(`^${name}$`)}`)).text();
    const m = /: (\d+)/.exec(stats);
    assert.ok(m, `stat ${name} in ${stats}`);
    return Number(m[1]);
  };

  const ok = await request(port, { path: '/ok/' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body, `upstream ${up!.port} /ok/\n`);

  assert.equal((await request(port, { path: '/nowhere' })).status, 404);

  const empty = await request(port, { path: '/empty/' });
  assert.equal(empty.status, 503);
  assert.equal(empty.body, 'no healthy upstream');

  const refused = await request(port, { path: '/refused/' });
  assert.equal(refused.status, 503);
  assert.equal(refused.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
  assert.equal(await counter('cluster.nothing_listening.upstream_rq_retry'), 2);
  assert.equal(await counter('cluster.nothing_listening.upstream_rq_total'), 3);

  // The upstream answers 200 after 1 s: a 504 is the 250 ms route timeout's answer (told by the reply, not by
  // how long it took).
  const slow = await request(port, { path: '/slow' });
  assert.equal(slow.status, 504);
  assert.equal(slow.body, 'upstream request timeout');

  assert.equal((await request(port, { path: '/unknown/' })).status, 503);

  const bad = await request(port, { path: '/garbage/' });
  assert.equal(bad.status, 502);
  assert.equal(garbage.connections >= 1, true);

  // Circuit breaker (max_requests 1): a second request while the first is held by the upstream overflows.
  const seenBefore = up!.seen.length;
  holdSlow = true; // the first request stays in flight until the second has been answered
  const first = request(port, { path: '/limited/slow' });
  await waitFor(() => up!.seen.length > seenBefore, 'the upstream to hold the first request');
  const second = await request(port, { path: '/limited/slow' });
  releaseHeld();
  assert.equal(second.status, 503);
  assert.equal(second.headers['x-envoy-overloaded'], 'true');
  const held = await first;
  assert.equal(held.status, 200);
  assert.equal(held.headers['x-envoy-overloaded'], undefined);
  const afterwards = await request(port, { path: '/limited/fast' });
  assert.equal(afterwards.status, 200, 'the breaker closes once the first request is done');
  assert.equal(await counter('cluster.one_at_a_time.upstream_rq_pending_overflow'), 1);
});
