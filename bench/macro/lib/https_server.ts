/**
 * The plain Node HTTPS server of bench/macro/tls.ts (one process, one event loop, as Skiff --concurrency 0):
 * answers every request with 200 "hello\n". argv: port, certificate file, key file. Prints `ready` once
 * listening; exits on SIGTERM.
 */
import https from 'node:https';
import { readFileSync } from 'node:fs';

const [port, certPath, keyPath] = process.argv.slice(2);
const server = https.createServer({ cert: readFileSync(certPath!), key: readFileSync(keyPath!) }, (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '6' });
  res.end('hello\n');
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
