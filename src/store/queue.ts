/**
 * The messages table is the outbound queue. This repository is the only code that moves rows
 * between states. Hot-path queries are compiled from Kysely once (the query builder costs ~10×
 * more than SQLite itself), and every write runs in a batch transaction of its caller.
 */
import { sql } from 'kysely';
import { Prepared, PreparedBySize, Repo, type Backend, type Db, type Executor } from './repo.js';
import { BatchedWrites } from './postgres/batches.js';
import type { MessageState } from './tables.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

export interface NewMessage {
  account_id: number | null;
  sub_account_id: number | null;
  sender: string;
  recipient: string;
  body: string;
  encoding: 'gsm7' | 'ucs2';
  parts: number;
  operator: string;
  failover: string | null;
  not_before: number;
  expires_at: number;
  cost: number;
  created_at: number;
  webhook_url: string | null;
}

/** What the dispatcher needs of a claimed row: no more, it runs once per message. */
/** Rows inserted between two turns of the event loop in a big send (~8 ms of work). */
const YIELD_EVERY_ROWS = 500;

export interface ClaimedMessage {
  id: number;
  sender: string;
  recipient: string;
  body: string;
  parts: number;
  acked_mask: number;
  attempts: number;
  operator: string;
  expires_at: number;
  account_id: number | null;
  webhook_url: string | null;
  created_at: number;
}

/** Who claims, and until when the claim holds unless renewed. */
export interface Lease {
  node: string;
  until: number;
}

export interface AckedPart {
  partNo: number;
  smscId: string;
  rawId: string;
}

/** The end of one dispatch attempt of one message, on `operator` (the primary or its failover). */
interface OutcomeBase {
  id: number;
  operator: string;
  bind: string | null;
  acked: AckedPart[];
  mask: number;
  /** Who to tell: carried from the claim so events need no SELECT per message. */
  accountId: number | null;
  recipient: string;
  webhookUrl: string | null;
  /** With the id, the message's uuid in events (Mifumo clients know it by that). */
  createdAt: number;
}
export type Outcome =
  | (OutcomeBase & { kind: 'sent'; bind: string; firstRawId: string | null })
  | (OutcomeBase & { kind: 'retry'; notBefore: number; errorCode: number | null; error: string; countAttempt: boolean })
  | (OutcomeBase & { kind: 'failed'; errorCode: number | null; error: string; state: 'failed' | 'expired' });

export interface ReceiptUpdate {
  operator: string;
  smscId: string;
  state: Exclude<MessageState, 'queued' | 'submitting' | 'sent' | 'failed'>;
  stat: string;
  err: string | null;
  /** The receipt's text as received. */
  text: string | null;
  at: number;
}

const RECEIPT_RETURNING = ['id', 'status', 'account_id', 'recipient', 'operator', 'webhook_url', 'parts', 'done_at', 'created_at'] as const;

/** Where a queued message goes: what a reload's new routes may change. */
export interface QueuedRoute {
  id: number;
  recipient: string;
  operator: string;
  failover: string | null;
}

/** The message a receipt matched, as it is after the receipt. */
export interface ReceiptHit {
  id: number;
  status: MessageState;
  account_id: number | null;
  recipient: string;
  operator: string;
  webhook_url: string | null;
  parts: number;
  done_at: number | null;
  created_at: number;
}

export class MessageQueue extends Repo {
  private readonly q: ReturnType<typeof compileQueue>;
  /** PostgreSQL: a flush's outcomes and receipts as a few array statements (a statement there is a round trip). */
  private readonly batched: BatchedWrites | null;

  constructor(db: Db, exec: Executor, backend: Backend) {
    super(db, exec);
    this.q = compileQueue(db, backend);
    this.batched = backend === 'postgres' ? new BatchedWrites(db) : null;
  }

