// One GET on its own connection (no keep-alive agent), so a test controls exactly which connection a request uses.
import http from 'node:http';

export interface GetResult { status: number; body: string }

/** `GET http://127.0.0.1:PORT/path` on a fresh connection; the body read as latin1. */
export function getOnFreshConnection(port: number, path: string): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}
