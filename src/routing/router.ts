/** Longest-prefix routing of E.164 numbers to operators, with an optional default route. */
import type { RouteConfig } from '../config/schema.js';

export interface Route {
  operator: string;
  failover: string | null;
  /** The prefix that matched, or null when the default route was used. */
  prefix: string | null;
}

export class Router {
  private readonly byPrefix = new Map<string, Route>();
  private readonly lengths: number[];

  constructor(routes: readonly RouteConfig[], private readonly defaultRoute?: string) {
    // Among routes with the same prefix, the highest priority wins.
    const sorted = [...routes].sort((a, b) => a.priority - b.priority);
    for (const r of sorted) this.byPrefix.set(r.prefix, { operator: r.operator, failover: r.failover ?? null, prefix: r.prefix });
    this.lengths = [...new Set(sorted.map((r) => r.prefix.length))].sort((a, b) => b - a);
  }

  /** O(number of distinct prefix lengths) map look-ups: fast enough for 10 000 recipients a request. */
  route(e164: string): Route | null {
    for (const len of this.lengths) {
      if (len > e164.length) continue;
      const hit = this.byPrefix.get(e164.slice(0, len));
      if (hit) return hit;
    }
    return this.defaultRoute ? { operator: this.defaultRoute, failover: null, prefix: null } : null;
  }

  list(): Route[] {
    return [...this.byPrefix.values()].sort((a, b) => (b.prefix ?? '').length - (a.prefix ?? '').length);
  }
}