  /** Queue accepted messages (run on the caller's transaction); returns their ids in order. */
  async insert(rows: readonly NewMessage[]): Promise<number[]> {
    const ids: number[] = [];
    let at = 0;
    for (const size of this.q.insert.split(rows.length)) {
      const params: unknown[] = [];
      for (let i = at; i < at + size; i++) {
        const r = rows[i]!;
        params.push(r.account_id, r.sub_account_id, r.sender, r.recipient, r.body, r.encoding, r.parts, r.operator, r.failover, 'queued', r.not_before, r.expires_at, r.cost, r.created_at, r.webhook_url);
      }
      // Ids of one multi-row insert grow in row order; RETURNING's own order is not promised.
      ids.push(...(await this.q.insert.of(size).all(this.exec, params)).map((r) => r.id).sort((a, b) => a - b));
      at += size;
      // A big send gives the event loop a turn every few thousand rows (the transaction stays
      // open: other writers wait, reads and the SMPP links go on).
      if (at < rows.length && at % YIELD_EVERY_ROWS < size) await yieldToLoop();
    }
    return ids;
  }

  /**
   * Claim due messages for `operator`, and for down operators that fail over to it (on the
   * caller's transaction): one-off sends first, then campaign traffic with the room left. Each
   * claimed row names `lease.node` until `lease.until` (renewed while the node works).
   */
  async claim(operator: string, failoverFrom: readonly string[], now: number, limit: number, lease: Lease): Promise<ClaimedMessage[]> {
    const out: ClaimedMessage[] = [];
    const take = async (query: Prepared<ClaimedMessage>, lane: 0 | 1, over: string | null) => {
      if (out.length >= limit) return;
      const head = ['submitting', now, lease.node, lease.until, 'queued', lane, operator, now, ...(lane === 1 ? ['paused', 'cancelled'] : [])];
      const params = over === null ? [...head, limit - out.length] : [...head, over, limit - out.length];
      out.push(...(await query.all(this.exec, params)));
    };
    await take(this.q.claimDirect, 0, null);
    for (const down of failoverFrom) await take(this.q.claimDirectFailover, 0, down);
    await take(this.q.claimCampaigns, 1, null);
    for (const down of failoverFrom) await take(this.q.claimCampaignsFailover, 1, down);
    return out;
  }

  /**
   * Write dispatch outcomes; the caller wraps the batch in one transaction. Only claims still
   * `node`'s change: a message whose lease ran out was re-queued, and may be another node's now.
   */
  async applyOutcomes(outcomes: readonly Outcome[], now: number, node: string): Promise<void> {
    if (this.batched) return this.batched.apply(this.exec, outcomes, now, node);
    for (const o of outcomes) {
      for (const part of o.acked) await this.q.insertPart.run(this.exec, [o.id, part.partNo, o.operator, part.smscId, 'sent', now, part.rawId]);
      switch (o.kind) {
        case 'sent':
          await this.q.sent.run(this.exec, ['sent', now, o.bind, o.firstRawId, o.mask, o.id, 'submitting', node]);
          break;
        case 'retry':
          await this.q.retry.run(this.exec, ['queued', o.notBefore, o.bind, o.mask, o.errorCode, o.error, o.countAttempt ? 0 : 1, o.id, 'submitting', node]);
          break;
        case 'failed':
          await this.q.fail.run(this.exec, [o.state, now, o.bind, o.mask, o.errorCode, o.error, o.id, 'submitting', node]);
          break;
      }
    }
  }

  /** Apply final receipts: the messages they matched (as they are now), and those that matched no part. */
  async applyReceipts(updates: readonly ReceiptUpdate[]): Promise<{ hits: ReceiptHit[]; missed: ReceiptUpdate[] }> {
    if (this.batched) return this.batched.receipts(this.exec, updates);
    const hits: ReceiptHit[] = [];
    const missed: ReceiptUpdate[] = [];
    for (const u of updates) {
      const hit = await this.applyReceipt(u);
      if (hit) hits.push(hit);
      else missed.push(u);
    }
    return { hits, missed };
  }

