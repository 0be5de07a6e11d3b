/**
 * The write side of the gateway: dispatch outcomes, receipts and MO messages are buffered for a
 * few milliseconds and written in one transaction, then acknowledged. Receipts and outcomes go
 * through the same flush, in that order, so a receipt that beats its submit_sm_resp still finds
 * its part; one that finds nothing is kept (in memory and in `pending_receipts`) and applied
 * when the part's id lands.
 */
import type { Logger } from 'pino';
import type { Ack, InboundMo, InboundReceipt } from '../smpp/bind.js';
import type { ReceiptStat } from '../smpp/receipt.js';
import { GLOBAL_ACCOUNT } from '../store/blacklist.js';
import type { Store } from '../store/db.js';
import { StorageUnavailable } from '../store/health.js';
import type { Outcome, ReceiptHit, ReceiptUpdate } from '../store/queue.js';
import type { Repos } from '../store/repos.js';
import type { MessageState } from '../store/tables.js';

/**
 * How long outcomes wait for company before a flush. Short: a bind's window slots are held until
 * their outcomes commit (dispatcher.hold_window_until_written), so this is paid on every slot's
 * turn; at 10 ms bulk sends lost a third of their rate. Under load, batches still grow by
 * themselves while the previous flush runs.
 */
const FLUSH_MS = 1;
const FLUSH_AT = 2000;
/** Messages looked at per receipt-wait sweep (the oldest waiting ones). */
const UNCONFIRMED_CHUNK = 5000;
/** After a flush that could not commit (disk full): try again this much later, keeping the batch. */
const RETRY_MS = 1000;

const STATE_OF: Record<ReceiptStat, ReceiptUpdate['state'] | null> = {
  DELIVRD: 'delivered', UNDELIV: 'undelivered', EXPIRED: 'expired', REJECTD: 'rejected',
  DELETED: 'undelivered', UNKNOWN: 'undelivered', ACCEPTD: null, ENROUTE: null,
};

/** What happened, after commit: the hook for metrics now and webhooks later. */
export type LedgerEvent =
  | { type: 'outcome'; outcome: Outcome }
  | { type: 'final'; message: ReceiptHit; state: MessageState }
  | { type: 'mo'; id: number; mo: InboundMo; optOut: boolean };

export interface LedgerDeps {
  store: Store;
  /** This node: outcomes change only the messages it still has claimed. */
  node: string;
  optOutKeywords: readonly string[];
  log: Logger;
  /** Runs on the flush transaction: what it writes (the webhook outbox) commits with the change. */
  inTransaction?: (tx: Repos, events: LedgerEvent[]) => Promise<void>;
  /** Runs after commit (metrics, waking the webhook worker). */
  onEvents?: (events: LedgerEvent[]) => void;
}

export class Ledger {
  private outcomes: { o: Outcome; written: () => void }[] = [];
  private receipts: { r: InboundReceipt; ack: Ack }[] = [];
  private mos: { mo: InboundMo; ack: Ack }[] = [];
  private readonly pending = new Map<string, ReceiptUpdate>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The flush under way: flushes never overlap, and stop() can wait for the last one. */
  private flushing: Promise<void> | null = null;
  private readonly optOut: Set<string>;

  constructor(private readonly deps: LedgerDeps) {
    this.optOut = new Set(deps.optOutKeywords.map(keywordKey));
  }

  async loadPending(): Promise<void> {
    for (const row of await this.deps.store.repos.queue.loadPendingReceipts()) {
      const state = STATE_OF[row.stat as ReceiptStat];
      if (state) this.pending.set(`${row.operator}|${row.smsc_id}`, { operator: row.operator, smscId: row.smsc_id, stat: row.stat, state, err: row.err, text: row.text, at: row.received_at });
    }
  }

  /** Resolves once the outcome is committed (or the ledger closes without it: then it never will be here). */
  pushOutcome(o: Outcome): Promise<void> {
    return new Promise<void>((written) => {
      this.outcomes.push({ o, written });
      this.schedule();
    });
  }

  pushReceipt(r: InboundReceipt, ack: Ack): void {
    this.receipts.push({ r, ack });
    this.schedule();
  }

  pushMo(mo: InboundMo, ack: Ack): void {
    this.mos.push({ mo, ack });
    this.schedule();
  }

