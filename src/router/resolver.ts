/**
 * InlineRouteResolver: matches on the calling (main) thread and calls back synchronously. The table can
 * be swapped when a new RouteConfiguration is compiled; requests already resolved keep their entry.
 */
import type { RequestHead } from '../types/http.js';
import type { RouteEntry, RouteResolver, RouteTable } from '../types/router.js';

export class InlineRouteResolver implements RouteResolver {
  constructor(private table: RouteTable | null) {}

  /** The table later resolve() calls use. */
  setTable(table: RouteTable | null): void {
    this.table = table;
  }

  get current(): RouteTable | null {
    return this.table;
  }

  resolve(head: RequestHead, cb: (route: RouteEntry | null) => void): void {
    cb(this.table ? this.table.match(head) : null);
  }
}
