// The `ws` package (present in node_modules as a dependency of the dev packages) ships no types and
// @types/ws is not installed: the little of its API the upgrade tests use.
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ClientRequest, Server as HttpServer } from 'node:http';

  export type RawData = Buffer | ArrayBuffer | Buffer[];

  export class WebSocket extends EventEmitter {
    constructor(url: string);
    send(data: string | Buffer | RawData, opts?: { binary?: boolean }): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
    on(event: 'message', cb: (data: RawData, isBinary: boolean) => void): this;
    on(event: 'close', cb: (code: number, reason: Buffer) => void): this;
    on(event: string, cb: (...args: any[]) => void): this;
    once(event: 'open', cb: () => void): this;
    once(event: 'message', cb: (data: RawData, isBinary: boolean) => void): this;
    once(event: 'unexpected-response', cb: (req: ClientRequest, res: IncomingMessage) => void): this;
    once(event: 'error', cb: (err: Error) => void): this;
    once(event: string, cb: (...args: any[]) => void): this;
  }

  export class WebSocketServer extends EventEmitter {
    constructor(opts: { server: HttpServer });
    readonly clients: Set<WebSocket>;
    close(): void;
    on(event: 'connection', cb: (ws: WebSocket) => void): this;
    on(event: string, cb: (...args: any[]) => void): this;
  }
}
