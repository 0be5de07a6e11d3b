/**
 * Credits: an integer balance per account in the smallest currency unit, every movement recorded
 * in credit_transactions with the balance after it. Statements are prepared and synchronous so
 * they run inside the same transaction as the change they pay for.
 */
import type { Statement } from 'better-sqlite3';
import { sql } from 'kysely';
import type { Store } from './db.js';
import type { CreditTransactionsTable } from './tables.js';

type Reason = CreditTransactionsTable['reason'];

export class CreditsRepo {
  private readonly debitStmt: Statement;
  private readonly creditStmt: Statement;
  private readonly recordStmt: Statement;
  private readonly refundableStmt: Statement;
  private readonly balanceStmt: Statement;

  constructor(private readonly store: Store) {
    const { db } = store;
    // Conditional update: two concurrent sends can never take the balance below zero.
    this.debitStmt = store.prepare(
      db.updateTable('accounts').set({ balance: sql`balance - ${0}` }).where('id', '=', 0).where('balance', '>=', 0).returning('balance'),
    );
    this.creditStmt = store.prepare(db.updateTable('accounts').set({ balance: sql`balance + ${0}` }).where('id', '=', 0).returning('balance'));
    this.recordStmt = store.prepare(
      db.insertInto('credit_transactions').values({ account_id: 0, amount: 0, balance_after: 0, reason: 'send', reference: null, created_at: 0 }),
    );
    this.refundableStmt = store.prepare(
      db.updateTable('messages').set({ refunded: 1 })
        .where('id', '=', 0).where('refunded', '=', 0).where('acked_mask', '=', 0).where('cost', '>', 0).where('account_id', 'is not', null)
        .returning(['account_id', 'cost']),
    );
    this.balanceStmt = store.prepare(db.selectFrom('accounts').select('balance').where('id', '=', 0));
  }

  /** Take `amount`; returns the new balance, or null (nothing taken) when the balance is short. */
  debit(accountId: number, amount: number, reference: string, reason: Reason = 'send'): number | null {
    if (amount <= 0) return this.balanceOf(accountId);
    const row = this.debitStmt.get(amount, accountId, amount) as { balance: number } | undefined;
    if (!row) return null;
    this.recordStmt.run(accountId, -amount, row.balance, reason, reference, Date.now());
    return row.balance;
  }

  /** Returns the new balance, or null when there is no such account. */
  credit(accountId: number, amount: number, reason: Reason, reference: string | null): number | null {
    const row = this.creditStmt.get(amount, accountId) as { balance: number } | undefined;
    if (!row) return null;
    this.recordStmt.run(accountId, amount, row.balance, reason, reference, Date.now());
    return row.balance;
  }

  /** Give back what a message cost when the SMSC never took any part of it. Idempotent. */
  refundUnsent(messageId: number): void {
    const row = this.refundableStmt.get(1, messageId, 0, 0, 0) as { account_id: number; cost: number } | undefined;
    if (row) this.credit(row.account_id, row.cost, 'refund', `message:${messageId}`);
  }

  balanceOf(accountId: number): number {
    const row = this.balanceStmt.get(accountId) as { balance: number } | undefined;
    return row?.balance ?? 0;
  }

  async transactions(accountId: number, limit = 50) {
    return this.store.db.selectFrom('credit_transactions').selectAll().where('account_id', '=', accountId).orderBy('id', 'desc').limit(limit).execute();
  }
}
