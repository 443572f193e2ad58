// SDS warming of TLS contexts: a context naming a secret not there yet is not warm until it arrives, its
// initial_fetch_timeout runs out, or a response carrying it is rejected; warm is for good; the contexts built
// during collectSecretWarming() are gathered for their listener or cluster.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ReloadableTlsContext, type CommonTlsContextConfig } from '../../../src/tls/context.js';
import { applySecretUpdate, secretStore } from '../../../src/tls/sds.js';
import { collectSecretWarming } from '../../../src/tls/warming.js';
import { createTestCa, type TestCa } from '../../helpers/certs.js';
import { waitFor } from '../../helpers/wait.js';

let ca: TestCa;
before(() => { ca = createTestCa(); });
after(() => { ca.cleanup(); secretStore().clear(); });
beforeEach(() => secretStore().clear());

const CLIENT = { side: 'client', defaultMin: 'TLSv1.2', defaultMax: 'TLSv1.3' } as const;

/** A client context whose validation context is the SDS secret `name` (`sds` its sds_config; undefined: static). */
function contextFor(name: string, sds: Record<string, unknown> | undefined): ReloadableTlsContext {
  const config: CommonTlsContextConfig = { validation_context_sds_secret_config: { name, ...(sds ? { sds_config: sds } : {}) } };
  return new ReloadableTlsContext(config, 'ctx', CLIENT, undefined);
}

const caSecret = (name: string): { name: string; validation_context: { trusted_ca: { inline_string: string } } } =>
  ({ name, validation_context: { trusted_ca: { inline_string: ca.cert } } });

test('a context waiting for an SDS secret warms until it arrives, is gathered by collectSecretWarming, and stays warm when it is withdrawn', async () => {
  const { value: ctx, warming } = collectSecretWarming(() => contextFor('root', { ads: {}, initial_fetch_timeout: { seconds: 0 } }));
  try {
    assert.equal(ctx.warm, false);
    assert.equal(ctx.ready, false);
    assert.equal(warming.warm, false);
    assert.deepEqual(warming.awaitedSecrets, ['root']);
    let told = 0;
    warming.whenWarm(() => { told++; });
    secretStore().set(caSecret('root'));
    assert.equal(ctx.warm, true);
    assert.equal(ctx.ready, true);
    assert.equal(warming.warm, true);
    assert.equal(told, 1);
    secretStore().delete('root');
    assert.equal(ctx.warm, true, 'a withdrawn secret un-warms nothing');
    assert.equal(ctx.ready, true, 'the context keeps what it built');
  } finally {
    ctx.dispose();
  }
});

test('initial_fetch_timeout ends warming without the secret (the context stays not ready); a later secret still makes it ready', async () => {
  const ctx = contextFor('late', { ads: {}, initial_fetch_timeout: { seconds: 0, nanos: 50_000_000 } });
  try {
    assert.equal(ctx.warm, false);
    let told = false;
    ctx.whenWarm(() => { told = true; });
    await waitFor(() => ctx.warm, 10_000, 'the fetch timeout');
    assert.equal(told, true);
    assert.equal(ctx.ready, false);
    secretStore().set(caSecret('late'));
    assert.equal(ctx.ready, true);
  } finally {
    ctx.dispose();
  }
});

test('a rejected response carrying the awaited secret ends warming; a context already holding its secret and static refs never warm', () => {
  const waiting = contextFor('bad', { ads: {}, initial_fetch_timeout: { seconds: 0 } });
  const { value: statics, warming } = collectSecretWarming(() => contextFor('missing-static', undefined));
  try {
    assert.throws(() => applySecretUpdate([['bad', { name: 'bad' }]], []), /Secret "bad"/);
    assert.equal(waiting.warm, true);
    assert.equal(waiting.ready, false);
    assert.equal(statics.warm, true, 'a static secret is there from start-up or never: nothing to wait for');
    assert.equal(warming.warm, true);
    assert.deepEqual(warming.awaitedSecrets, []);
    secretStore().set(caSecret('held'));
    const held = contextFor('held', { ads: {} });
    assert.equal(held.warm, true);
    held.dispose();
  } finally {
    waiting.dispose();
    statics.dispose();
  }
});

test('a context disposed while warming never reports warm, and unsubscribes its name', async () => {
  const ctx = contextFor('gone', { ads: {}, initial_fetch_timeout: { seconds: 0 } });
  let told = false;
  ctx.whenWarm(() => { told = true; });
  assert.deepEqual(secretStore().namesFrom('ads'), ['gone']);
  ctx.dispose();
  secretStore().set(caSecret('gone'));
  assert.equal(told, false);
  assert.deepEqual(secretStore().namesFrom('ads'), []);
});
