/**
 * What the x-protocol framework knows about a protocol besides its wasm codec: its name, the wasm protocol
 * ids it decodes, how its connections are pooled, and how its wire statuses map to the HTTP-like codes the
 * shared retry, stats and local-reply logic speaks.
 */

/** ping-pong: one request in flight per upstream connection; multiplex: many, told apart by request id. */
export type PoolMode = 'ping-pong' | 'multiplex';

/** HTTP-like codes every protocol maps onto (the same numbers HTTP's retry_on and stats use). */
export const XStatus = {
  OK: 200,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
} as const;

export interface XProtocolSpec {
  /** Registry name, as the xprotocol filter config spells it ("bolt", "dubbo", ...). */
  readonly name: string;
  /** Wasm protocol ids (XP_*) this protocol's frames carry; the first one is used for frames Skiff originates. */
  readonly protoIds: readonly number[];
  readonly poolMode: PoolMode;
  /** Skiff answers heartbeats itself and may send them upstream as keepalive. */
  readonly heartbeat: boolean;
  /** xp_encode_goaway writes a frame for this protocol (graceful drain). */
  readonly goaway: boolean;
  /**
   * The goaway frame is an extension that not every client of the protocol understands (Bolt's is MOSN's
   * command code 100): send it only when the filter config asks for it.
   */
  readonly goawayOptIn: boolean;
  /** Wire status of a response -> HTTP-like code. */
  statusToHttp(status: number): number;
  /** HTTP-like code -> the wire status of an error reply Skiff writes. */
  httpToStatus(code: number): number;
}
