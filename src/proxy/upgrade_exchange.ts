/**
 * One upgrade or terminated CONNECT, from the routed request to the end of its tunnel (the decision is
 * src/proxy/upgrade.ts; the byte relay src/proxy/tunnel.ts):
 *
 *   terminate-connect: raw TCP connection to a host of the cluster (src/upstream/raw_connect.ts, the
 *     connector tcp_proxy uses) -> `200` downstream once connected (503 local reply on failure) -> tunnel.
 *   upgrade (HTTP/1.1 downstream): a fresh HTTP/1.1 upstream connection (never pooled: it becomes a tunnel)
 *     carrying the request with its Upgrade and Connection headers -> a `101` answer is written downstream and
 *     both connections leave HTTP -> tunnel. Any other answer is relayed as a normal response and both
 *     connections close afterwards.
 *
 * Downstream, the tunnel runs over the HTTP/1.1 connection's socket (handed over by its codec) or inside the
 * HTTP/2 stream (DATA frames, END_STREAM as half-close). Main thread only.
 */
import type { Socket } from 'node:net';
import type { SkiffError } from '../common/errors.js';
import type { DownstreamStream, HeaderList, ResponseHead, UpstreamRequest, ClientConnection } from '../types/http.js';
import type { RouteEntry } from '../types/router.js';
import type { Cluster, Host } from '../types/upstream.js';
import type { WasmInstance } from '../wasm/module.js';
import { connectRaw } from '../upstream/raw_connect.js';
import { createClientConnection } from '../stream/http1/client.js';
import { HeaderEdits, applyHeaderMutation } from './header_mutation.js';
import { httpDate, REPLY } from './local_reply.js';
import type { UpstreamHeadPlan } from './request_headers.js';
import type { ConnectionManagerStats } from './stats.js';
import { socketSide, streamSide, Tunnel, type TunnelSide } from './tunnel.js';

const EMPTY_HEADERS: HeaderList = {
  size: 0, name: () => '', value: () => '', get: () => undefined, getAll: () => [], has: () => false,
};

/** What the exchange needs from its request (ActiveRequest): replies, and the end of the request. */
export interface UpgradeOwner {
  readonly stream: DownstreamStream;
  readonly route: RouteEntry;
  readonly cluster: Cluster;
  readonly stats: ConnectionManagerStats;
  readonly serverName: string;
  /** stream_idle_timeout, also the tunnel's idle timeout (0 = none). */
  readonly idleTimeoutMs: number;
  readonly wasm: WasmInstance | undefined;
  /** A local reply before any response byte went downstream; it finishes the request. */
  localReply(status: number, body: string, extraHeaders?: readonly (readonly [string, string])[]): void;
  /** A response head is about to go downstream (stats, no more local replies, the request's idle timer stops). */
  responseStarted(status: number): void;
  /** Activity before the tunnel starts (re-arms the request's idle timer). */
  touch(): void;
  /** The exchange is over: `completed` false when it ended in a reset. */
  finish(completed: boolean): void;
  log?(message: string): void;
}

export class UpgradeExchange {
  private cancelConnect: (() => void) | undefined;
  private upstreamSocket: Socket | undefined;
  private conn: ClientConnection | undefined;
  private upstreamRequest: UpstreamRequest | undefined;
  private tunnel: Tunnel | undefined;
  private over = false;
  /** A non-101 answer's head went downstream: a later failure can only reset. */
  private responseHeadSent = false;

  constructor(private readonly o: UpgradeOwner) {}

  /** CONNECT terminated here: the cluster gets the payload as raw TCP. */
  terminateConnect(host: Host): void {
    this.connect(host, (socket) => this.connectEstablished(socket));
  }

