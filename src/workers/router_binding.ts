/**
 * Binds the route offload to the router (src/router): `tableDescriptor` and `table.entryAt` on the main
 * thread, `attachTable` in a worker.
 */
import { attachTable, CompiledRouteTable, tableDescriptor } from '../router/index.js';
import { SkiffError } from '../common/errors.js';
import type { RouteTable } from '../types/router.js';
import type { RouteOffloadBinding, RouteTableAttacher } from './route_offload.js';

export const ROUTE_MATCH_TASK = 'route.match';

function compiled(table: RouteTable): CompiledRouteTable {
  if (!(table instanceof CompiledRouteTable)) {
    throw new SkiffError('SKIFF_ROUTE_OFFLOAD_UNSUPPORTED_TABLE', 'only compiled route tables (src/router) can be matched in a worker');
  }
  return table;
}

export const routerOffload: RouteOffloadBinding = {
  taskKind: ROUTE_MATCH_TASK,
  describe: (table) => tableDescriptor(compiled(table)),
  entryAt: (table, index) => compiled(table).entryAt(index),
};

export const routerAttach: RouteTableAttacher = (wasm, descriptor) => attachTable(wasm, { ...descriptor, regexes: [...descriptor.regexes] });
