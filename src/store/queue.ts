/**
 * The messages table is the outbound queue. This repository is the only code that moves rows
 * between states. Hot-path statements are compiled from Kysely once and kept prepared (the query
 * builder costs ~10× more than SQLite itself), and every write runs in a batch transaction.
 */
import { sql } from 'kysely';
import type { Statement } from 'better-sqlite3';
import type { Store } from './db.js';
import type { MessageState } from './tables.js';

export interface NewMessage {
  account_id: number | null;
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
  at: number;
}

const RECEIPT_RETURNING = ['id', 'status', 'account_id', 'recipient', 'operator', 'webhook_url', 'parts', 'done_at'] as const;

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
}

export class MessageQueue {
  private readonly insertStmt: Statement;
  private readonly claimPrimaryStmt: Statement;
  private readonly claimFailoverStmt: Statement;
  private readonly insertPartStmt: Statement;
  private readonly sentStmt: Statement;
  private readonly retryStmt: Statement;
  private readonly failStmt: Statement;
  private readonly partReceiptStmt: Statement;
  private readonly messageReceiptStmt: Statement;
  private readonly pendingInsertStmt: Statement;
  private readonly pendingDeleteStmt: Statement;

  constructor(private readonly store: Store) {
    const { db } = store;
    const p = store.prepare.bind(store);
    this.insertStmt = p(
      db.insertInto('messages').values({
        account_id: 0, sender: '', recipient: '', body: '', encoding: 'gsm7', parts: 0, operator: '', failover: null,
        status: 'queued', not_before: 0, expires_at: 0, cost: 0, created_at: 0, webhook_url: null,
      }),
    );
    const claimable = (operatorColumn: 'operator' | 'failover') =>
      db.selectFrom('messages').select('id')
        .where('status', '=', 'queued')
        .where(operatorColumn, '=', '')
        .where('not_before', '<=', 0);
    const returning = ['id', 'sender', 'recipient', 'body', 'parts', 'acked_mask', 'attempts', 'operator', 'expires_at', 'account_id', 'webhook_url'] as const;
    this.claimPrimaryStmt = p(
      db.updateTable('messages')
        .set({ status: 'submitting', attempts: sql`attempts + 1`, submitted_at: 0 })
        .where('id', 'in', claimable('operator').orderBy('not_before').orderBy('id').limit(1))
        .returning(returning),
    );
    this.claimFailoverStmt = p(
      db.updateTable('messages')
        .set({ status: 'submitting', attempts: sql`attempts + 1`, submitted_at: 0 })
        .where('id', 'in', claimable('failover').where('operator', '=', '').orderBy('not_before').orderBy('id').limit(1))
        .returning(returning),
    );
    this.insertPartStmt = p(
      db.insertInto('message_parts')
        .values({ message_id: 0, part_no: 0, operator: '', smsc_id: '', state: 'sent', sent_at: 0, raw_smsc_id: '' })
        .onConflict((oc) => oc.columns(['message_id', 'part_no']).doUpdateSet({ smsc_id: sql`excluded.smsc_id`, raw_smsc_id: sql`excluded.raw_smsc_id`, operator: sql`excluded.operator`, sent_at: sql`excluded.sent_at` })),
    );
    this.sentStmt = p(
      db.updateTable('messages')
        .set({ status: 'sent', sent_at: 0, bind: '', smsc_id: '', acked_mask: 0 })
        .where('id', '=', 0).where('status', '=', 'submitting'),
    );
    this.retryStmt = p(
      db.updateTable('messages')
        .set({ status: 'queued', not_before: 0, bind: '', acked_mask: 0, error_code: 0, error: '', attempts: sql`attempts - ${0}` })
        .where('id', '=', 0).where('status', '=', 'submitting'),
    );
    this.failStmt = p(
      db.updateTable('messages')
        .set({ status: 'failed', done_at: 0, bind: '', acked_mask: 0, error_code: 0, error: '' })
        .where('id', '=', 0).where('status', '=', 'submitting'),
    );
    this.partReceiptStmt = p(
      db.updateTable('message_parts')
        .set({ state: '', receipt_at: 0, receipt_err: '' })
        .where('operator', '=', '').where('smsc_id', '=', '').where('receipt_at', 'is', null)
        .returning('message_id'),
    );
    // All counters move in one statement; the state is decided when the last part reports.
    this.messageReceiptStmt = p(
      db.updateTable('messages')
        .set({
          final_parts: sql`final_parts + 1`,
          delivered_parts: sql`delivered_parts + ${0}`,
          failed_state: sql`coalesce(failed_state, ${''})`,
          status: sql`case when status = 'sent' and final_parts + 1 >= parts then (case when delivered_parts + ${0} >= parts then 'delivered' else coalesce(failed_state, ${''}) end) else status end`,
          done_at: sql`case when status = 'sent' and final_parts + 1 >= parts then ${0} else done_at end`,
        })
        .where('id', '=', 0)
        .returning(RECEIPT_RETURNING),
    );
    this.pendingInsertStmt = p(
      db.insertInto('pending_receipts').values({ operator: '', smsc_id: '', stat: '', err: null, received_at: 0 })
        .onConflict((oc) => oc.columns(['operator', 'smsc_id']).doUpdateSet({ stat: sql`excluded.stat`, err: sql`excluded.err`, received_at: sql`excluded.received_at` })),
    );
    this.pendingDeleteStmt = p(db.deleteFrom('pending_receipts').where('operator', '=', '').where('smsc_id', '=', ''));
  }