  /** An HTTP/1.1 upgrade (`value`: the Upgrade header sent upstream) forwarded on a fresh connection. */
  forwardUpgrade(host: Host, value: string, plan: UpstreamHeadPlan): void {
    const wasm = this.o.wasm;
    if (wasm === undefined) { this.end(() => this.o.localReply(503, REPLY.connectFailure)); return; }
    this.connect(host, (socket) => {
      const conn = createClientConnection(wasm, socket);
      this.conn = conn;
      const add: (readonly [string, string])[] = [...(plan.add ?? []), ['connection', 'upgrade'], ['upgrade', value]];
      const req = conn.request(this.o.stream.head, { path: plan.path, remove: plan.remove, add, bodyKind: 'none' }, {
        onHead: (head) => this.guard(() => this.onUpstreamHead(head)),
        onSwitchingProtocols: (head, upSocket, received) => this.guard(() => this.onSwitched(head, upSocket, received)),
        onData: (chunk) => this.guard(() => this.onUpstreamData(chunk)),
        onEnd: () => this.guard(() => this.onUpstreamEnd()),
        onError: (err) => this.guard(() => this.onUpstreamError(err)),
      });
      this.upstreamRequest = req;
      req.end();
    });
  }

  /** The request ended elsewhere (downstream reset, timeout, drain): everything upstream goes. */
  abort(): void {
    if (this.over) return;
    this.over = true;
    this.cancelConnect?.();
    if (this.tunnel !== undefined) this.tunnel.abort();
    this.upstreamRequest?.abort();
    this.conn?.close();
    this.upstreamSocket?.destroy();
  }

  // ---- connecting ----

  private connect(host: Host, onSocket: (socket: Socket) => void): void {
    const cluster = this.o.cluster;
    cluster.stats.upstream_rq_total.inc();
    this.cancelConnect = connectRaw(cluster, host, (err, socket) => this.guard(() => {
      this.cancelConnect = undefined;
      if (this.over) { socket?.destroy(); return; }
      if (err !== null || socket === undefined) { this.connectFailed(err); return; }
      this.o.touch();
      // Until the tunnel takes it, an error is followed by 'close': this listener only keeps it from the process.
      socket.on('error', () => {});
      socket.once('close', () => { if (this.tunnel === undefined && this.conn === undefined) this.guard(() => this.upstreamGone()); });
      this.upstreamSocket = socket;
      onSocket(socket);
    }));
  }

  private connectFailed(err: SkiffError | null): void {
    const overflow = err?.code === 'SKIFF_UPSTREAM_OVERFLOW';
    this.end(() => {
      if (overflow) this.o.localReply(503, REPLY.overflow, [['x-envoy-overloaded', 'true']]);
      else this.o.localReply(503, REPLY.connectFailure);
    });
  }

  /** The upstream connection closed before the tunnel started. */
  private upstreamGone(): void {
    this.end(() => this.o.localReply(503, REPLY.connectionTermination));
  }

  // ---- CONNECT ----

  private connectEstablished(socket: Socket): void {
    const stream = this.o.stream;
    const edits = new HeaderEdits(EMPTY_HEADERS);
    applyHeaderMutation(edits, this.o.route.responseHeaders);
    const headers: [string, string][] = [['date', httpDate()], ['server', this.o.serverName], ...edits.add];
    this.o.responseStarted(200);
    if (stream.detachSocket !== undefined) {
      stream.writeLocalHead(200, headers, { bodyKind: 'none' });
      const taken = stream.detachSocket();
      if (taken === undefined) { socket.destroy(); this.end(() => this.o.finish(false)); return; }
      this.startTunnel(socketSide(taken.socket, 'downstream', taken.received), socket, undefined);
    } else {
      stream.writeLocalHead(200, headers, { bodyKind: 'chunked', tunnel: true });
      this.startTunnel(streamSide(stream), socket, undefined);
    }
  }

  // ---- HTTP/1.1 upgrade ----

