import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFormat, DEFAULT_FORMAT, type AccessLogEntry } from '../../../src/access_log/format.js';
import { accessLoggers, FILE_ACCESS_LOG_TYPE_URL } from '../../../src/access_log/config.js';
import { BATCH_LINES, reopenAccessLogs } from '../../../src/access_log/writer.js';
import { waitFor, PATIENCE_MS } from '../../helpers/wait.js';

const entry: AccessLogEntry = {
  startMs: Date.UTC(2026, 10, 22, 1, 2, 3, 45), endMs: Date.UTC(2026, 10, 22, 1, 2, 3, 45) + 1234,
  downstreamRemoteAddress: '127.0.0.1', downstreamRemotePort: 50000,
  downstreamLocalAddress: '::1', downstreamLocalPort: 10000,
  upstreamHost: '127.0.0.1:9000', upstreamCluster: 'db',
  bytesReceived: 11, bytesSent: 22, responseFlags: [], terminationDetails: '',
};

test('format: operators, literals, %%, truncation and empty values', () => {
  const f = compileFormat('[%START_TIME%] %DURATION%ms %DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% '
    + '%DOWNSTREAM_LOCAL_ADDRESS% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% %BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_FLAGS% '
    + '%CONNECTION_TERMINATION_DETAILS% 100%% %UPSTREAM_CLUSTER:1%\n', 'p');
  assert.equal(f(entry), '[2026-11-22T01:02:03.045Z] 1234ms 127.0.0.1:50000 127.0.0.1 [::1]:10000 127.0.0.1:9000 db 11 22 - - 100% d\n');
  assert.equal(compileFormat('%RESPONSE_FLAGS% %UPSTREAM_HOST% %CONNECTION_TERMINATION_DETAILS%', 'p')({ ...entry, responseFlags: ['UF', 'SI'], upstreamHost: '', terminationDetails: 'refused' }), 'UF,SI - refused');
});

test("format: Envoy's default format prints '-' and 0 for the HTTP fields of a connection", () => {
  assert.equal(compileFormat(DEFAULT_FORMAT, 'p')(entry), '[2026-11-22T01:02:03.045Z] "- - -" 0 - 11 22 1234 - "-" "-" "-" "-" "127.0.0.1:9000"\n');
});

test('format: an unknown operator or a malformed one is a ConfigError naming the field', () => {
  assert.throws(() => compileFormat('x %NOT_AN_OPERATOR% y', 'a.b.format'), (e: Error & { code?: string }) => e.code === 'SKIFF_CONFIG_INVALID' && /a\.b\.format: .*%NOT_AN_OPERATOR%/.test(e.message));
  assert.throws(() => compileFormat('50% done', 'a.b'), /a\.b: malformed command operator/);
  assert.throws(() => compileFormat('%START_TIME(%s)%', 'a.b'), /a\.b: unknown or unsupported/);
});

test('file logger: lines batched into one append per turn, reopened after rotation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-al-'));
  try {
    const path = join(dir, 'tcp.log');
    const [logger] = accessLoggers([{ name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_ACCESS_LOG_TYPE_URL, path, log_format: { text_format_source: { inline_string: '%UPSTREAM_CLUSTER% %BYTES_SENT%\n' } } } }], 'al');
    const n = BATCH_LINES + 10;
    for (let i = 0; i < 10; i++) logger.log({ ...entry, bytesSent: i });
    // Under a batch's worth, nothing is written before the end of the turn.
    assert.equal(readFileSync(path, 'utf8'), '');
    // A full batch starts a write at once; the rest follows it.
    for (let i = 10; i < n; i++) logger.log({ ...entry, bytesSent: i });
    await waitFor(() => readFileSync(path, 'utf8').split('\n').length === n + 1, PATIENCE_MS, 'all lines written');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => Number(l.split(' ')[1])), Array.from({ length: n }, (_, i) => i));
    renameSync(path, `${path}.1`);
    reopenAccessLogs();
    logger.log({ ...entry, bytesSent: 7 });
    await waitFor(() => { try { return readFileSync(path, 'utf8') === 'db 7\n'; } catch { return false; } }, PATIENCE_MS, 'line in the reopened file');
    assert.equal(readFileSync(`${path}.1`, 'utf8').split('\n').length, n + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config: filters, JSON formats and unknown loggers are refused by name; deprecated format accepted', () => {
  const file = (tc: Record<string, unknown>, extra: Record<string, unknown> = {}) => () => accessLoggers([{ name: 'f', typed_config: { '@type': FILE_ACCESS_LOG_TYPE_URL, path: '/dev/null', ...tc }, ...extra }], 'al');
  assert.throws(file({}, { filter: { status_code_filter: {} } }), /al\[0\]\.filter/);
  assert.throws(file({ log_format: { json_format: { a: '%BYTES_SENT%' } } }), /al\[0\]\.typed_config\.log_format\.json_format/);
  assert.throws(file({ path: '' }), /al\[0\]\.typed_config\.path/);
  assert.throws(file({ format: '%BOGUS%' }), /al\[0\]\.typed_config\.format: unknown/);
  assert.throws(() => accessLoggers([{ typed_config: { '@type': 'type.googleapis.com/x.Y' } }], 'al'), /al\[0\]\.typed_config: unsupported access logger/);
  assert.equal(file({ format: '%BYTES_SENT%\n' })().length, 1);
});

test('format: %FILTER_STATE(key)% as JSON, :PLAIN as text, "-" when absent; %REQ% reads a request when the entry has one', async () => {
  const { FilterStateStore, stringObject } = await import('../../../src/common/filter_state.js');
  const state = new FilterStateStore();
  state.set('io.istio.peer_principal', stringObject('spiffe://a/"b"'));
  const f = compileFormat('%FILTER_STATE(io.istio.peer_principal)% %FILTER_STATE(io.istio.peer_principal:PLAIN)% %FILTER_STATE(missing:PLAIN)% '
    + '%REQ(:AUTHORITY)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(:METHOD)% %DOWNSTREAM_PEER_URI_SAN%', 'p');
  const headers = { size: 0, name: () => '', value: () => '', get: () => undefined, getAll: () => [], has: () => false };
  assert.equal(f({ ...entry, filterState: state, request: { method: 'GET', path: '/x', host: 'h:1', headers }, downstreamPeerUriSans: ['spiffe://p'] }),
    '"spiffe://a/\\"b\\"" spiffe://a/"b" - h:1 /x GET spiffe://p');
  assert.equal(f(entry), '- - - - - - -', 'a connection entry has neither');
  assert.throws(() => compileFormat('%FILTER_STATE()%', 'p'), /needs a key/);
});
