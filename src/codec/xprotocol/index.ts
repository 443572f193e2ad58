/**
 * The x-protocol codec contract as the framework (src/stream/xprotocol, xproxy) calls it.
 *
 * Per connection: copy socket bytes once into a slab `buf`; then loop
 *   const n = decodeFrame(wasm, proto, buf, len, rec, maxFrameBytes);
 *   n > 0: frame [buf, buf+n) decoded; new XFrameView(wasm, rec) reads kind/id/service/method/headers;
 *          forward the same bytes after setRequestId(wasm, proto, buf, rec, upstreamId); continue at buf+n.
 *   n === XP_NEED_MORE: wait (neededBytes(wasm, rec) tells the total once the fixed header is in).
 *   n < -1: new XProtocolError(n, errorOffset(wasm, rec)): reply or close.
 * Heartbeats: kind 'heartbeat' -> encodeHeartbeatReply (when flags & XFF_TWOWAY); keepalive -> encodeHeartbeat.
 * Requests: kind 'request' expects a response, 'oneway' none. Local replies:
 * encodeErrorReplyText (or encodeErrorReply with the message already in wasm memory) with
 * spec.httpToStatus(code). Drain: encodeGoaway when spec.goaway (and the config opts in when spec.goawayOptIn).
 * Protocol ids: detectProtocol (auto) or getXProtocol(name).protoIds; XF_PROTO says Bolt v1 vs v2.
 */
import { registerBuiltinXProtocols } from './builtins.js';

export * from './spec.js';
export * from './registry.js';
export * from './codec.js';
export { XFrameView, type XFrameKind, type XArgument } from './frame.js';
export { XProtocolError, xprotoErrorCode } from './errors.js';
export { boltSpec } from './bolt.js';
export { dubboSpec } from './dubbo.js';
export { registerBuiltinXProtocols };
export {
  XP_BOLT_V1, XP_BOLT_V2, XP_DUBBO, XP_EXAMPLE, XP_NO, XP_MATCH, XP_NEED_MORE, XF_RECORD_SIZE,
  XK_REQUEST, XK_RESPONSE, XK_ONEWAY, XK_HEARTBEAT, XK_HEARTBEAT_REPLY, XK_GOAWAY, XK_EVENT,
  XFF_CRC, XFF_PEEKED, XFF_TWOWAY, XFF_HEADERS_TRUNCATED,
} from '../../wasm/layout.js';

registerBuiltinXProtocols();
