/**
 * How a bind reacts to throttling answers (ESME_RTHROTTLED, ESME_RMSGQFUL). Two kinds of SMSC
 * throttle, and they call for opposite reactions:
 *  - **random throttling** (a busy SMSC refusing a share of submits whatever our rate): slowing
 *    down gains nothing, it only loses throughput; the throttled messages are simply retried.
 *  - **a rate limit** (the SMSC enforces fewer submits per second than we were told): throttles
 *    appear when our rate passes the limit and vanish below it; the bind must find the limit and
 *    follow it, or most of its submits are wasted.
 * The governor tells them apart by experiment. It measures the throttled share over intervals of
 * answers (each answer counted at the rate its submit was sent). When the share rises more than
 * `tolerance` above the random level it knows of, it cuts the rate to what the SMSC accepted and
 * measures again, once the SMSC's one-second window has forgotten the old rate:
 *  - the share fell (by more than the samples' luck explains): the throttles followed our rate,
 *    so the SMSC has a limit. The bind stays at ~95 % of it and later probes upwards in small additive
 *    steps (AIMD), so a limit that is lifted is noticed and one that stays costs few throttles;
 *  - the share stayed: the throttling is random. The old rate comes back and that share becomes
 *    the random level, above which the next experiment starts (a limit thought found before is
 *    dropped: a wrong verdict cannot ratchet the rate down);
 *  - the share stayed above half of the answers: the SMSC is refusing nearly everything whatever
 *    the rate (overloaded). The bind keeps the low rate and pauses for `backoffMs`.
 * The random level is set by an experiment and then follows the measured share only within a
 * sample's luck, so a limit that creeps down is still detected. Pausing on every throttle, as
 * some gateways do (Kannel sleeps a second per 0x58), collapses throughput on an SMSC that
 * throttles at random.
 */

/**
 * An interval ends after this long and MIN_SAMPLE answers; a clean one (no throttle) after
 * CLEAN_SAMPLE answers, or MAX_INTERVAL_MS, so that a slow bind climbs back at a useful pace.
 * A second at least: an SMSC counts over a (sliding) second, and one that limits the rate lets
 * the first submits of a second through and throttles the rest, so a shorter interval would
 * see a share that says nothing about the rate it accepts.
 */
const INTERVAL_MS = 1000;
const MIN_SAMPLE = 50;
/** The interval that concludes an experiment wants more (or MAX_INTERVAL_MS with MIN_SAMPLE). */
const PROBE_SAMPLE = 200;
const CLEAN_SAMPLE = 10;
const MAX_INTERVAL_MS = 5000;
/**
 * After a cut, answers to submits sent within this long are ignored: an SMSC that counts every
 * arrival in a sliding second still remembers the old rate for a second. After an idle second,
 * likewise: its window is empty and lets a first burst through.
 */
const SETTLE_MS = 1000;
/** Lowest rate, as a share of the configured TPS. */
const FLOOR = 0.02;
/** Stay this far below a limit found. */
const MARGIN = 0.95;
/** Above this share whatever the rate, the SMSC is overloaded, not randomly throttling. */
const OVERLOAD = 0.5;
/**
 * Far from any known limit, climb back multiplicatively (faster when not a single throttle came
 * back); near it, additively by STEP of it.
 */
const CLIMB = 1.2;
const CLEAN_CLIMB = 1.5;
const STEP = 0.03;
/** A limit is forgotten once the rate passed it by this factor with clean answers. */
const FORGET = 1.2;
/** Below a known limit, the rate is held this long before it probes upwards again. */
const HOLD_MS = 5000;
/** How fast the random level follows what is measured (an EWMA weight per interval). */
const DECAY = 0.05;

export type ThrottleVerdict =
  /** Throttling above the tolerance: the rate is cut to what the SMSC accepted, to see whether the throttles follow. */
  | 'probe'
  /** They did: the SMSC enforces a limit; the bind stays below it. */
  | 'limit'
  /** They did not: random throttling; the bind goes back to its rate, only the throttled messages are retried. */
  | 'random'
  /** Most submits throttled whatever the rate: the bind pauses. */
  | 'overload'
  /** Clean answers: the rate goes back up. */
  | 'climb';

