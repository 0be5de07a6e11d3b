/**
 * Credits: an integer balance per account in the smallest currency unit, every movement recorded
 * in credit_transactions with the balance after it. Run on a transaction's repositories, these
 * commit with the change they pay for.
 */
import { sql } from 'kysely';
import { Prepared, Repo, type Db, type Executor } from './repo.js';
import type { CreditTransactionsTable } from './tables.js';

export type CreditReason = CreditTransactionsTable['reason'];

export class CreditsRepo extends Repo {
  private readonly debitQuery: Prepared<{ balance: number }>;
  private readonly creditQuery: Prepared<{ balance: number }>;
  private readonly recordQuery: Prepared<unknown>;
  private readonly refundableQuery: Prepared<{ account_id: number | null; cost: number }>;
  private readonly balanceQuery: Prepared<{ balance: number }>;

  constructor(db: Db, exec: Executor) {
    super(db, exec);
    // Conditional update: two concurrent sends can never take the balance below zero.
    this.debitQuery = new Prepared(db.updateTable('accounts').set({ balance: sql`balance - ${0}` }).where('id', '=', 0).where('balance', '>=', 0).returning('balance'));
    this.creditQuery = new Prepared(db.updateTable('accounts').set({ balance: sql`balance + ${0}` }).where('id', '=', 0).returning('balance'));
    this.recordQuery = new Prepared(db.insertInto('credit_transactions').values({ account_id: 0, amount: 0, balance_after: 0, reason: 'send', reference: null, created_at: 0 }));
    this.refundableQuery = new Prepared(
      db.updateTable('messages').set({ refunded: 1 })
        .where('id', '=', 0).where('refunded', '=', 0).where('acked_mask', '=', 0).where('cost', '>', 0).where('account_id', 'is not', null)
        .returning(['account_id', 'cost']),
    );
    this.balanceQuery = new Prepared(db.selectFrom('accounts').select('balance').where('id', '=', 0));
  }

  /** Take `amount`; returns the new balance, or null (nothing taken) when the balance is short. */
  async debit(accountId: number, amount: number, reference: string, reason: CreditReason = 'send'): Promise<number | null> {
    if (amount <= 0) return this.balanceOf(accountId);
    const row = await this.debitQuery.first(this.exec, [amount, accountId, amount]);
    if (!row) return null;
    await this.recordQuery.run(this.exec, [accountId, -amount, row.balance, reason, reference, Date.now()]);
    return row.balance;
  }

  /** Returns the new balance, or null when there is no such account. */
  async credit(accountId: number, amount: number, reason: CreditReason, reference: string | null): Promise<number | null> {
    const row = await this.creditQuery.first(this.exec, [amount, accountId]);
    if (!row) return null;
    await this.recordQuery.run(this.exec, [accountId, amount, row.balance, reason, reference, Date.now()]);
    return row.balance;
  }

  /** Give back what a message cost when the SMSC never took any part of it. Idempotent. */
  async refundUnsent(messageId: number): Promise<void> {
    const row = await this.refundableQuery.first(this.exec, [1, messageId, 0, 0, 0]);
    if (row?.account_id != null) await this.credit(row.account_id, row.cost, 'refund', `message:${messageId}`);
  }

  async balanceOf(accountId: number): Promise<number> {
    return (await this.balanceQuery.first(this.exec, [accountId]))?.balance ?? 0;
  }

  transactions(accountId: number, limit = 50) {
    return this.db.selectFrom('credit_transactions').selectAll().where('account_id', '=', accountId).orderBy('id', 'desc').limit(limit).execute();
  }
}
