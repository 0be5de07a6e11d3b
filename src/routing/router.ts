/** Longest-prefix routing of E.164 numbers to operators, with an optional default route. */
import type { RouteConfig } from '../config/schema.js';

export interface Route {
  operator: string;
  failover: string | null;
  /** The prefix that matched, or null when the default route was used. */
  prefix: string | null;
}

export class Router {
  private byPrefix = new Map<string, Route>();
  private lengths: number[] = [];
  private fallback: string | undefined;

  constructor(routes: readonly RouteConfig[], defaultRoute?: string) {
    this.replace(routes, defaultRoute);
  }

  /** A new table at once (a reload): every message planned after this uses it. */
  replace(routes: readonly RouteConfig[], defaultRoute?: string): void {
    // Among routes with the same prefix, the highest priority wins.
    const sorted = [...routes].sort((a, b) => a.priority - b.priority);
    const byPrefix = new Map<string, Route>();
    for (const r of sorted) byPrefix.set(r.prefix, { operator: r.operator, failover: r.failover ?? null, prefix: r.prefix });
    this.byPrefix = byPrefix;
    this.lengths = [...new Set(sorted.map((r) => r.prefix.length))].sort((a, b) => b - a);
    this.fallback = defaultRoute;
  }

  get defaultRoute(): string | undefined {
    return this.fallback;
  }

  /** O(number of distinct prefix lengths) map look-ups: fast enough for 10 000 recipients a request. */
  route(e164: string): Route | null {
    for (const len of this.lengths) {
      if (len > e164.length) continue;
      const hit = this.byPrefix.get(e164.slice(0, len));
      if (hit) return hit;
    }
    return this.fallback ? { operator: this.fallback, failover: null, prefix: null } : null;
  }

  list(): Route[] {
    return [...this.byPrefix.values()].sort((a, b) => (b.prefix ?? '').length - (a.prefix ?? '').length);
  }
}
