/**
 * Sliding-window rate limiting (two fixed windows, weighted), per key — a credential and a route
 * group. Each key keeps its own window length: most limits are per minute, Mifumo documents some
 * per hour. In memory: one process is the whole gateway.
 */
export interface LimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  retryAfterSeconds: number;
  /** Seconds until the current window ends (X-RateLimit-Reset). */
  resetSeconds: number;
}

interface Bucket {
  windowMs: number;
  start: number;
  current: number;
  previous: number;
}

export class RateLimiter {
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