  /** Commit a batch of accepted messages in one transaction; returns their ids in order. */
  insert(rows: readonly NewMessage[]): number[] {
    return this.store.transaction(() => rows.map((r) => Number(this.insertStmt.run(
      r.account_id, r.sender, r.recipient, r.body, r.encoding, r.parts, r.operator, r.failover,
      'queued', r.not_before, r.expires_at, r.cost, r.created_at, r.webhook_url,
    ).lastInsertRowid)));
  }

  /** Claim due messages for `operator`, and for down operators that fail over to it. */
  claim(operator: string, failoverFrom: readonly string[], now: number, limit: number): ClaimedMessage[] {
    return this.store.transaction(() => {
      const out = this.claimPrimaryStmt.all('submitting', now, 'queued', operator, now, limit) as ClaimedMessage[];
      for (const down of failoverFrom) {
        if (out.length >= limit) break;
        out.push(...(this.claimFailoverStmt.all('submitting', now, 'queued', operator, now, down, limit - out.length) as ClaimedMessage[]));
      }
      return out.sort((a, b) => a.id - b.id);
    });
  }

  /** Write dispatch outcomes; the caller wraps the batch in one transaction. */
  applyOutcomes(outcomes: readonly Outcome[], now: number): void {
    for (const o of outcomes) {
      for (const part of o.acked) this.insertPartStmt.run(o.id, part.partNo, o.operator, part.smscId, 'sent', now, part.rawId);
      switch (o.kind) {
        case 'sent':
          this.sentStmt.run('sent', now, o.bind, o.firstRawId, o.mask, o.id, 'submitting');
          break;
        case 'retry':
          this.retryStmt.run('queued', o.notBefore, o.bind, o.mask, o.errorCode, o.error, o.countAttempt ? 0 : 1, o.id, 'submitting');
          break;
        case 'failed':
          this.failStmt.run(o.state, now, o.bind, o.mask, o.errorCode, o.error, o.id, 'submitting');
          break;
      }
    }
  }

  /** Apply one final receipt; returns the message it matched (and its state now), or null. */
  applyReceipt(r: ReceiptUpdate): ReceiptHit | null {
    const part = this.partReceiptStmt.get(r.stat, r.at, r.err, r.operator, r.smscId) as { message_id: number } | undefined;
    if (!part) return null;
    const delivered = r.state === 'delivered' ? 1 : 0;
    const failedState = r.state === 'delivered' ? null : r.state;
    return (this.messageReceiptStmt.get(delivered, failedState, delivered, failedState, r.at, part.message_id) as ReceiptHit | undefined) ?? null;
  }

  keepPendingReceipt(r: ReceiptUpdate): void {
    this.pendingInsertStmt.run(r.operator, r.smscId, r.stat, r.err, r.at);
  }

  dropPendingReceipt(operator: string, smscId: string): void {
    this.pendingDeleteStmt.run(operator, smscId);
  }

  async purgePendingReceipts(olderThan: number): Promise<void> {
    await this.store.db.deleteFrom('pending_receipts').where('received_at', '<', olderThan).execute();
  }

  async loadPendingReceipts(): Promise<{ operator: string; smsc_id: string; stat: string; err: string | null; received_at: number }[]> {
    return this.store.db.selectFrom('pending_receipts').selectAll().execute();
  }

  /** After a crash, rows left mid-submit go back to the queue (at most one window duplicated per bind). */
  async recoverInterrupted(): Promise<number> {
    const res = await this.store.db.updateTable('messages').set({ status: 'queued' }).where('status', '=', 'submitting').executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Queued messages past their validity become `expired` without being sent. Call inside a transaction. */
  expireOverdue(now: number): ReceiptHit[] {
    return this.store.all(this.store.db.updateTable('messages')
      .set({ status: 'expired', done_at: now, error: 'validity period passed before submission' })
      .where('status', '=', 'queued').where('expires_at', '<=', now)
      .returning(RECEIPT_RETURNING));
  }

  async depthByOperator(): Promise<Record<string, number>> {
    const rows = await this.store.db.selectFrom('messages').select(['operator', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['queued', 'submitting']).groupBy('operator').execute();
    return Object.fromEntries(rows.map((r) => [r.operator, Number(r.n)]));
  }
}
