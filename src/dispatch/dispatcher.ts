/**
 * The only code that moves messages from the queue into bind windows. One loop for all
 * operators: claim as many due messages as the operator's bound binds can absorb, submit every
 * part, and hand each message's outcome to the ledger (which writes them in batches).
 * An operator with no bound bind is simply not claimed for, so its messages wait in the
 * database: no claim → fail → requeue storm while a link is down.
 */
import type { Logger } from 'pino';
import type { DispatcherConfig, OperatorConfig } from '../config/schema.js';
import type { Metrics } from '../ops/metrics.js';
import { statusName } from '../smpp/bind.js';
import { encodeMessage } from '../smpp/codec.js';
import type { Placement } from '../cluster/placement.js';
import type { BlacklistRepo } from '../store/blacklist.js';
import type { Store } from '../store/db.js';
import { StorageUnavailable } from '../store/health.js';
import type { AckedPart, ClaimedMessage, Outcome } from '../store/queue.js';
import type { Ledger } from './ledger.js';
import type { SmppLink, SubmitOutcome } from './link.js';
import { retryDelay } from './retry.js';

/** Throttled or queue-full answers: retry soon; the bind itself is already pausing. */
const THROTTLE_RETRY_MS = 250;
const HOUSEKEEPING_MS = 5000;


export interface DispatcherDeps {
  store: Store;
  ledger: Ledger;
  binds: readonly SmppLink[];
  operators: readonly OperatorConfig[];
  /** Updated in place by a reload (see retime). */
  cfg: DispatcherConfig;
  log: Logger;
  metrics: Metrics;
  blacklist: Pick<BlacklistRepo, 'isBlacklisted'>;
  /** Whose claims these are, whether this node may claim now, what other nodes have bound. */
  placement: Pick<Placement, 'lease' | 'canClaim' | 'boundElsewhere'>;
}

