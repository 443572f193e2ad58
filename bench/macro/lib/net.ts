/** Small network helpers: free ports, one-shot GETs, waiting for a target to answer. */
import http from 'node:http';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface GetResult { status: number; body: string }

/** One GET without keep-alive; rejects on error or after `timeoutMs`. */
export function httpGet(port: number, path = '/', timeoutMs = 1000): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < 65536) body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET :${port}${path} timed out`)));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `GET path` until `accept` says yes; fails after `timeoutMs`, or at once when `child` exits
 * (a target that died at start-up is not waited for).
 */
export async function waitFor(port: number, path: string, accept: (r: GetResult) => boolean, timeoutMs: number,
  child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt++) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`exited (${child.exitCode ?? child.signalCode}) before answering on :${port}${path}`);
    }
    try {
      const r = await httpGet(port, path);
      if (accept(r)) return;
      last = `HTTP ${r.status} ${JSON.stringify(r.body.slice(0, 80))}`;
    } catch (e) { last = (e as Error).message; }
    await sleep(100);
  }
  throw new Error(`:${port}${path} not ready after ${timeoutMs} ms (last: ${last})`);
}

/** Peak resident set size (VmHWM) of a process in MiB, or undefined when it cannot be read. */
export async function peakRssMiB(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch { return undefined; }
}