  private schedule(delay = FLUSH_MS): void {
    if (this.closed) return;
    if (delay === FLUSH_MS && this.outcomes.length + this.receipts.length + this.mos.length >= FLUSH_AT) {
      // A big buffer flushes now; while a flush is under way, one more is booked for right after
      // it (not one per item pushed: thousands of waiters on a slow commit starve the loop).
      if (!this.flushing) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), 0);
      return;
    }
    this.timer ??= setTimeout(() => void this.flush(), delay);
  }

  /**
   * Writes everything buffered in one transaction, then acks and events; resolves when done.
   * Never throws: a batch that cannot commit is kept (outcomes) or refused to the SMSC (receipts
   * and MO, which it sends again) and tried again later.
   */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.flushing) await this.flushing.catch(() => undefined);
    const run = this.write();
    this.flushing = run;
    try {
      await run;
    } finally {
      this.flushing = null;
    }
  }

  /**
   * The last flush, at stop: one try, no retry after. Outcomes it could not write leave their
   * messages `submitting`, which the next start re-queues (counted as possible duplicates).
   */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.outcomes.length) this.deps.log.warn({ outcomes: this.outcomes.length }, 'stopped with outcomes not written: their messages are re-queued at the next start');
    for (const { written } of this.outcomes) written();
  }

  private async write(): Promise<void> {
    const outcomes = this.outcomes;
    const receipts = this.receipts;
    const mos = this.mos;
    if (!outcomes.length && !receipts.length && !mos.length) return;
    this.outcomes = [];
    this.receipts = [];
    this.mos = [];
    let events: LedgerEvent[] = [];
    let parking = new Parking(this.pending);
    const now = Date.now();
    try {
      // Each statement re-checks the row it changes, so the batch needs no more isolation than
      // read-committed; a retried attempt (PostgreSQL) starts from fresh events and parking.
      await this.deps.store.transaction(async (tx) => {
        events = [];
        parking = new Parking(this.pending);
        await this.writeOutcomes(tx, outcomes.map(({ o }) => o), now, events, parking);
        await this.writeReceipts(tx, receipts.map(({ r }) => r), now, events, parking);
        for (const { mo } of mos) await this.writeMo(tx, mo, now, events);
        await this.deps.inTransaction?.(tx, events);
      }, { isolation: 'read-committed' });
    } catch (err) {
      // Nothing was committed. Outcomes are kept for the next try (their messages stay
      // `submitting` meanwhile); receipts and MO are refused, and the SMSC sends them again.
      if (err instanceof StorageUnavailable) this.deps.log.warn({ outcomes: outcomes.length, receipts: receipts.length, mo: mos.length }, 'ledger flush cannot commit (database not writable): batch kept, retrying');
      else this.deps.log.error({ err }, 'ledger flush failed: batch kept, retrying');
      this.outcomes = outcomes.concat(this.outcomes);
      for (const { ack } of [...receipts, ...mos]) ack(0x08);
      this.schedule(RETRY_MS);
      return;
    }
    parking.commit();
    for (const { written } of outcomes) written();
    for (const { ack } of receipts) ack();
    for (const { ack } of mos) ack();
    this.deps.onEvents?.(events);
  }

  private async writeOutcomes(tx: Repos, outcomes: Outcome[], now: number, events: LedgerEvent[], parking: Parking): Promise<void> {
    await tx.queue.applyOutcomes(outcomes, now, this.deps.node);
    for (const o of outcomes) {
      events.push({ type: 'outcome', outcome: o });
      if (o.kind === 'failed') await tx.credits.refundUnsent(o.id);
      // A receipt that arrived before this submit_sm_resp was parked: apply it now.
      for (const part of o.acked) {
        const early = parking.take(`${o.operator}|${part.smscId}`);
        if (!early) continue;
        await tx.queue.dropPendingReceipt(o.operator, part.smscId);
        await this.applyReceipt(tx, early, events);
      }
    }
  }

  private async writeReceipts(tx: Repos, receipts: readonly InboundReceipt[], now: number, events: LedgerEvent[], parking: Parking): Promise<void> {
    // ENROUTE / ACCEPTD are intermediate: nothing changes.
    const updates = receipts.flatMap((r): ReceiptUpdate[] => {
      const state = STATE_OF[r.stat];
      return state ? [{ operator: r.operator, smscId: r.smscId, stat: r.stat, state, err: r.err, text: r.text, at: now }] : [];
    });
    if (!updates.length) return;
    const { hits, missed } = await tx.queue.applyReceipts(updates);
    for (const hit of hits) if (hit.status !== 'sent') events.push({ type: 'final', message: hit, state: hit.status });
    for (const update of missed) {
      parking.park(`${update.operator}|${update.smscId}`, update);
      await tx.queue.keepPendingReceipt(update);
    }
  }

  private async applyReceipt(tx: Repos, update: ReceiptUpdate, events: LedgerEvent[]): Promise<boolean> {
    const hit = await tx.queue.applyReceipt(update);
    if (!hit) return false;
    if (hit.status !== 'sent') events.push({ type: 'final', message: hit, state: hit.status });
    return true;
  }

  private async writeMo(tx: Repos, mo: InboundMo, now: number, events: LedgerEvent[]): Promise<void> {
    const optOut = this.optOut.has(keywordKey(mo.text.trim().split(/\s+/)[0] ?? ''));
    const id = await tx.mo.insert({ operator: mo.operator, bind: mo.bind, sender: mo.from, recipient: mo.to, body: mo.text, optOut, at: now });
    if (optOut) await tx.blacklist.add({ accountId: GLOBAL_ACCOUNT, phone: mo.from, reason: `opt-out keyword "${mo.text.trim().slice(0, 20)}"`, source: 'mo', at: now });
    events.push({ type: 'mo', id, mo, optOut });
  }

  /**
   * Queued messages past their validity end `expired`: with their refund and their
   * message.failed event in the same transaction, like any other final state.
   */
  async expireOverdue(now: number): Promise<number> {
    let events: LedgerEvent[] = [];
    await this.deps.store.transaction(async (tx) => {
      events = [];
      for (const m of await tx.queue.expireOverdue(now)) {
        await tx.credits.refundUnsent(m.id);
        events.push({ type: 'final', message: m, state: 'expired' });
      }
      await this.deps.inTransaction?.(tx, events);
    }, { isolation: 'read-committed' }); // the UPDATE re-checks each row it takes: nodes expiring at once take each message once
    if (events.length) this.deps.onEvents?.(events);
    return events.length;
  }

  /**
   * Messages still `sent` (receipt requested) after `waitMs` end `unconfirmed`: no refund (the
   * SMSC took them), their event and metric in the same flush as any final state. Returns how many.
   */
  async endUnconfirmed(now: number, waitMs: number, operators: readonly string[]): Promise<number> {
    let events: LedgerEvent[] = [];
    const error = `no delivery receipt within ${Math.round(waitMs / 3_600_000 * 10) / 10} h`;
    await this.deps.store.transaction(async (tx) => {
      events = [];
      for (const m of await tx.queue.endUnconfirmed(operators, now - waitMs, now, error, UNCONFIRMED_CHUNK)) events.push({ type: 'final', message: m, state: 'unconfirmed' });
      await this.deps.inTransaction?.(tx, events);
    }, { isolation: 'read-committed' });
    if (events.length) this.deps.onEvents?.(events);
    return events.length;
  }

  /**
   * Parked receipts whose part is in the store now though no flush of this node matched them: the
   * part was written by another node (several nodes share the database: a receipt may arrive on
   * any node's bind), or in the instant between two flushes. Applied now. Returns how many.
   */
  async applyParkedMatches(limit = 500): Promise<number> {
    const matched = await this.deps.store.repos.queue.parkedWithPart(limit);
    if (!matched.length) return 0;
    let events: LedgerEvent[] = [];
    await this.deps.store.transaction(async (tx) => {
      events = [];
      for (const row of matched) {
        const state = STATE_OF[row.stat as ReceiptStat];
        await tx.queue.dropPendingReceipt(row.operator, row.smsc_id);
        if (state) await this.applyReceipt(tx, { operator: row.operator, smscId: row.smsc_id, stat: row.stat, state, err: row.err, text: row.text, at: row.received_at }, events);
      }
      await this.deps.inTransaction?.(tx, events);
    }, { isolation: 'read-committed' });
    for (const row of matched) this.pending.delete(`${row.operator}|${row.smsc_id}`);
    if (events.length) this.deps.onEvents?.(events);
    return matched.length;
  }

  /** Forget parked receipts older than `ms` (their submit never got an id, or got another). */
  async purgePending(ms: number): Promise<void> {
    const cutoff = Date.now() - ms;
    for (const [k, v] of this.pending) if (v.at < cutoff) this.pending.delete(k);
    await this.deps.store.repos.queue.purgePendingReceipts(cutoff);
  }
}

