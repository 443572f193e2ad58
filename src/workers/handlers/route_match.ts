/** `route.match`: matches a batch of head records against a compiled route table in this worker (route_offload.ts). */
import { createRouteMatchHandler } from '../route_offload.js';
import { ROUTE_MATCH_TASK, routerAttach } from '../router_binding.js';

export const routeMatchHandler = createRouteMatchHandler(ROUTE_MATCH_TASK, routerAttach);
