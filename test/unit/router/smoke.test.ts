import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { compileRouteTable } from '../../../src/router/index.js';
import { writeHeadRecord } from '../../helpers/head-record.js';

test('smoke', () => {
  const wasm = mainInstance();
  const t = compileRouteTable({ virtual_hosts: [{ name: 'a', domains: ['*'], routes: [
    { match: { prefix: '/api' }, route: { cluster: 'api' } },
    { match: { safe_regex: { regex: '/x/[0-9]+' } }, route: { cluster: 'rx' } },
    { match: { prefix: '/' }, route: { cluster: 'root' } },
  ] }] }, wasm);
  const m = (p: string) => { const { head } = writeHeadRecord(wasm, { host: 'x', path: p }); const e = t.match(head); return e && (e.action as any).cluster; };
  assert.equal(m('/api/v1'), 'api');
  assert.equal(m('/x/12'), 'rx');
  assert.equal(m('/x/12a'), 'root');
  assert.equal(m('/x/12'), 'rx');
});
