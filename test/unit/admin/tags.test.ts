import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TagExtractor } from '../../../src/admin/tags.js';
import { sanitizeMetricName, prometheusText } from '../../../src/admin/prometheus.js';

const x = new TagExtractor(['web', 'web.v2']);
const tags = (name: string) => { const t = x.extract(name); return [t.family, Object.fromEntries(t.tags.map((g) => [g.name, g.value]))]; };

test('cluster names: known names win, longest first, dots allowed', () => {
  assert.deepEqual(tags('cluster.web.upstream_rq_total'), ['cluster.upstream_rq_total', { envoy_cluster_name: 'web' }]);
  assert.deepEqual(tags('cluster.web.v2.upstream_rq_total'), ['cluster.upstream_rq_total', { envoy_cluster_name: 'web.v2' }]);
  assert.deepEqual(tags('cluster.other.upstream_cx_total'), ['cluster.upstream_cx_total', { envoy_cluster_name: 'other' }]);
  assert.deepEqual(tags('cluster_manager.active_clusters'), ['cluster_manager.active_clusters', {}]);
});

test('response code class and code', () => {
  assert.deepEqual(tags('cluster.web.upstream_rq_2xx'), ['cluster.upstream_rq_xx', { envoy_response_code_class: '2', envoy_cluster_name: 'web' }]);
  assert.deepEqual(tags('cluster.web.upstream_rq_503'), ['cluster.upstream_rq', { envoy_response_code: '503', envoy_cluster_name: 'web' }]);
  assert.deepEqual(tags('cluster.web.upstream_rq_total'), ['cluster.upstream_rq_total', { envoy_cluster_name: 'web' }]);
});

test('HCM prefix, listener address, rds, vhost, tcp prefix', () => {
  assert.deepEqual(tags('http.ingress_http.downstream_rq_total'), ['http.downstream_rq_total', { envoy_http_conn_manager_prefix: 'ingress_http' }]);
  assert.deepEqual(tags('listener.0.0.0.0_15001.downstream_cx_active'), ['listener.downstream_cx_active', { envoy_listener_address: '0.0.0.0_15001' }]);
  assert.deepEqual(tags('listener.[__1]_8080.downstream_cx_total'), ['listener.downstream_cx_total', { envoy_listener_address: '[__1]_8080' }]);
  assert.deepEqual(tags('listener.127.0.0.1_80.http.ing.downstream_rq_5xx'), ['listener.http.downstream_rq_xx',
    { envoy_response_code_class: '5', envoy_listener_address: '127.0.0.1_80', envoy_http_conn_manager_prefix: 'ing' }]);
  assert.deepEqual(tags('http.ing.rds.local_route.config_reload'), ['http.rds.config_reload',
    { envoy_http_conn_manager_prefix: 'ing', envoy_rds_route_config: 'local_route' }]);
  assert.deepEqual(tags('vhost.vh1.vcluster.vc1.upstream_rq_total'), ['vhost.vcluster.upstream_rq_total',
    { envoy_virtual_host: 'vh1', envoy_virtual_cluster: 'vc1' }]);
  assert.deepEqual(tags('tcp.egress.downstream_cx_total'), ['tcp.downstream_cx_total', { envoy_tcp_prefix: 'egress' }]);
  assert.deepEqual(tags('server.uptime'), ['server.uptime', {}]);
});

test('metric names are sanitized and label values escaped', () => {
  assert.equal(sanitizeMetricName('cluster.upstream-rq.total'), 'envoy_cluster_upstream_rq_total');
  const out = prometheusText([{ name: 'cluster.a"b\\c.upstream_rq_total', value: 1, kind: 'counter' }], []);
  assert.equal(out, '# TYPE envoy_cluster_upstream_rq_total counter\nenvoy_cluster_upstream_rq_total{envoy_cluster_name="a\\"b\\\\c"} 1\n');
  assert.equal(prometheusText([{ name: 'server.live', value: 1, kind: 'gauge' }], []), '# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n');
});
