/**
 * Sliding-window rate limiting (two fixed windows, weighted), per key — a credential and a route
 * group. Each key keeps its own window length: most limits are per minute, Mifumo documents some
 * per hour. On SQLite in memory: one process is the whole gateway, and a request costs no query.
 * On PostgreSQL the nodes count in the database (SharedRateLimiter), so N nodes together allow the
 * configured limit, not N times it.
 */
import type { SharedStateRepo } from '../../store/shared.js';

export interface LimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  retryAfterSeconds: number;
  /** Seconds until the current window ends (X-RateLimit-Reset). */
  resetSeconds: number;
}

/** Counts a hit on `key` against `limit` per `windowMs`; the answer carries the X-RateLimit-* values. */
export interface Limiter {
  hit(key: string, limit: number, windowMs?: number): LimitResult | Promise<LimitResult>;
}

/** The limiter of a store: in memory on SQLite, shared through the database on PostgreSQL. */
export function limiterFor(store: { backend: 'sqlite' | 'postgres'; repos: { shared: SharedStateRepo } } | undefined): Limiter {
  return store?.backend === 'postgres' ? new SharedRateLimiter(store.repos.shared) : new RateLimiter();
}

interface Bucket {
  windowMs: number;
  start: number;
  current: number;
  previous: number;
}

export class RateLimiter implements Limiter {
  private readonly buckets = new Map<string, Bucket>();
  private sweeps = 0;

  constructor(private readonly now: () => number = Date.now) {}

  hit(key: string, limit: number, windowMs = 60_000): LimitResult {
    const t = this.now();
    const windowStart = t - (t % windowMs);
    const b = this.roll(this.buckets.get(key), windowStart, windowMs);
    this.buckets.set(key, b);
    const used = b.previous * (1 - (t - windowStart) / windowMs) + b.current;
    const resetSeconds = Math.ceil((windowStart + windowMs - t) / 1000);
    if (used + 1 > limit) {
      const retryAfterSeconds = Math.max(1, b.current > 0 ? resetSeconds : Math.ceil((t - windowStart) / 1000));
      return { allowed: false, limit, remaining: 0, retryAfterSeconds, resetSeconds };
    }
    b.current += 1;
    if (++this.sweeps % 10_000 === 0) this.sweep(t);
    return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - used - 1)), retryAfterSeconds: 0, resetSeconds };
  }

  private roll(b: Bucket | undefined, windowStart: number, windowMs: number): Bucket {
    if (!b || b.windowMs !== windowMs || windowStart - b.start >= 2 * windowMs) return { windowMs, start: windowStart, current: 0, previous: 0 };
    if (windowStart > b.start) return { windowMs, start: windowStart, current: 0, previous: b.current };
    return b;
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (t - b.start >= 2 * b.windowMs) this.buckets.delete(k);
  }
}

/** Expired windows are deleted by each node about this often. */
const PRUNE_MS = 60_000;

/**
 * The same sliding window, counted in the database shared by every node: one upsert per request
 * (a counter row per key and fixed window, its condition checked on the locked row, so concurrent
 * nodes never count past the limit). A hit refused is not counted, as in memory. When the database
 * cannot answer, the node falls back to counting alone in memory rather than refusing everyone.
 */
export class SharedRateLimiter implements Limiter {
  private readonly fallback: RateLimiter;
  private nextPrune = 0;

  constructor(private readonly repo: SharedStateRepo, private readonly now: () => number = Date.now) {
    this.fallback = new RateLimiter(now);
  }

  async hit(key: string, limit: number, windowMs = 60_000): Promise<LimitResult> {
    const t = this.now();
    const windowStart = t - (t % windowMs);
    const weight = 1 - (t - windowStart) / windowMs;
    const resetSeconds = Math.ceil((windowStart + windowMs - t) / 1000);
    let counted;
    try {
      counted = await this.repo.countHit(key, windowStart, windowMs, limit, weight);
    } catch {
      return this.fallback.hit(key, limit, windowMs);
    }
    if (t >= this.nextPrune) {
      this.nextPrune = t + PRUNE_MS;
      this.repo.pruneCounters(t).catch(() => {});
    }
    if (!counted.counted) {
      const retryAfterSeconds = Math.max(1, counted.current > 0 ? resetSeconds : Math.ceil((t - windowStart) / 1000));
      return { allowed: false, limit, remaining: 0, retryAfterSeconds, resetSeconds };
    }
    // As in memory: what was used before this hit, and this one.
    const used = counted.previous * weight + counted.current - 1;
    return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - used - 1)), retryAfterSeconds: 0, resetSeconds };
  }
}
