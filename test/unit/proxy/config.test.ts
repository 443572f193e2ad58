import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionManagerConfig } from '../../../src/proxy/config.js';
import { hcmConfig } from './fakes.js';

test('HCM defaults are Envoy\'s', () => {
  const c = hcmConfig();
  assert.equal(c.statPrefix, 'ingress');
  assert.equal(c.maxRequestHeadersKb, 60);
  assert.equal(c.maxHeadersCount, 100);
  assert.equal(c.generateRequestId, true);
  assert.equal(c.serverName, 'skiff');
  assert.equal(c.useRemoteAddress, false);
  assert.equal(c.requestHeadersTimeoutMs, 0);
  assert.equal(c.streamIdleTimeoutMs, 300_000);
  assert.equal(c.idleTimeoutMs, 3_600_000);
});

test('HCM fields are read', () => {
  const c = hcmConfig({
    request_headers_timeout: { seconds: 1, nanos: 500_000_000 }, max_request_headers_kb: { value: 8 },
    common_http_protocol_options: { max_headers_count: { value: 20 }, idle_timeout: { seconds: 5 } },
    use_remote_address: { value: true }, xff_num_trusted_hops: 1, generate_request_id: { value: false }, server_name: 'edge',
  });
  assert.equal(c.requestHeadersTimeoutMs, 1500);
  assert.equal(c.maxRequestHeadersKb, 8);
  assert.equal(c.maxHeadersCount, 20);
  assert.equal(c.idleTimeoutMs, 5000);
  assert.equal(c.useRemoteAddress, true);
  assert.equal(c.xffNumTrustedHops, 1);
  assert.equal(c.generateRequestId, false);
  assert.equal(c.serverName, 'edge');
});

test('unknown fields, filters and codecs are rejected by name', () => {
  assert.throws(() => hcmConfig({ scoped_routes: {} }), { code: 'SKIFF_CONFIG_UNSUPPORTED', message: /typed_config\.scoped_routes/ });
  // RDS (over the bootstrap's ADS stream) replaces the inline route_config; both at once is an error.
  assert.equal(hcmConfig({ route_config: undefined, rds: { route_config_name: 'r', config_source: { ads: {} } } }).rdsRouteConfigName, 'r');
  assert.throws(() => hcmConfig({ rds: { route_config_name: 'r', config_source: { ads: {} } } }), { code: 'SKIFF_CONFIG_INVALID', message: /typed_config\.rds/ });
  // HTTP2 passes here; the HCM network filter refuses it while no HTTP/2 codec is registered (test/unit/listener).
  assert.equal(hcmConfig({ codec_type: 'HTTP2' }).codecType, 'HTTP2');
  assert.throws(() => hcmConfig({ codec_type: 'HTTP3' }), { code: 'SKIFF_CONFIG_UNSUPPORTED' });
  assert.throws(() => hcmConfig({ http_filters: [{ name: 'envoy.filters.http.lua' }] }), { message: /http_filters\[0\]/ });
  assert.doesNotThrow(() => hcmConfig({ http_filters: [{ name: 'envoy.filters.http.router' }] }));
  assert.throws(() => connectionManagerConfig({ '@type': 'x', stat_prefix: '' } as never, 'p'), { code: 'SKIFF_CONFIG_INVALID', message: /stat_prefix/ });
  assert.throws(() => hcmConfig({ route_config: undefined }), { message: /route_config/ });
});
