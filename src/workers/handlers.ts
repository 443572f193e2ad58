/** The built-in task handlers, in one explicit list (kinds must be unique). */
import type { TaskHandler } from './types.js';
import { checksumHandler } from './handlers/checksum.js';
import { routeMatchHandler } from './handlers/route_match.js';
import { threadInfoHandler } from './handlers/thread_info.js';

export const builtinHandlers: readonly TaskHandler[] = [
  checksumHandler,
  routeMatchHandler,
  threadInfoHandler,
];
