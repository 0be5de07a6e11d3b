/**
 * How a bind reacts to throttling answers (ESME_RTHROTTLED, ESME_RMSGQFUL). An isolated throttle
 * is an SMSC hiccup: that message is re-queued and the bind keeps its pace. When throttling is a
 * real share of the answers (above `tolerance` over a measured interval), the SMSC is saying our
 * rate is above what it takes: the bind pauses for `backoffMs` and cuts its rate by the throttled
 * share (so it lands near the rate the SMSC accepted), then climbs back towards the configured
 * TPS while answers come back clean. Pausing on every single throttle, as some gateways do,
 * collapses throughput on an SMSC that throttles a few percent at random.
 */
const INTERVAL_MS = 500;
/** A share measured on fewer answers says nothing; keep measuring (up to MAX_INTERVAL_MS). */
const MIN_SAMPLE = 50;
const MAX_INTERVAL_MS = 5000;
const FLOOR = 0.02;
const CLIMB = 1.1;

export interface ThrottleDecision {
  pauseMs: number;
  rate: number;
}

export class ThrottleGovernor {
  private start: number;
  private answers = 0;
  private throttled = 0;
  rate: number;

  constructor(
    private readonly maxTps: number,
    private readonly tolerance: number,
    private readonly backoffMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.rate = maxTps;
    this.start = this.now();
  }

  /** Record one submit_sm answer; returns what the bind should do when that changes. */
  record(throttled: boolean): ThrottleDecision | null {
    this.answers += 1;
    if (throttled) this.throttled += 1;
    const elapsed = this.now() - this.start;
    if (elapsed < INTERVAL_MS || (this.answers < MIN_SAMPLE && elapsed < MAX_INTERVAL_MS)) return null;
    return this.decide();
  }

  private decide(): ThrottleDecision | null {
    const share = this.throttled / this.answers;
    const significant = this.answers >= MIN_SAMPLE;
    this.start = this.now();
    this.answers = this.throttled = 0;
    const before = this.rate;
    if (significant && share > this.tolerance) {
      this.rate = Math.max(this.maxTps * FLOOR, this.rate * (1 - share));
      return { pauseMs: this.backoffMs, rate: this.rate };
    }
    if (share <= this.tolerance / 2 && this.rate < this.maxTps) this.rate = Math.min(this.maxTps, this.rate * CLIMB + 1);
    return this.rate !== before ? { pauseMs: 0, rate: this.rate } : null;
  }
}