  /** Apply one final receipt; returns the message it matched (and its state now), or null. */
  async applyReceipt(r: ReceiptUpdate): Promise<ReceiptHit | null> {
    const part = await this.q.partReceipt.first(this.exec, [r.stat, r.at, r.err, r.text, r.operator, r.smscId]);
    if (!part) return null;
    const delivered = r.state === 'delivered' ? 1 : 0;
    const failedState = r.state === 'delivered' ? null : r.state;
    return ((await this.q.messageReceipt.first(this.exec, [delivered, failedState, delivered, failedState, r.at, part.message_id])) as ReceiptHit | undefined) ?? null;
  }

  async keepPendingReceipt(r: ReceiptUpdate): Promise<void> {
    await this.q.pendingInsert.run(this.exec, [r.operator, r.smscId, r.stat, r.err, r.text, r.at]);
  }

  async dropPendingReceipt(operator: string, smscId: string): Promise<void> {
    await this.q.pendingDelete.run(this.exec, [operator, smscId]);
  }

  async purgePendingReceipts(olderThan: number): Promise<void> {
    await this.db.deleteFrom('pending_receipts').where('received_at', '<', olderThan).execute();
  }

  /** Parked receipts whose part exists and has no receipt yet (written after they were parked). */
  parkedWithPart(limit: number): Promise<{ operator: string; smsc_id: string; stat: string; err: string | null; text: string | null; received_at: number }[]> {
    return this.db.selectFrom('pending_receipts as p')
      .innerJoin('message_parts as mp', (j) => j.onRef('mp.operator', '=', 'p.operator').onRef('mp.smsc_id', '=', 'p.smsc_id'))
      .select(['p.operator', 'p.smsc_id', 'p.stat', 'p.err', 'p.text', 'p.received_at'])
      .where('mp.receipt_at', 'is', null).limit(limit).execute();
  }

  loadPendingReceipts(): Promise<{ operator: string; smsc_id: string; stat: string; err: string | null; text: string | null; received_at: number }[]> {
    return this.db.selectFrom('pending_receipts').selectAll().execute();
  }

  /**
   * Messages a stop or a crash left mid-submit go back to the queue (at most one window
   * duplicated per bind); one operator per message re-queued. `scope`: every such message (one
   * node: nobody else can be submitting), or only those of `node` and those whose lease ran out
   * (several nodes: the others' claims are alive).
   */
  async recoverInterrupted(scope: { node: string; now: number } | 'all'): Promise<string[]> {
    let q = this.db.updateTable('messages').set({ status: 'queued', lease_until: null }).where('status', '=', 'submitting');
    if (scope !== 'all') q = q.where((eb) => eb.or([eb('claimed_by', '=', scope.node), eb('lease_until', '<', scope.now), eb('lease_until', 'is', null)]));
    return (await q.returning('operator').execute()).map((r) => r.operator);
  }

  /**
   * Claims of nodes that stopped saying they are alive (no heartbeat since `aliveSince`) and
   * whose lease ran out before `now` go back to the queue. A live node's claims are never taken,
   * however long its bind takes to send them; nothing renews message rows (that would contend
   * with the node's own outcome writes).
   */
  async requeueAbandoned(now: number, aliveSince: number): Promise<string[]> {
    const rows = await this.db.updateTable('messages').set({ status: 'queued', lease_until: null })
      .where('status', '=', 'submitting').where('lease_until', '<', now)
      .where((eb) => eb.or([
        eb('claimed_by', 'is', null),
        eb('claimed_by', 'not in', eb.selectFrom('cluster_nodes').select('node').where('seen_at', '>=', aliveSince)),
      ]))
      .returning('operator').execute();
    return rows.map((r) => r.operator);
  }

  /** Queued messages past their validity become `expired` without being sent (on the caller's transaction). */
  expireOverdue(now: number): Promise<ReceiptHit[]> {
    return this.db.updateTable('messages')
      .set({ status: 'expired', done_at: now, error: 'validity period passed before submission' })
      .where('status', '=', 'queued').where('expires_at', '<=', now)
      .returning(RECEIPT_RETURNING).execute();
  }