/** Keywords match regardless of case and accents: "Arrêt", "ARRET", "arret". */
function keywordKey(word: string): string {
  return word.normalize('NFD').replace(/\p{Diacritic}/gu, '').toUpperCase();
}

/**
 * What one flush does to the parked receipts, applied to the map only once its transaction has
 * committed: a flush that rolls back (a full disk) must leave every parked receipt where it was,
 * or the outcome retried later would find its early receipt gone and its message would wait for
 * one that already came.
 */
class Parking {
  private readonly taken = new Set<string>();
  private readonly parked = new Map<string, ReceiptUpdate>();

  constructor(private readonly pending: Map<string, ReceiptUpdate>) {}

  /** The receipt parked under `key`, now or earlier in this flush; it leaves the map at commit. */
  take(key: string): ReceiptUpdate | undefined {
    const early = this.parked.get(key) ?? (this.taken.has(key) ? undefined : this.pending.get(key));
    if (!early) return undefined;
    this.parked.delete(key);
    this.taken.add(key);
    return early;
  }

  park(key: string, update: ReceiptUpdate): void {
    this.parked.set(key, update);
  }

  commit(): void {
    for (const key of this.taken) this.pending.delete(key);
    for (const [key, update] of this.parked) this.pending.set(key, update);
  }
}
