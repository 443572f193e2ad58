/** The router: compile an Envoy RouteConfiguration into a table, match requests on it (inline or from workers). */
export { compileRouteTable, type CompileOptions } from './compile.js';
export {
  CompiledRouteTable, tableDescriptor, attachTable, StaleRouteTableError, DEFAULT_RETIRE_GRACE_MS,
  type RouteTableDescriptor, type AttachedRouteTable,
} from './table.js';
export { InlineRouteResolver } from './resolver.js';
export { RouteArena, RouteArenaFullError, routeArena } from './arena.js';
export { DEFAULT_ROUTE_TIMEOUT_MS } from './actions.js';
