/**
 * Binds the route offload to the router (src/router, built on branch `router`): its `tableDescriptor`,
 * `attachTable` and `table.entryAt`. The router module is loaded once at start-up; while it is absent from the
 * tree (it lands separately), the binding is undefined and offloading reports SKIFF_ROUTE_OFFLOAD_UNAVAILABLE
 * instead of failing every import of the worker pool.
 */
import type { RouteEntry, RouteTable } from '../types/router.js';
import type { WasmInstance } from '../wasm/module.js';
import type { AttachedRouteTable, RouteOffloadBinding, RouteTableAttacher, RouteTableDescriptor } from './route_offload.js';

/** The router's entry points this binding uses (its planned API). */
interface RouterModule {
  tableDescriptor(table: RouteTable): RouteTableDescriptor;
  attachTable(wasm: WasmInstance, descriptor: RouteTableDescriptor): AttachedRouteTable;
}

const ROUTER_MODULE = new URL('../router/index.js', import.meta.url).href;

async function loadRouter(): Promise<RouterModule | undefined> {
  try {
    return (await import(ROUTER_MODULE)) as RouterModule;
  } catch (err) {
    // Only "the router is not in this tree" is tolerated; a broken router module must fail loudly.
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes('/router/index.js')) return undefined;
    throw err;
  }
}

const router = await loadRouter();

export const ROUTE_MATCH_TASK = 'route.match';

export const routerOffload: RouteOffloadBinding | undefined = router && {
  taskKind: ROUTE_MATCH_TASK,
  describe: (table) => router.tableDescriptor(table),
  entryAt: (table, index) => (table as RouteTable & { entryAt(i: number): RouteEntry }).entryAt(index),
};

export const routerAttach: RouteTableAttacher | undefined = router && ((wasm, descriptor) => router.attachTable(wasm, descriptor));