export interface ThrottleDecision {
  verdict: ThrottleVerdict;
  pauseMs: number;
  rate: number;
  /** The throttled share measured over the interval that led to this decision. */
  share: number;
}

interface Probe {
  /** Share and number of answers before the cut. */
  share: number;
  answers: number;
  /** The rate to go back to if the throttling turns out random. */
  rate: number;
  /** The excess over the random level that started it. */
  threshold: number;
  /** The send rate at which the SMSC's limit is reached, if the throttles turn out to follow the rate. */
  limit: number;
}

interface Sample {
  share: number;
  answers: number;
  /** The rate the interval's submits were actually sent at (the queue may not keep the pace full). */
  sentRate: number;
}

/** Standard deviation of a share measured on `n` answers. */
const spread = (share: number, n: number): number => Math.sqrt((share * (1 - share)) / n);

export class ThrottleGovernor {
  /** The rate the bind should send at (submit_sm/s), at most the configured TPS. */
  rate: number;
  /** Share of throttling answers that does not depend on our rate (random throttling), as measured. */
  noise = 0;
  /** The send rate at which the SMSC starts throttling, when one was found; null otherwise. */
  limit: number | null = null;
  private probe: Probe | null = null;
  private holdUntil = 0;
  private start: number;
  /** Answers to submits sent before this time were sent at another rate: not counted. */
  private countFrom: number;
  /** The latest send time seen: a gap longer than the SMSC's window means it starts afresh. */
  private lastSent = -Infinity;
  private answers = 0;
  private throttled = 0;
  /** Send times of the interval's first and last counted answers. */
  private firstSent = 0;
  private lastCounted = 0;

  constructor(
    private readonly maxTps: number,
    private readonly tolerance: number,
    private readonly backoffMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.rate = maxTps;
    this.start = this.countFrom = this.now();
  }

  /**
   * Record one submit_sm answer (`sentAt`: when its submit was sent, on this governor's clock);
   * returns what the bind should do when that changes.
   */
  record(throttled: boolean, sentAt = this.now()): ThrottleDecision | null {
    if (sentAt - this.lastSent > SETTLE_MS + 1000 / this.rate) {
      // Idle for a second (or never sent): the SMSC's window is empty and lets a burst through,
      // so the next second says nothing about the rate it accepts.
      this.answers = this.throttled = 0;
      this.start = this.countFrom = sentAt + SETTLE_MS;
    }
    this.lastSent = Math.max(this.lastSent, sentAt);
    if (sentAt < this.countFrom) return null;
    if (this.answers === 0) this.firstSent = this.lastCounted = sentAt;
    this.firstSent = Math.min(this.firstSent, sentAt);
    this.lastCounted = Math.max(this.lastCounted, sentAt);
    this.answers += 1;
    if (throttled) this.throttled += 1;
    const elapsed = this.now() - this.start;
    if (elapsed < INTERVAL_MS) return null;
    if (this.probe && this.answers < PROBE_SAMPLE && (this.answers < MIN_SAMPLE || elapsed < MAX_INTERVAL_MS)) return null;
    if (this.answers < MIN_SAMPLE) {
      // Few answers: nothing to learn, unless they are clean enough to climb back.
      const clean = this.throttled === 0 && !this.probe;
      if (!clean || (this.answers < CLEAN_SAMPLE && elapsed < MAX_INTERVAL_MS)) return null;
      this.reset();
      return this.climb(0);
    }
    const span = this.lastCounted - this.firstSent;
    const sentRate = span > 0 ? Math.min(this.rate, ((this.answers - 1) * 1000) / span) : this.rate;
    const sample = { share: this.throttled / this.answers, answers: this.answers, sentRate };
    this.reset();
    return this.probe ? this.conclude(this.probe, sample) : this.watch(sample);
  }

