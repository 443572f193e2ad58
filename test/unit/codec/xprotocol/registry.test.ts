// The x-protocol registry and the built-in specs: names, protocol ids, duplicate and unknown names, and
// the status mappings both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from '../../../../src/wasm/layout.js';
import {
  getXProtocol, hasXProtocol, listXProtocols, registerXProtocol, xProtocolForId, boltSpec, dubboSpec, XStatus,
  type XProtocolSpec,
} from '../../../../src/codec/xprotocol/index.js';

test('bolt and dubbo are registered by name and by protocol id', () => {
  assert.equal(getXProtocol('bolt'), boltSpec);
  assert.equal(getXProtocol('dubbo'), dubboSpec);
  assert.equal(xProtocolForId(L.XP_BOLT_V1), boltSpec);
  assert.equal(xProtocolForId(L.XP_BOLT_V2), boltSpec);
  assert.equal(xProtocolForId(L.XP_DUBBO), dubboSpec);
  assert.ok(listXProtocols().length >= 2);
  assert.equal(boltSpec.poolMode, 'multiplex');
  assert.equal(dubboSpec.goaway, true);
  assert.equal(boltSpec.goawayOptIn, true);
  assert.equal(dubboSpec.goawayOptIn, false);
});

test('an unknown name fails with SKIFF_CONFIG_UNSUPPORTED naming the field', () => {
  assert.throws(() => getXProtocol('thrift', 'filters[0].typed_config.protocol'),
    (e: any) => e.code === 'SKIFF_CONFIG_UNSUPPORTED' && /filters\[0\]\.typed_config\.protocol/.test(e.message) && /thrift/.test(e.message));
});

test('a second registration of a name or a protocol id fails', () => {
  assert.throws(() => registerXProtocol('bolt', boltSpec), (e: any) => e.code === 'SKIFF_XPROTO_DUPLICATE');
  const clash: XProtocolSpec = { ...dubboSpec, name: 'dubbo-again' };
  assert.throws(() => registerXProtocol('dubbo-again', clash), (e: any) => e.code === 'SKIFF_XPROTO_DUPLICATE');
  assert.equal(hasXProtocol('dubbo-again'), false);
  assert.throws(() => registerXProtocol('x', { ...dubboSpec, name: 'y' }), (e: any) => e.code === 'SKIFF_XPROTO_NAME');
});

test('status mappings: wire status -> HTTP-like code -> the same wire status for the codes Skiff replies with', () => {
  assert.equal(boltSpec.statusToHttp(L.BOLT_STATUS_SUCCESS), 200);
  assert.equal(boltSpec.statusToHttp(L.BOLT_STATUS_TIMEOUT), 504);
  assert.equal(boltSpec.statusToHttp(L.BOLT_STATUS_SERVER_THREADPOOL_BUSY), 503);
  assert.equal(boltSpec.statusToHttp(L.BOLT_STATUS_NO_PROCESSOR), 404);
  assert.equal(boltSpec.statusToHttp(L.BOLT_STATUS_SERVER_EXCEPTION), 500);
  assert.equal(dubboSpec.statusToHttp(L.DUBBO_STATUS_OK), 200);
  assert.equal(dubboSpec.statusToHttp(L.DUBBO_STATUS_CLIENT_TIMEOUT), 504);
  assert.equal(dubboSpec.statusToHttp(L.DUBBO_STATUS_SERVICE_NOT_FOUND), 404);
  assert.equal(dubboSpec.statusToHttp(L.DUBBO_STATUS_THREADPOOL_EXHAUSTED), 503);
  assert.equal(dubboSpec.statusToHttp(L.DUBBO_STATUS_SERVICE_ERROR), 500);
  for (const spec of [boltSpec, dubboSpec]) {
    for (const code of Object.values(XStatus)) {
      if (code === XStatus.INTERNAL) continue;
      assert.equal(spec.statusToHttp(spec.httpToStatus(code)), code, `${spec.name} ${code}`);
    }
    assert.equal(spec.statusToHttp(spec.httpToStatus(500)), 500);
  }
});