export class Dispatcher {
  private bindsOf = new Map<string, SmppLink[]>();
  private registeredDelivery = new Map<string, boolean>();
  /** Operators asked for receipts: their messages wait for one (dispatcher.receipt_wait). */
  private expectingReceipts: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private pollMs = 0;
  private housekeeping: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private claiming = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.setTopology(deps.binds, deps.operators);
  }

  /**
   * A reload's operators and binds: the next claim sizes itself on them. A claim already under
   * way finishes on the binds it chose (a bind being removed refuses what it has not sent, and
   * that goes back to the queue).
   */
  setTopology(binds: readonly SmppLink[], operators: readonly OperatorConfig[]): void {
    this.bindsOf = new Map(operators.map((op) => [op.name, binds.filter((b) => b.operator === op.name && b.sends)]));
    this.registeredDelivery = new Map(operators.map((op) => [op.name, op.registered_delivery]));
    this.expectingReceipts = operators.filter((op) => op.registered_delivery).map((op) => op.name);
  }

  /**
   * After a reload changed the dispatcher's values (every other value is read at each use from
   * the config object, which the reload updates in place): a new poll interval restarts the timer.
   */
  retime(): void {
    if (!this.timer || this.pollMs === this.deps.cfg.poll_interval_ms) return;
    clearInterval(this.timer);
    this.pollMs = this.deps.cfg.poll_interval_ms;
    this.timer = setInterval(() => this.tick(), this.pollMs);
  }

  start(): void {
    this.running = true;
    this.pollMs = this.deps.cfg.poll_interval_ms;
    this.timer = setInterval(() => this.tick(), this.pollMs);
    this.housekeeping = setInterval(() => void this.expire(), HOUSEKEEPING_MS);
    void this.expire();
  }

  /** Stop claiming, at once (the binds are stopped next: their windows decide what is left). */
  halt(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.housekeeping) clearInterval(this.housekeeping);
    this.timer = this.housekeeping = null;
  }

  /** Stop claiming, wait for every claimed message to reach an outcome, flush the ledger. */
  async stop(): Promise<void> {
    this.halt();
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
    await this.deps.ledger.flush();
  }

  /**
   * Operators that currently have no bind able to submit, here or on another node: candidates
   * for failover.
   */
  private downOperators(): string[] {
    const elsewhere = this.deps.placement.boundElsewhere();
    return [...this.bindsOf].filter(([name, binds]) => !binds.some((b) => b.canSubmit) && !elsewhere.has(name)).map(([name]) => name);
  }

  /**
   * Nothing is claimed while the database cannot write (a claim is a write, and so is every
   * outcome): messages stay queued until the store's probe says it can again.
   */
  tick(): void {
    if (!this.running || this.claiming || !this.deps.store.health.writable || !this.deps.placement.canClaim) return;
    this.claiming = true;
    this.track(this.claimAll().then((full) => {
      this.claiming = false;
      // A full batch means more is due: claim again now rather than one poll interval later.
      if (full) setImmediate(() => this.tick());
    }, (err: unknown) => {
      this.claiming = false;
      if (!(err instanceof StorageUnavailable)) this.deps.log.error({ err }, 'claim failed');
    }));
  }


  /** One claim per operator with room; true when some claim filled its whole batch. */
  private async claimAll(): Promise<boolean> {
    const now = Date.now();
    const down = this.downOperators();
    let full = false;
    for (const [operator, binds] of this.bindsOf) {
      const room = binds.reduce((n, b) => n + b.available, 0);
      if (room <= 0 || !this.running) continue;
      const failoverFrom = down.filter((d) => d !== operator);
      const batch = Math.min(room, this.deps.cfg.batch_size);
      // Each claim statement re-checks the rows it takes (and skips those another node is taking).
      const claimed = await this.deps.store.transaction((tx) => tx.queue.claim(operator, failoverFrom, now, batch, this.deps.placement.lease(now)), { isolation: 'read-committed' });
      if (claimed.length === batch && batch === this.deps.cfg.batch_size) full = true;
      for (const msg of claimed) this.track(this.dispatch(msg, operator, binds, now));
    }
    return full;
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async dispatch(msg: ClaimedMessage, operator: string, binds: SmppLink[], now: number): Promise<void> {
    const base = { ...messageRef(msg), operator, acked: [] as AckedPart[], mask: msg.acked_mask };
    if (msg.expires_at <= now) {
      void this.deps.ledger.pushOutcome({ ...base, bind: null, kind: 'failed', state: 'expired', errorCode: null, error: 'validity period passed before submission' });
      return;
    }
    // Checked again here: the number may have opted out while the message waited (scheduled, retried).
    if (this.deps.blacklist.isBlacklisted(msg.recipient, msg.account_id)) {
      void this.deps.ledger.pushOutcome({ ...base, bind: null, kind: 'failed', state: 'failed', errorCode: null, error: 'blacklisted: the number opted out or was blacklisted before submission' });
      return;
    }
    const bind = leastLoaded(binds);
    if (!bind) {
      void this.deps.ledger.pushOutcome({ ...base, bind: null, kind: 'retry', notBefore: now, errorCode: null, error: 'no bound bind', countAttempt: false });
      return;
    }
    let encoded;
    try {
      encoded = encodeMessage(msg.body, msg.id & 0xff);
    } catch (err) {
      void this.deps.ledger.pushOutcome({ ...base, bind: bind.name, kind: 'failed', state: 'failed', errorCode: null, error: `cannot encode: ${(err as Error).message}` });
      return;
    }
    const todo = encoded.parts.map((sm, i) => ({ partNo: i + 1, sm })).filter(({ partNo }) => !isAcked(msg.acked_mask, partNo));
    // The parts keep their window slots until the outcome is committed (see SmppLink.submit).
    let markWritten = (): void => {};
    const written = this.deps.cfg.hold_window_until_written ? new Promise<void>((resolve) => (markWritten = resolve)) : undefined;
    const results = await Promise.all(todo.map(({ partNo, sm }) => bind.submit({
      source: msg.sender, destination: msg.recipient, dataCoding: encoded.dataCoding, udhi: encoded.udhi,
      shortMessage: sm, registeredDelivery: this.registeredDelivery.get(operator) ?? true,
    }, written).then((outcome) => ({ partNo, outcome }))));
    void this.deps.ledger.pushOutcome(this.decide(msg, operator, bind, results)).then(markWritten);
  }

  /** One message's outcome from its parts' answers. */
  private decide(msg: ClaimedMessage, operator: string, bind: SmppLink, results: { partNo: number; outcome: SubmitOutcome }[]): Outcome {
    const { metrics, cfg } = this.deps;
    const acked: AckedPart[] = [];
    let mask = msg.acked_mask;
    let worst: SubmitOutcome | null = null;
    for (const { partNo, outcome } of results) {
      metrics.submits.inc({ operator, bind: bind.name, result: resultLabel(outcome) });
      if (outcome.kind === 'accepted') {
        metrics.latency.observe({ operator }, outcome.latencyMs / 1000);
        acked.push({ partNo, smscId: outcome.smscId, rawId: outcome.rawId });
        mask = setAcked(mask, partNo);
        continue;
      }
      if (outcome.kind === 'timeout' || (outcome.kind === 'link_lost' && outcome.sent)) {
        metrics.possibleDuplicates.inc({ operator, bind: bind.name, cause: outcome.kind });
      }
      if (!worst || severity(outcome) > severity(worst)) worst = outcome;
    }
    const base = { ...messageRef(msg), operator, bind: bind.name, acked, mask };
    if (!worst) return { ...base, kind: 'sent', firstRawId: acked.find((a) => a.partNo === 1)?.rawId ?? acked[0]?.rawId ?? null };
    const now = Date.now();
    switch (worst.kind) {
      case 'permanent':
        return { ...base, kind: 'failed', state: 'failed', errorCode: worst.status, error: `rejected by SMSC: ${statusName(worst.status)}` };
      case 'timeout':
        if (cfg.on_response_timeout === 'fail') {
          return { ...base, kind: 'failed', state: 'failed', errorCode: null, error: 'no submit_sm_resp within the response timeout (not retried: dispatcher.on_response_timeout is "fail")' };
        }
        return this.retry(msg, base, now, null, 'no submit_sm_resp within the response timeout', true);
      case 'transient': {
        const throttled = worst.status === 0x58 || worst.status === 0x14;
        return throttled
          ? { ...base, kind: 'retry', notBefore: now + THROTTLE_RETRY_MS, errorCode: worst.status, error: statusName(worst.status), countAttempt: false }
          : this.retry(msg, base, now, worst.status, `temporary SMSC error ${statusName(worst.status)}`, true);
      }
      case 'link_lost':
        return worst.sent
          ? this.retry(msg, base, now, null, 'link lost before submit_sm_resp', true)
          : { ...base, kind: 'retry', notBefore: now, errorCode: null, error: 'link lost before submit', countAttempt: false };
      default:
        throw new Error('unreachable');
    }
  }

  private retry(msg: ClaimedMessage, base: Omit<Outcome & { kind: 'sent' }, 'kind' | 'firstRawId'>, now: number, errorCode: number | null, error: string, countAttempt: boolean): Outcome {
    if (countAttempt && msg.attempts >= this.deps.cfg.max_attempts) {
      return { ...base, kind: 'failed', state: 'failed', errorCode, error: `${error}; gave up after ${msg.attempts} attempts` };
    }
    return { ...base, kind: 'retry', notBefore: now + retryDelay(msg.attempts, this.deps.cfg), errorCode, error, countAttempt };
  }

  private async expire(): Promise<void> {
    if (!this.deps.store.health.writable) return;
    try {
      const expired = await this.deps.ledger.expireOverdue(Date.now());
      if (expired) this.deps.log.info({ count: expired }, 'queued messages expired (validity period passed)');
      const unconfirmed = await this.deps.ledger.endUnconfirmed(Date.now(), this.deps.cfg.receipt_wait * 1000, this.expectingReceipts);
      if (unconfirmed) this.deps.log.info({ count: unconfirmed }, 'sent messages ended unconfirmed (no receipt within dispatcher.receipt_wait)');
      const matched = await this.deps.ledger.applyParkedMatches();
      if (matched) this.deps.log.info({ count: matched }, 'parked receipts matched parts written since (another node, or between two flushes)');
      await this.deps.ledger.purgePending(24 * 3600_000);
    } catch (err) {
      this.deps.log.error({ err }, 'housekeeping failed');
    }
  }
}

