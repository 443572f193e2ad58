/** `route.match`: matches a batch of head records against a route table in this worker (src/workers/route_offload.ts). */
import { SkiffError } from '../../common/errors.js';
import { createRouteMatchHandler } from '../route_offload.js';
import { ROUTE_MATCH_TASK, routerAttach } from '../router_binding.js';

export const routeMatchHandler = createRouteMatchHandler(ROUTE_MATCH_TASK, (wasm, descriptor) => {
  if (!routerAttach) throw new SkiffError('SKIFF_ROUTE_OFFLOAD_UNAVAILABLE', 'the router module is not built into this tree');
  return routerAttach(wasm, descriptor);
});
