import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseResourceText, typeFromFileName } from '../../../src/control_plane/resource_files.js';
import { SnapshotSequence } from '../../../src/control_plane/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, apiListener, edsCluster, loadAssignment, routeConfig, unpack } from './helpers.js';
import { ConfigError } from '../../../src/common/errors.js';

test('a single resource with @type (YAML)', () => {
  const text = `'@type': ${CLUSTER_TYPE}\nname: backend\ntype: EDS\nconnect_timeout: 0.25s\neds_cluster_config: {eds_config: {ads: {}}}\n`;
  const [r, ...rest] = parseResourceText(text, 'dir/a.yaml');
  assert.equal(rest.length, 0);
  assert.equal(r.typeUrl, CLUSTER_TYPE);
  assert.equal(r.name, 'backend');
  assert.deepEqual(r.value.connect_timeout, { seconds: 0, nanos: 250_000_000 });
});

test('a list of resources of several types (JSON)', () => {
  const text = JSON.stringify([apiListener('l1', 'r1'), routeConfig('r1', 'svc', 'c1'), edsCluster('c1'), loadAssignment('c1', 8080)]);
  const rs = parseResourceText(text, 'dir/all.json');
  assert.deepEqual(rs.map((r) => [r.typeUrl, r.name, r.path]), [
    [LISTENER_TYPE, 'l1', 'dir/all.json[0]'], [ROUTE_TYPE, 'r1', 'dir/all.json[1]'],
    [CLUSTER_TYPE, 'c1', 'dir/all.json[2]'], [ENDPOINT_TYPE, 'c1', 'dir/all.json[3]'],
  ]);
});

test("Envoy's path_config_source form: {version_info, resources: [...]}", () => {
  const text = JSON.stringify({ version_info: '7', resources: [edsCluster('a'), edsCluster('b')] });
  const rs = parseResourceText(text, 'cds.json');
  assert.deepEqual(rs.map((r) => r.name), ['a', 'b']);
  assert.equal(rs[1].path, 'cds.json.resources[1]');
});

test('items without @type take their type from the file name, else from their fields', () => {
  const { '@type': _a, ...fields } = loadAssignment('c1', 9000);
  assert.equal(parseResourceText(JSON.stringify(fields), 'x/endpoints.json')[0].typeUrl, ENDPOINT_TYPE);
  assert.equal(typeFromFileName('/d/rds-main.yaml'), ROUTE_TYPE);
  assert.equal(typeFromFileName('/d/listeners.yaml'), LISTENER_TYPE);
  assert.equal(typeFromFileName('/d/cds.yaml'), CLUSTER_TYPE);
  assert.equal(typeFromFileName('/d/misc.yaml'), undefined);
  const { '@type': _r, ...route } = routeConfig('r9', 'a', 'b');
  assert.equal(parseResourceText(JSON.stringify(route), 'x/misc.json')[0].typeUrl, ROUTE_TYPE);
  assert.throws(() => parseResourceText('{"foo": 1}', 'x/misc.json'), /x\/misc.json: no @type/);
});

test('a bad file is named with the field at fault', () => {
  const bad = { ...edsCluster('c1'), connect_timeout: 'soon' };
  assert.throws(() => parseResourceText(JSON.stringify([edsCluster('ok'), bad]), 'dir/c.json'),
    (e: unknown) => e instanceof ConfigError && /^dir\/c\.json\[1\]\.connect_timeout/.test(e.message));
  assert.throws(() => parseResourceText(JSON.stringify({ ...edsCluster('c1'), no_such_field: 1 }), 'dir/d.json'),
    (e: unknown) => e instanceof ConfigError && e.message.includes('dir/d.json') && e.message.includes('no_such_field'));
  // PGV: a listener's HCM needs a stat_prefix.
  const listener = apiListener('l', 'r') as { api_listener: { api_listener: Record<string, unknown> } };
  delete listener.api_listener.api_listener.stat_prefix;
  assert.throws(() => parseResourceText(JSON.stringify(listener), 'dir/l.json'), /dir\/l\.json\.api_listener\.api_listener\.stat_prefix/);
  assert.throws(() => parseResourceText('a: [1, 2', 'dir/broken.yaml'), /dir\/broken\.yaml: invalid YAML/);
  assert.throws(() => parseResourceText(JSON.stringify({ '@type': 'type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap' }), 'dir/b.json'), /not served/);
});

test('resources a Skiff data plane would refuse are served with a warning (other clients may accept them)', () => {
  const [r] = parseResourceText(JSON.stringify({ ...edsCluster('c1'), type: 'LOGICAL_DNS', eds_cluster_config: undefined }), 'c.json');
  assert.ok(r.warnings.some((w) => w.includes('type') && w.includes('LOGICAL_DNS')), r.warnings.join('; '));
});

test('snapshot versions increase only when the content changes; duplicates are refused', () => {
  const seq = new SnapshotSequence();
  const a = parseResourceText(JSON.stringify([edsCluster('c1'), loadAssignment('c1', 1000)]), 'a.json');
  const first = seq.next(a);
  assert.deepEqual([first.changed, first.snapshot.version], [true, '1']);
  const again = seq.next(parseResourceText(JSON.stringify([edsCluster('c1'), loadAssignment('c1', 1000)]), join('other', 'b.json')));
  assert.deepEqual([again.changed, again.snapshot.version], [false, '1']);
  const moved = seq.next(parseResourceText(JSON.stringify([edsCluster('c1'), loadAssignment('c1', 2000)]), 'a.json'));
  assert.deepEqual([moved.changed, moved.snapshot.version], [true, '2']);
  const cla1 = first.snapshot.resources.get(ENDPOINT_TYPE)!.get('c1')!;
  const cla2 = moved.snapshot.resources.get(ENDPOINT_TYPE)!.get('c1')!;
  assert.notEqual(cla1.version, cla2.version);
  assert.equal(first.snapshot.resources.get(CLUSTER_TYPE)!.get('c1')!.version, moved.snapshot.resources.get(CLUSTER_TYPE)!.get('c1')!.version);
  const decoded = unpack(cla2.any) as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] };
  assert.equal(decoded.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 2000);
  assert.throws(() => seq.next(parseResourceText(JSON.stringify([edsCluster('c1'), edsCluster('c1')]), 'dup.json')), /duplicate Cluster name 'c1'/);
  assert.equal(seq.latest()!.version, '2');
});
