// The original_dst addresses a connection's filter state carries replace its local / remote address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restoreOriginalAddresses, ORIGINAL_DST_LOCAL_IP_KEY, ORIGINAL_DST_REMOTE_IP_KEY } from '../../../src/listener/original_dst_state.js';
import type { ConnectionFacts } from '../../../src/listener/filter_chain_match.js';
import { FilterStateStore, stringObject } from '../../../src/common/filter_state.js';

const facts: ConnectionFacts = {
  localAddress: '127.0.0.1', localPort: 15008, remoteAddress: '127.0.0.1', remotePort: 40000,
  transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: ['http/1.1'],
};

test('local_ip and remote_ip restore the addresses; absent or malformed values leave them', () => {
  assert.equal(restoreOriginalAddresses(facts, undefined), facts);
  const state = new FilterStateStore();
  assert.equal(restoreOriginalAddresses(facts, state), facts);
  state.set(ORIGINAL_DST_LOCAL_IP_KEY, stringObject('10.96.1.201:9080', { factoryKey: ORIGINAL_DST_LOCAL_IP_KEY }));
  const restored = restoreOriginalAddresses(facts, state);
  assert.deepEqual([restored.localAddress, restored.localPort, restored.remoteAddress, restored.remotePort], ['10.96.1.201', 9080, '127.0.0.1', 40000]);
  assert.equal(restored.filterState, state);
  assert.deepEqual(restored.applicationProtocols, ['http/1.1']);
  state.set(ORIGINAL_DST_REMOTE_IP_KEY, stringObject('[fd00::1]:5555'));
  const both = restoreOriginalAddresses(facts, state);
  assert.deepEqual([both.remoteAddress, both.remotePort], ['fd00::1', 5555]);
  const bad = new FilterStateStore();
  bad.set(ORIGINAL_DST_LOCAL_IP_KEY, stringObject('not an address'));
  assert.equal(restoreOriginalAddresses(facts, bad), facts);
});