  private onSwitched(head: ResponseHead, upSocket: Socket, received: Buffer): void {
    if (this.over) { upSocket.destroy(); return; }
    const stream = this.o.stream;
    const edits = new HeaderEdits(head.headers);
    applyHeaderMutation(edits, this.o.route.responseHeaders);
    edits.set('server', this.o.serverName);
    const upgrade = head.headers.get('upgrade') ?? stream.head.headers.get('upgrade') ?? '';
    const add: [string, string][] = [...edits.add, ['connection', 'upgrade'], ['upgrade', upgrade]];
    this.o.responseStarted(101);
    stream.writeHead(head, { remove: edits.remove, add, bodyKind: 'none' });
    const taken = stream.detachSocket?.();
    this.conn = undefined;
    this.upstreamRequest = undefined;
    if (taken === undefined) { upSocket.destroy(); this.end(() => this.o.finish(false)); return; }
    this.startTunnel(socketSide(taken.socket, 'downstream', taken.received), upSocket, received);
  }

  /** Any answer but 101: relayed as it is, then both connections close. */
  private onUpstreamHead(head: ResponseHead): void {
    if (this.over) return;
    this.o.cluster.stats.responseCode(head.status);
    const edits = new HeaderEdits(head.headers);
    applyHeaderMutation(edits, this.o.route.responseHeaders);
    edits.set('server', this.o.serverName);
    const bodyKind = head.bodyKind === 'close' ? 'chunked' : head.bodyKind;
    this.o.responseStarted(head.status);
    this.responseHeadSent = true;
    this.o.stream.writeHead(head, {
      remove: edits.remove, add: edits.add, bodyKind, contentLength: bodyKind === 'length' ? head.contentLength : undefined, close: true,
    });
  }

  private onUpstreamData(chunk: Uint8Array): void {
    if (this.over) return;
    const req = this.upstreamRequest;
    if (!this.o.stream.writeBody(chunk) && req !== undefined) {
      req.pauseResponse();
      this.o.stream.onDrain(() => { if (!this.over) req.resumeResponse(); });
    }
  }

  private onUpstreamEnd(): void {
    if (this.over) return;
    this.o.stream.end();
    this.conn?.close();
    this.end(() => this.o.finish(true));
  }

  private onUpstreamError(err: SkiffError): void {
    if (this.over) return;
    this.conn?.close();
    const started = this.responseHeadSent;
    this.end(() => {
      if (started) { this.o.stream.reset(); this.o.finish(false); }
      else this.o.localReply(err.code === 'SKIFF_UPSTREAM_PROTOCOL_ERROR' ? 502 : 503,
        err.code === 'SKIFF_UPSTREAM_PROTOCOL_ERROR' ? REPLY.protocolError : REPLY.connectionTermination);
    });
  }

  // ---- tunnel ----

  private startTunnel(down: TunnelSide, upSocket: Socket, received: Buffer | undefined): void {
    const stats = this.o.stats;
    const scope = this.o.cluster.stats.scope;
    const tx = scope.counter('upstream_cx_tx_bytes_total');
    const rx = scope.counter('upstream_cx_rx_bytes_total');
    stats.downstream_cx_upgrades_total.inc();
    stats.downstream_cx_upgrades_active.inc();
    this.upstreamSocket = upSocket;
    const tunnel = new Tunnel(down, socketSide(upSocket, 'upstream', received), this.o.idleTimeoutMs,
      { onUpstreamBytes: (n) => tx.inc(n), onDownstreamBytes: (n) => rx.inc(n) },
      (clean) => {
        stats.downstream_cx_upgrades_active.dec();
        if (!clean) stats.downstream_rq_tx_reset.inc();
        this.end(() => this.o.finish(clean));
      });
    this.tunnel = tunnel;
    tunnel.start();
  }

  /** Marks the exchange over and runs its last step (a reply or the request's finish) once. */
  private end(last: () => void): void {
    if (this.over) return;
    this.over = true;
    last();
  }

  /** A throw here is a bug contained to this exchange: both sides go. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const wasOver = this.over;
      this.abort();
      if (!wasOver) {
        try { this.o.stream.reset(); } finally { this.o.finish(false); }
      }
      this.o.log?.(`upgrade failed internally: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }
}
