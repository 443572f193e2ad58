import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlaneUsageError, parseControlPlaneArgs, controlPlaneMain } from '../../../src/cli/control_plane.js';
import { tempDir } from './helpers.js';

test('control-plane options: required --dir and --port, defaults, bad values named', () => {
  const { dir, cleanup } = tempDir();
  try {
    const args = parseControlPlaneArgs(['--dir', dir, '--port', '18000']);
    assert.deepEqual(args, { dir, port: 18000, address: '127.0.0.1', healthPort: undefined, rescanMs: 2000, logLevel: 'info', help: false });
    assert.equal(parseControlPlaneArgs(['--dir', dir, '--port', '0', '--health-port', '9901', '--address', '::1']).healthPort, 9901);
    assert.throws(() => parseControlPlaneArgs(['--port', '1']), (e: unknown) => e instanceof ControlPlaneUsageError && /--dir is required/.test(e.message));
    assert.throws(() => parseControlPlaneArgs(['--dir', dir]), /--port is required/);
    assert.throws(() => parseControlPlaneArgs(['--dir', dir, '--port', '70000']), /--port: not a port/);
    assert.throws(() => parseControlPlaneArgs(['--dir', `${dir}/missing`, '--port', '1']), /is not a directory/);
    assert.throws(() => parseControlPlaneArgs(['--dir', dir, '--port', '1', '--log-level', 'loud']), /unknown level 'loud'/);
    assert.throws(() => parseControlPlaneArgs(['--dir', dir, '--port', '1', '--bogus']), ControlPlaneUsageError);
  } finally {
    cleanup();
  }
});

test('controlPlaneMain returns 2 on a usage error without starting anything', async () => {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string) => { err += chunk; return true; }) as typeof process.stderr.write;
  try {
    assert.equal(await controlPlaneMain(['--port', '1']), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(err, /--dir is required/);
  assert.match(err, /usage: skiff control-plane/);
});
