/**
 * Access-log sinks. Lines are queued and written at most once per event-loop turn (setImmediate) or as soon
 * as BATCH_LINES are waiting, with one asynchronous write in flight per sink: never a synchronous write per
 * connection. One sink per path is shared by every logger in the process. SIGUSR1 reopens the files (as
 * Envoy's `--` log rotation hook: rotate, then signal). At exit, what is still queued is written synchronously.
 */
import * as fs from 'node:fs';

/** Lines queued before a write is started without waiting for the end of the turn. */
export const BATCH_LINES = 256;

export interface AccessLogSink {
  /** Queues one formatted line (the format supplies its newline). */
  write(line: string): void;
}

interface Target {
  /** Starts an asynchronous write of `data`; `done` once it is out (or failed). */
  write(data: string, done: () => void): void;
  /** Writes synchronously (process exit only). */
  writeSync(data: string): void;
  reopen(): void;
}

class BatchingSink implements AccessLogSink {
  private queue: string[] = [];
  private scheduled = false;
  private writing = false;

  constructor(readonly target: Target) {}

  write(line: string): void {
    this.queue.push(line);
    if (this.queue.length >= BATCH_LINES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => { this.scheduled = false; this.flush(); });
    }
  }

  private flush(): void {
    if (this.writing || this.queue.length === 0) return;
    const data = this.queue.join('');
    this.queue = [];
    this.writing = true;
    this.target.write(data, () => {
      this.writing = false;
      // Lines queued while the write was in flight go out in the next one.
      if (this.queue.length > 0) this.flush();
    });
  }

  flushSync(): void {
    if (this.queue.length === 0) return;
    const data = this.queue.join('');
    this.queue = [];
    try { this.target.writeSync(data); } catch { /* exiting: nowhere left to report it */ }
  }
}

class FileTarget implements Target {
  private fd: number;
  constructor(private readonly path: string) { this.fd = fs.openSync(path, 'a'); }
  write(data: string, done: () => void): void {
    fs.write(this.fd, data, null, 'utf8', (err) => {
      if (err) process.emitWarning(`access log ${this.path}: ${err.message}`);
      done();
    });
  }
  writeSync(data: string): void { fs.writeSync(this.fd, data); }
  reopen(): void {
    // A write in flight keeps the old fd's file; the next one goes to the file now at `path`.
    try {
      const fd = fs.openSync(this.path, 'a');
      const old = this.fd;
      this.fd = fd;
      fs.close(old, () => { /* closed */ });
    } catch (e) {
      process.emitWarning(`access log ${this.path}: reopen failed: ${(e as Error).message}`);
    }
  }
}

class StreamTarget implements Target {
  constructor(private readonly stream: NodeJS.WriteStream, private readonly fd: number) {}
  write(data: string, done: () => void): void { this.stream.write(data, () => done()); }
  writeSync(data: string): void { fs.writeSync(this.fd, data); }
  reopen(): void { /* a standard stream is not rotated */ }
}

const sinks = new Map<string, BatchingSink>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('SIGUSR1', reopenAccessLogs);
  process.on('exit', () => { for (const s of sinks.values()) s.flushSync(); });
}

/** The sink for `path` ('/dev/stdout' and '/dev/stderr' are the process's streams); opened on first use. */
export function accessLogSink(path: string): AccessLogSink {
  let sink = sinks.get(path);
  if (sink === undefined) {
    const target = path === '/dev/stdout' ? new StreamTarget(process.stdout, 1)
      : path === '/dev/stderr' ? new StreamTarget(process.stderr, 2)
        : new FileTarget(path);
    sink = new BatchingSink(target);
    sinks.set(path, sink);
    installHooks();
  }
  return sink;
}

/** Reopens every file sink (after log rotation); what SIGUSR1 does. */
export function reopenAccessLogs(): void {
  for (const s of sinks.values()) s.target.reopen();
}
