/**
 * The recipe's example protocol "echo" (assembly/xprotocol/example/codec.ts): its JS side is this spec and
 * one registration call. Not a built-in: a user of the recipe registers it (tests do) with
 * registerExampleProtocol().
 */
import * as L from '../../wasm/layout.js';
import { registerXProtocol, hasXProtocol } from './registry.js';
import { XStatus, type XProtocolSpec } from './spec.js';

/** Echo statuses: 0 ok, 1 not found, 2 busy, 3 timeout, 4 error. */
const TO_HTTP = [XStatus.OK, XStatus.NOT_FOUND, XStatus.UNAVAILABLE, XStatus.GATEWAY_TIMEOUT, XStatus.INTERNAL];

export const exampleSpec: XProtocolSpec = {
  name: 'echo',
  protoIds: [L.XP_EXAMPLE],
  poolMode: 'ping-pong',
  heartbeat: true,
  goaway: false,
  goawayOptIn: false,
  statusToHttp: (status) => TO_HTTP[status] ?? XStatus.INTERNAL,
  httpToStatus: (code) => {
    const i = TO_HTTP.indexOf(code as (typeof TO_HTTP)[number]);
    return i >= 0 ? i : 4;
  },
};

export function registerExampleProtocol(): void {
  if (!hasXProtocol(exampleSpec.name)) registerXProtocol(exampleSpec.name, exampleSpec);
}
