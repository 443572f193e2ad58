/**
 * The control plane's own /healthz (HTTP/1.1, plain node:http: it is not on Skiff's data path).
 * 200 once a snapshot is loaded, 503 before. The body (JSON) says which version is served, how many resources
 * of each type, how many streams are connected, and the problems of the latest load: when a file is bad, the
 * last good snapshot keeps being served and `ready_detail` names the file and field.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthReport {
  ready: boolean;
  body: Record<string, unknown>;
}

export class HealthServer {
  private server: Server | undefined;

  constructor(private readonly report: () => HealthReport) {}

  async listen(port: number, address: string): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
      if (path !== '/healthz' && path !== '/ready') { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'); return; }
      const { ready, body } = this.report();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(body, null, 2)}\n`);
    });
    server.headersTimeout = 5000;
    server.requestTimeout = 10000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => { server.off('error', reject); resolve(); });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