  /**
   * Of the oldest `limit` messages waiting for a receipt (by id, through the status index: a
   * bounded read however many wait), those of these operators sent before `cutoff` end
   * `unconfirmed`. On the caller's transaction.
   */
  endUnconfirmed(operators: readonly string[], cutoff: number, now: number, error: string, limit: number): Promise<ReceiptHit[]> {
    if (!operators.length) return Promise.resolve([]);
    return this.db.updateTable('messages')
      .set({ status: 'unconfirmed', done_at: now, error })
      .where('id', 'in', (eb) => eb.selectFrom('messages').select('id').where('status', '=', 'sent').orderBy('id').limit(limit))
      // Re-checked on the row itself: a receipt written meanwhile (another node) wins.
      .where('status', '=', 'sent').where('sent_at', '<=', cutoff).where('operator', 'in', operators)
      .returning(RECEIPT_RETURNING).execute();
  }

  /** A page of queued messages, by id (through the status index, which holds the rowid). */
  queuedAfter(afterId: number, limit: number): Promise<QueuedRoute[]> {
    return this.db.selectFrom('messages').select(['id', 'recipient', 'operator', 'failover'])
      .where('status', '=', 'queued').where('id', '>', afterId).orderBy('id').limit(limit).execute();
  }

  /**
   * New routes for queued messages (on the caller's transaction), one statement per route taken;
   * a message claimed meanwhile keeps its own.
   */
  async reroute(rows: readonly Omit<QueuedRoute, 'recipient'>[]): Promise<number> {
    const byRoute = new Map<string, { operator: string; failover: string | null; ids: number[] }>();
    for (const r of rows) {
      const key = `${r.operator}\0${r.failover ?? ''}`;
      const route = byRoute.get(key) ?? byRoute.set(key, { operator: r.operator, failover: r.failover, ids: [] }).get(key)!;
      route.ids.push(r.id);
    }
    let moved = 0;
    for (const { operator, failover, ids } of byRoute.values()) {
      const res = await this.db.updateTable('messages').set({ operator, failover })
        .where('id', 'in', ids).where('status', '=', 'queued').executeTakeFirst();
      moved += Number(res.numUpdatedRows);
    }
    return moved;
  }

  async depthByOperator(): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('messages').select(['operator', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['queued', 'submitting']).groupBy('operator').execute();
    return Object.fromEntries(rows.map((r) => [r.operator, Number(r.n)]));
  }

  /** Final states of these messages (CLI `send --wait`, tests). */
  states(ids: readonly number[]) {
    return this.db.selectFrom('messages').select(['id', 'recipient', 'status', 'error', 'smsc_id']).where('id', 'in', ids).orderBy('id').execute();
  }
}

