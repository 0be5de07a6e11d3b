/**
 * What a bind did lately (`relais status`, the console's charts): counts in fixed time buckets
 * over a sliding span — 60 one-second buckets for "the last minute", 15 one-minute buckets for a
 * chart — so a figure moves smoothly and costs a few array writes per PDU.
 */
export class RecentCounts<K extends string> {
  private readonly counts: Map<K, Uint32Array>;
  /** The bucket number each slot holds (a stale slot is cleared before reuse). */
  private readonly stamps: Float64Array;

  constructor(kinds: readonly K[], private readonly bucketMs: number, private readonly buckets: number, private readonly now: () => number = Date.now) {
    this.counts = new Map(kinds.map((k) => [k, new Uint32Array(buckets)]));
    this.stamps = new Float64Array(buckets).fill(-1);
  }

  add(kind: K, n = 1): void {
    const bucket = Math.floor(this.now() / this.bucketMs);
    const slot = bucket % this.buckets;
    if (this.stamps[slot] !== bucket) {
      this.stamps[slot] = bucket;
      for (const row of this.counts.values()) row[slot] = 0;
    }
    this.counts.get(kind)![slot]! += n;
  }

  /** Totals over the whole span (the current, partial bucket included), per kind. */
  totals(): Record<K, number> {
    const oldest = Math.floor(this.now() / this.bucketMs) - this.buckets;
    const out = {} as Record<K, number>;
    for (const [kind, row] of this.counts) {
      let sum = 0;
      for (let i = 0; i < this.buckets; i++) if (this.stamps[i]! > oldest) sum += row[i]!;
      out[kind] = sum;
    }
    return out;
  }

  /** One entry per bucket of the span, oldest first, empty ones included; `at` is the bucket's start. */
  series(): (Record<K, number> & { at: number })[] {
    const current = Math.floor(this.now() / this.bucketMs);
    const out: (Record<K, number> & { at: number })[] = [];
    for (let bucket = current - this.buckets + 1; bucket <= current; bucket++) {
      const slot = bucket % this.buckets;
      const entry = { at: bucket * this.bucketMs } as Record<K, number> & { at: number };
      for (const [kind, row] of this.counts) (entry as Record<K, number>)[kind] = this.stamps[slot] === bucket ? row[slot]! : 0;
      out.push(entry);
    }
    return out;
  }
}
