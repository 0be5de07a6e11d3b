/**
 * Fixed-size sliding-window rate limiting (two one-minute buckets, weighted), per key — a
 * credential and a route group. In memory: one process is the whole gateway.
 */
export interface LimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  retryAfterSeconds: number;
}

const WINDOW_MS = 60_000;

export class RateLimiter {
  private readonly buckets = new Map<string, { start: number; current: number; previous: number }>();
  private sweeps = 0;

  constructor(private readonly now: () => number = Date.now) {}

  hit(key: string, limit: number): LimitResult {
    const t = this.now();
    const windowStart = t - (t % WINDOW_MS);
    let b = this.buckets.get(key);
    if (!b || windowStart - b.start >= 2 * WINDOW_MS) b = { start: windowStart, current: 0, previous: 0 };
    else if (windowStart > b.start) b = { start: windowStart, current: 0, previous: b.current };
    const weight = 1 - (t - windowStart) / WINDOW_MS;
    const used = b.previous * weight + b.current;
    if (used + 1 > limit) {
      this.buckets.set(key, b);
      const retry = Math.max(1, Math.ceil((b.current > 0 ? windowStart + WINDOW_MS - t : (t - windowStart)) / 1000));
      return { allowed: false, limit, remaining: 0, retryAfterSeconds: retry };
    }
    b.current += 1;
    this.buckets.set(key, b);
    if (++this.sweeps % 10_000 === 0) this.sweep(windowStart);
    return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - used - 1)), retryAfterSeconds: 0 };
  }

  private sweep(windowStart: number): void {
    for (const [k, b] of this.buckets) if (windowStart - b.start >= 2 * WINDOW_MS) this.buckets.delete(k);
  }
}