/** The hot-path queries, compiled once with placeholder values. */
function compileQueue(db: Db, backend: Backend) {
  const returning = ['id', 'sender', 'recipient', 'body', 'parts', 'acked_mask', 'attempts', 'operator', 'expires_at', 'account_id', 'webhook_url', 'created_at'] as const;
  // Lane 0 (one-off sends) by due time; lane 1 (campaigns) by position in their run, so running
  // campaigns interleave, and never a message of a paused or cancelled campaign.
  const claimable = (operatorColumn: 'operator' | 'failover', lane: 0 | 1) => {
    const q = db.selectFrom('messages').select('id')
      .where('status', '=', 'queued')
      .where('lane', '=', lane)
      .where(operatorColumn, '=', '')
      .where('not_before', '<=', 0);
    return lane === 0
      ? q.orderBy('not_before').orderBy('id')
      : q.where('campaign_id', 'not in', (eb) => eb.selectFrom('campaigns').select('id').where('status', 'in', ['paused', 'cancelled'])).orderBy('seq').orderBy('id');
  };
  // PostgreSQL: several nodes claim at once; each skips the rows another is claiming instead of
  // waiting for them (SQLite has one writer: nothing to skip).
  const locked = <Q extends { forUpdate(): Q; skipLocked(): Q }>(q: Q): Q => (backend === 'postgres' ? q.forUpdate().skipLocked() : q);
  const claim = (operatorColumn: 'operator' | 'failover', lane: 0 | 1) => new Prepared(
    db.updateTable('messages')
      .set({ status: 'submitting', attempts: sql`attempts + 1`, submitted_at: 0, claimed_by: '', lease_until: 0 })
      .where('id', 'in', locked((operatorColumn === 'operator' ? claimable('operator', lane) : claimable('failover', lane).where('operator', '=', '')).limit(1)))
      .returning(returning),
  );
  return {
    insert: new PreparedBySize((size) =>
      db.insertInto('messages').values(Array.from({ length: size }, () => ({
        account_id: 0, sub_account_id: null, sender: '', recipient: '', body: '', encoding: 'gsm7' as const, parts: 0, operator: '', failover: null,
        status: 'queued' as const, not_before: 0, expires_at: 0, cost: 0, created_at: 0, webhook_url: null,
      }))).returning('id')),
    claimDirect: claim('operator', 0),
    claimDirectFailover: claim('failover', 0),
    claimCampaigns: claim('operator', 1),
    claimCampaignsFailover: claim('failover', 1),
    insertPart: new Prepared(
      db.insertInto('message_parts')
        .values({ message_id: 0, part_no: 0, operator: '', smsc_id: '', state: 'sent', sent_at: 0, raw_smsc_id: '' })
        .onConflict((oc) => oc.columns(['message_id', 'part_no']).doUpdateSet({ smsc_id: sql`excluded.smsc_id`, raw_smsc_id: sql`excluded.raw_smsc_id`, operator: sql`excluded.operator`, sent_at: sql`excluded.sent_at` })),
    ),
    sent: new Prepared(
      db.updateTable('messages')
        .set({ status: 'sent', sent_at: 0, bind: '', smsc_id: '', acked_mask: 0 })
        .where('id', '=', 0).where('status', '=', 'submitting').where('claimed_by', '=', ''),
    ),
    retry: new Prepared(
      db.updateTable('messages')
        .set({ status: 'queued', not_before: 0, bind: '', acked_mask: 0, error_code: 0, error: '', attempts: sql`attempts - ${0}` })
        .where('id', '=', 0).where('status', '=', 'submitting').where('claimed_by', '=', ''),
    ),
    fail: new Prepared(
      db.updateTable('messages')
        .set({ status: 'failed', done_at: 0, bind: '', acked_mask: 0, error_code: 0, error: '' })
        .where('id', '=', 0).where('status', '=', 'submitting').where('claimed_by', '=', ''),
    ),
    partReceipt: new Prepared(
      db.updateTable('message_parts')
        .set({ state: '', receipt_at: 0, receipt_err: '', receipt_text: '' })
        .where('operator', '=', '').where('smsc_id', '=', '').where('receipt_at', 'is', null)
        .returning('message_id'),
    ),
    // All counters move in one statement; the state is decided when the last part reports.
    messageReceipt: new Prepared(
      db.updateTable('messages')
        .set({
          final_parts: sql`final_parts + 1`,
          delivered_parts: sql`delivered_parts + ${0}`,
          failed_state: sql`coalesce(failed_state, ${''})`,
          // A receipt later than the wait still ends an `unconfirmed` message with the truth.
          status: sql`case when status in ('sent', 'unconfirmed') and final_parts + 1 >= parts then (case when delivered_parts + ${0} >= parts then 'delivered' else coalesce(failed_state, ${''}) end) else status end`,
          done_at: sql`case when status in ('sent', 'unconfirmed') and final_parts + 1 >= parts then ${0} else done_at end`,
        })
        .where('id', '=', 0)
        .returning(RECEIPT_RETURNING),
    ),
    pendingInsert: new Prepared(
      db.insertInto('pending_receipts').values({ operator: '', smsc_id: '', stat: '', err: null, text: null, received_at: 0 })
        .onConflict((oc) => oc.columns(['operator', 'smsc_id']).doUpdateSet({ stat: sql`excluded.stat`, err: sql`excluded.err`, text: sql`excluded.text`, received_at: sql`excluded.received_at` })),
    ),
    pendingDelete: new Prepared(db.deleteFrom('pending_receipts').where('operator', '=', '').where('smsc_id', '=', '')),
    };
}
