/**
 * Child process: @fastify/http-proxy on 127.0.0.1:PORT in front of 127.0.0.1:UPSTREAM, the Node
 * baseline Skiff is compared with. Prints `ready` once listening; SIGTERM closes it.
 * Usage: fastify_proxy.js PORT UPSTREAM_PORT
 */
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const app = Fastify({ logger: false });
await app.register(proxy, { upstream: `http://127.0.0.1:${upstreamPort}` });
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write('ready\n');
process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)); });
