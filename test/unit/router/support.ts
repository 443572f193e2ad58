// Shared by the router tests: compile on the main thread's instance, match a request given as plain data.
import type { RouteConfiguration, Route, VirtualHost } from '../../../src/types/envoy.js';
import type { RouteEntry } from '../../../src/types/router.js';
import { mainInstance } from '../../../src/wasm/runtime.js';
import { compileRouteTable, type CompileOptions, type CompiledRouteTable } from '../../../src/router/index.js';
import { writeHeadRecord, type HeadRecordInput } from '../../helpers/head-record.js';

export const wasm = mainInstance();

export function compile(config: RouteConfiguration, options?: CompileOptions): CompiledRouteTable {
  return compileRouteTable(config, wasm, options);
}

/** A virtual host routing every route to a cluster named after it. */
export function vhost(name: string, domains: string[], routes: Route[] = [{ name, match: { prefix: '/' }, route: { cluster: name } }]): VirtualHost {
  return { name, domains, routes };
}

export function to(cluster: string, match: Route['match']): Route {
  return { name: cluster, match, route: { cluster } };
}

/** The matched entry (cached path), checked against the cache-free answer. */
export function match(table: CompiledRouteTable, req: Partial<HeadRecordInput>): RouteEntry | null {
  const { head, recPtr } = writeHeadRecord(wasm, { host: 'example.com', path: '/', ...req });
  const cold = table.matchIndexUncached(recPtr);
  const entry = table.match(head);
  if ((entry?.index ?? -1) !== cold) throw new Error(`cached ${entry?.index} != uncached ${cold}`);
  return entry;
}

/** Name of the matched route (the tests name routes after their clusters), or null. */
export function routed(table: CompiledRouteTable, req: Partial<HeadRecordInput>): string | null {
  const e = match(table, req);
  return e === null ? null : e.name;
}
