// gRPC local replies: Envoy's HTTP -> gRPC status table, gRPC request detection by content-type,
// grpc-message percent-encoding, and the trailers-only reply sendLocalReply writes for gRPC requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeGrpcMessage, GrpcStatus, httpToGrpcStatus, isGrpcContentType,
} from '../../../src/proxy/grpc_status.js';
import { localReplyStatus, sendLocalReply } from '../../../src/proxy/local_reply.js';
import { FakeStream, requestHead } from './fakes.js';

test('httpToGrpcStatus follows Envoy\'s table', () => {
  const table: [number, number][] = [
    [400, GrpcStatus.INTERNAL], [401, GrpcStatus.UNAUTHENTICATED], [403, GrpcStatus.PERMISSION_DENIED],
    [404, GrpcStatus.UNIMPLEMENTED], [429, GrpcStatus.UNAVAILABLE], [502, GrpcStatus.UNAVAILABLE],
    [503, GrpcStatus.UNAVAILABLE], [504, GrpcStatus.UNAVAILABLE], [500, GrpcStatus.UNKNOWN],
    [408, GrpcStatus.UNKNOWN], [200, GrpcStatus.UNKNOWN], [301, GrpcStatus.UNKNOWN],
  ];
  for (const [http, grpc] of table) assert.equal(httpToGrpcStatus(http), grpc, `HTTP ${http}`);
});

test('isGrpcContentType: application/grpc, +codec and ;params only', () => {
  for (const ct of ['application/grpc', 'application/grpc+proto', 'application/grpc;charset=utf-8']) assert.equal(isGrpcContentType(ct), true, ct);
  for (const ct of [undefined, '', 'application/grpc-web', 'application/grpc-web+proto', 'application/grpcx', 'application/json', 'text/plain'])
    assert.equal(isGrpcContentType(ct), false, String(ct));
});

test('encodeGrpcMessage percent-encodes %, controls and non-ASCII as UTF-8', () => {
  assert.equal(encodeGrpcMessage('no healthy upstream'), 'no healthy upstream');
  assert.equal(encodeGrpcMessage('100% done'), '100%25 done');
  assert.equal(encodeGrpcMessage('a\nb'), 'a%0Ab');
  assert.equal(encodeGrpcMessage('caf\u00e9'), 'caf%C3%A9');
  assert.equal(decodeURIComponent(encodeGrpcMessage('\u00fcber 50% \u2713')), '\u00fcber 50% \u2713');
});

const grpcHead = (ct = 'application/grpc'): ReturnType<typeof requestHead> =>
  requestHead({ method: 'POST', path: '/pkg.Svc/Method', headers: [['content-type', ct], ['te', 'trailers']], bodyKind: 'chunked' });

test('a gRPC request gets a trailers-only reply: 200, grpc-status from the HTTP status, grpc-message, no body', () => {
  const s = new FakeStream(grpcHead());
  sendLocalReply(s, 503, 'no healthy upstream', { serverName: 'skiff', close: false, extraHeaders: [['x-envoy-overloaded', 'true']] });
  assert.equal(s.status, 200);
  const h = new Map(s.localHeaders);
  assert.equal(h.get('content-type'), 'application/grpc');
  assert.equal(h.get('grpc-status'), '14');
  assert.equal(h.get('grpc-message'), 'no healthy upstream');
  assert.equal(h.get('x-envoy-overloaded'), 'true');
  assert.equal(h.get('server'), 'skiff');
  assert.deepEqual(s.rewrite, { bodyKind: 'length', contentLength: 0, close: false });
  assert.equal(s.body.length, 0);
  assert.equal(s.ended, true);
  assert.equal(localReplyStatus(s.head, 503), 200);
});

test('a gRPC local reply with no text has no grpc-message; an explicit gRPC status wins over the table', () => {
  const s = new FakeStream(grpcHead('application/grpc+proto'));
  sendLocalReply(s, 404, '', { serverName: 'skiff', close: true });
  const h = new Map(s.localHeaders);
  assert.equal(h.get('grpc-status'), '12');
  assert.equal(h.has('grpc-message'), false);
  assert.equal(s.rewrite?.close, true);
  const limited = new FakeStream(grpcHead());
  sendLocalReply(limited, 429, 'local_rate_limited', { serverName: 'skiff', close: false, grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED });
  assert.equal(new Map(limited.localHeaders).get('grpc-status'), '8');
});

test('non-gRPC requests (grpc-web included) keep the plain-text reply', () => {
  for (const ct of ['application/grpc-web', 'application/json']) {
    const s = new FakeStream(grpcHead(ct));
    sendLocalReply(s, 503, 'no healthy upstream', { serverName: 'skiff', close: false });
    assert.equal(s.status, 503);
    assert.equal(new Map(s.localHeaders).get('content-type'), 'text/plain');
    assert.equal(Buffer.concat(s.body).toString(), 'no healthy upstream');
    assert.equal(localReplyStatus(s.head, 503), 503);
  }
});