  /** Outside an experiment: start one when throttling passes the tolerance, climb when clean. */
  private watch({ share, answers, sentRate }: Sample, backTo = this.rate): ThrottleDecision | null {
    const excess = share - this.noise;
    const luck = spread(share, answers);
    // The random level follows what is measured, down always, up only within the sample's luck:
    // a limit that creeps down must not pass for random throttling.
    if (excess <= 2 * luck) this.noise += DECAY * (share - this.noise);
    // Above what random throttling explains, and not the luck of the sample. Probing above a
    // known limit, a smaller excess already says the limit is there again.
    const threshold = this.limit !== null && this.rate > this.limit * MARGIN ? this.tolerance / 4 : this.tolerance;
    if (excess > threshold && excess > 3 * luck) {
      // Already at the floor: no experiment left to make.
      if (this.rate <= this.maxTps * FLOOR) return share >= OVERLOAD ? this.decision('overload', this.backoffMs, share) : null;
      // If the SMSC has a limit, it is what it accepted (the random share aside).
      const limit = (sentRate * (1 - share)) / (1 - this.noise);
      this.probe = { rate: backTo, share, answers, limit, threshold };
      return this.change('probe', limit * MARGIN, share);
    }
    return excess <= this.tolerance / 4 ? this.climb(share) : null;
  }

  /** The interval after a cut: did the throttles follow the rate? */
  private conclude(probe: Probe, sample: Sample): ThrottleDecision | null {
    const { share } = sample;
    this.probe = null;
    const fell = probe.share - share;
    const luck = 3 * Math.hypot(spread(probe.share, probe.answers), spread(share, sample.answers));
    if (fell > probe.threshold / 2 && fell > luck) {
      this.limit = probe.limit;
      this.holdUntil = this.now() + HOLD_MS;
      // Still too many at the lower rate (the limit moved down meanwhile): cut again.
      return share - this.noise > this.tolerance ? this.watch(sample) : this.decision('limit', 0, share);
    }
    // More throttles at a lower rate: the limit moved down meanwhile. Measure again from here.
    if (-fell > luck) return this.watch(sample, probe.rate);
    if (share >= OVERLOAD) return this.decision('overload', this.backoffMs, share);
    // Both intervals measured the same random share: pool them. A limit thought found is not
    // where the throttles come from.
    this.noise = (probe.share * probe.answers + share * sample.answers) / (probe.answers + sample.answers);
    this.limit = null;
    return this.change('random', probe.rate, share);
  }

  private climb(share: number): ThrottleDecision | null {
    if (this.rate >= this.maxTps || this.now() < this.holdUntil) return null;
    const limit = this.limit;
    if (limit !== null && this.rate >= limit * FORGET) this.limit = null;
    const next = this.limit !== null ? this.rate + Math.max(0.5, this.limit * STEP) : this.rate * (share === 0 ? CLEAN_CLIMB : CLIMB) + 1;
    return this.change('climb', next, share);
  }

  private change(verdict: ThrottleVerdict, rate: number, share: number): ThrottleDecision {
    const before = this.rate;
    this.rate = Math.min(this.maxTps, Math.max(this.maxTps * FLOOR, rate));
    // Answers to what was sent at the old rate say nothing about the new one; after a cut, wait
    // until the SMSC's window has forgotten the old rate too.
    if (this.rate !== before) this.reset(this.rate < before ? SETTLE_MS : 0);
    return this.decision(verdict, 0, share);
  }

  private decision(verdict: ThrottleVerdict, pauseMs: number, share: number): ThrottleDecision {
    if (pauseMs > 0) this.reset(pauseMs + SETTLE_MS);
    return { verdict, pauseMs, rate: this.rate, share };
  }

  /** A new interval; with `settleMs`, one that counts only submits sent that long from now. */
  private reset(settleMs?: number): void {
    this.answers = this.throttled = 0;
    this.start = this.now();
    if (settleMs !== undefined) this.start = this.countFrom = this.start + settleMs;
  }
}