const messageRef = (msg: ClaimedMessage) => ({ id: msg.id, accountId: msg.account_id, recipient: msg.recipient, webhookUrl: msg.webhook_url, createdAt: msg.created_at });

function leastLoaded(binds: readonly SmppLink[]): SmppLink | undefined {
  let best: SmppLink | undefined;
  for (const b of binds) if (b.canSubmit && (!best || b.load / b.tps < best.load / best.tps)) best = b;
  return best;
}

/** Which answer decides a message whose parts ended differently (highest wins). */
function severity(o: SubmitOutcome): number {
  return { accepted: 0, link_lost: 1, transient: 2, timeout: 3, permanent: 4 }[o.kind];
}

function resultLabel(o: SubmitOutcome): string {
  switch (o.kind) {
    case 'accepted': return 'ok';
    case 'transient': return o.status === 0x58 ? 'throttled' : o.status === 0x14 ? 'queue_full' : 'temporary_error';
    case 'permanent': return 'rejected';
    case 'timeout': return 'timeout';
    case 'link_lost': return o.sent ? 'link_lost' : 'not_sent';
  }
}

// Up to 32 parts: bit arithmetic on numbers, not 32-bit bitwise ops (which sign-flip bit 31).
const isAcked = (mask: number, partNo: number): boolean => Math.floor(mask / 2 ** (partNo - 1)) % 2 === 1;
const setAcked = (mask: number, partNo: number): number => (isAcked(mask, partNo) ? mask : mask + 2 ** (partNo - 1));
