/**
 * Per-bind throughput pacing. Two rules hold at once:
 *  - never more than `tps` sends in ANY sliding one-second window (a ring of the last `tps` send
 *    times: the oldest must be at least 1 s old), and
 *  - sends are spread evenly (one every 1/tps s) instead of bursting a second's quota at its
 *    start, because SMSCs that police with a token bucket throttle bursts.
 * Slots are scheduled from the previous slot, not from the timer's (late) firing, so timer
 * lateness does not shave the rate; the ring keeps that catch-up from ever breaking the window.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One second plus a 5 % margin. The SMSC counts by arrival time, and arrivals bunch (its own
 * event loop, the network, our catch-up after a busy moment): measured on loopback at 2 000 TPS,
 * a 1 % margin let the simulator count 2 050 in one second. 50 ms of slack absorbs that.
 */
const WINDOW_MS = 1050;
const CATCH_UP_MS = 50;
const RELEASE_CHECK_MS = 50;

export class Pacer {
  private spacing: number;
  /**
   * How far behind schedule we may catch up: timers fire late when the event loop is busy (an
   * HTTP burst of bulk sends), and slots lost then are made up within the next 50 ms instead of
   * being lost. The ring still holds the sliding-second limit.
   */
  private catchUp: number;
  private ring: Float64Array;
  private ringPos = 0;
  private lastSlot = -Infinity;
  private pausedUntil = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Stopping: every turn, waiting or to come, is granted at once (the caller then sends nothing). */
  private released = false;

  constructor(private configured: number, private readonly now: () => number = () => performance.now()) {
    const tps = configured;
    this.spacing = 1000 / tps;
    this.catchUp = Math.max(this.spacing, CATCH_UP_MS);
    // A ring of ceil(tps) entries; fractional TPS (0.5) still needs one entry.
    this.ring = new Float64Array(Math.max(1, Math.floor(tps))).fill(-Infinity);
  }

  get tps(): number {
    return this.configured;
  }

  /**
   * A reload's new TPS, on the running schedule: the last second's sends stay in the ring, so
   * a lower TPS holds from the very next send and turns already waiting keep their order.
   */
  retune(tps: number): void {
    const size = Math.max(1, Math.floor(tps));
    const recent = [...this.ring.subarray(this.ringPos), ...this.ring.subarray(0, this.ringPos)].slice(-size);
    const ring = new Float64Array(size).fill(-Infinity);
    ring.set(recent, size - recent.length);
    this.ring = ring;
    this.ringPos = 0;
    this.configured = tps;
    this.setRate(tps);
  }

  /** Resolves when the caller may send one PDU; calls are served in order. */
  acquire(): Promise<void> {
    const turn = this.chain.then(() => this.waitForSlot());
    this.chain = turn;
    return turn;
  }

  /** At stop: waiting turns end now, so nothing queued behind the pacing holds the shutdown. */
  release(): void {
    this.released = true;
  }

  /** A stopped bind started again (a node regaining a bind's lease): pacing holds again. */
  rearm(): void {
    this.released = false;
  }

  /** Send slower than the configured TPS (never faster: the ring keeps the hard limit). */
  setRate(rate: number): void {
    const r = Math.min(rate, this.tps);
    this.spacing = 1000 / r;
    this.catchUp = Math.max(this.spacing, CATCH_UP_MS);
  }

  get rate(): number {
    return 1000 / this.spacing;
  }

  /** Stop sending until `ms` from now (after a throttling answer). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  get paused(): boolean {
    return this.now() < this.pausedUntil;
  }

  private earliest(): number {
    const oldest = this.ring[this.ringPos] ?? -Infinity;
    return Math.max(this.lastSlot + this.spacing, oldest + WINDOW_MS, this.pausedUntil);
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      if (this.released) return;
      const wait = this.earliest() - this.now();
      if (wait <= 0) break;
      // Long waits (a throttling pause) in steps, so a release is seen within 50 ms.
      await sleep(Math.max(1, Math.ceil(Math.min(wait, RELEASE_CHECK_MS))));
    }
    const t = this.now();
    // Slightly late: keep the schedule. Idle for longer: restart it from (almost) now.
    this.lastSlot = Math.max(this.lastSlot + this.spacing, t - this.catchUp);
    this.ring[this.ringPos] = t;
    this.ringPos = (this.ringPos + 1) % this.ring.length;
  }
}
