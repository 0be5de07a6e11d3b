/**
 * What a bind did in the last minute (`relais status`): counts in one-second buckets over a
 * sliding 60 s, so the figure moves smoothly and costs a few array writes per PDU.
 */
const SECONDS = 60;

export class LastMinute<K extends string> {
  private readonly counts: Map<K, Uint32Array>;
  /** The second each bucket holds (a stale bucket is cleared before reuse). */
  private readonly stamps = new Float64Array(SECONDS).fill(-1);

  constructor(kinds: readonly K[], private readonly now: () => number = Date.now) {
    this.counts = new Map(kinds.map((k) => [k, new Uint32Array(SECONDS)]));
  }

  add(kind: K, n = 1): void {
    const second = Math.floor(this.now() / 1000);
    const slot = second % SECONDS;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      for (const row of this.counts.values()) row[slot] = 0;
    }
    this.counts.get(kind)![slot]! += n;
  }

  /** Totals of the last 60 s, per kind. */
  totals(): Record<K, number> {
    const oldest = Math.floor(this.now() / 1000) - SECONDS;
    const out = {} as Record<K, number>;
    for (const [kind, row] of this.counts) {
      let sum = 0;
      for (let i = 0; i < SECONDS; i++) if (this.stamps[i]! > oldest) sum += row[i]!;
      out[kind] = sum;
    }
    return out;
  }
}
