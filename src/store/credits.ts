/**
 * Credits: an integer balance per account in the smallest currency unit, and a ledger
 * (credit_transactions) with one row per movement and the balance after it, so every balance can
 * be computed again. A sub-account's sends also count against its own limit; credits bought
 * with a package sit in lots that are used first and removed at their expiry. Run on a
 * transaction's repositories, all of it commits with the change it pays for.
 */
import { sql } from 'kysely';
import { Prepared, Repo, type Db, type Executor } from './repo.js';
import type { CreditReason } from './tables.js';

export type { CreditReason };

/** Why a charge cannot be made (nothing was written). */
export type Shortfall = { short: 'account'; balance: number } | { short: 'sub_account'; available: number };

export interface Movement {
  accountId: number;
  subAccountId?: number | null | undefined;
  amount: number;
  reason: CreditReason;
  reference: string | null;
}

export class CreditsRepo extends Repo {
  private readonly q: ReturnType<typeof compileCredits>;

  constructor(db: Db, exec: Executor) {
    super(db, exec);
    this.q = compileCredits(db);
  }

  async balanceOf(accountId: number): Promise<number> {
    return (await this.q.balance.first(this.exec, [accountId]))?.balance ?? 0;
  }

  /** Whether `amount` can be charged to the account (and the sub-account's limit); reads only. */
  async shortfall(accountId: number, subAccountId: number | null, amount: number): Promise<Shortfall | null> {
    if (amount <= 0) return null;
    const balance = await this.balanceOf(accountId);
    if (balance < amount) return { short: 'account', balance };
    if (subAccountId === null) return null;
    const sub = await this.q.subLimit.first(this.exec, [subAccountId]);
    if (sub && sub.credit_limit !== null && sub.credits_used + amount > sub.credit_limit) return { short: 'sub_account', available: Math.max(0, sub.credit_limit - sub.credits_used) };
    return null;
  }

  /**
   * Takes `amount` from the balance (after `shortfall` said it could): records it, counts it
   * against the sub-account, uses package credits first. Returns the new balance, or null
   * (nothing taken) when the balance is short after all.
   */
  async debit(m: Movement): Promise<number | null> {
    if (m.amount <= 0) return this.balanceOf(m.accountId);
    const row = await this.q.debit.first(this.exec, [m.amount, m.accountId, m.amount]);
    if (!row) return null;
    await this.record({ ...m, amount: -m.amount }, row.balance);
    if (m.subAccountId) await this.q.subSpend.run(this.exec, [m.amount, m.subAccountId]);
    await this.useLots(m.accountId, m.amount);
    return row.balance;
  }

  /** Adds `amount` (a top-up, refund, package…); returns the new balance, or null when there is no such account. */
  async credit(m: Movement): Promise<number | null> {
    const row = await this.q.credit.first(this.exec, [m.amount, m.accountId]);
    if (!row) return null;
    await this.record(m, row.balance);
    if (m.subAccountId) await this.q.subSpend.run(this.exec, [-m.amount, m.subAccountId]);
    return row.balance;
  }

  private async record(m: Movement, balanceAfter: number): Promise<void> {
    await this.q.record.run(this.exec, [m.accountId, m.amount, balanceAfter, m.reason, m.reference, Date.now(), m.subAccountId ?? null]);
  }

  /** Give back what a message cost when the SMSC never took any part of it. Idempotent. */
  async refundUnsent(messageId: number): Promise<void> {
    const row = await this.q.refundable.first(this.exec, [1, messageId, 0, 0, 0]);
    if (row?.account_id != null) await this.credit({ accountId: row.account_id, subAccountId: row.sub_account_id, amount: row.cost, reason: 'refund', reference: `message:${messageId}` });
  }

  /** Package credits are spent first, soonest to expire first. */
  private async useLots(accountId: number, amount: number): Promise<void> {
    let left = amount;
    while (left > 0) {
      const lot = await this.q.nextLot.first(this.exec, [accountId, 0, Date.now(), 1]);
      if (!lot) return;
      const used = Math.min(lot.remaining, left);
      await this.q.useLot.run(this.exec, [used, lot.id]);
      left -= used;
    }
  }

  addLot(lot: { accountId: number; orderId: number; credits: number; expiresAt: number }): Promise<{ id: number } | undefined> {
    return this.db.insertInto('credit_lots').values({ account_id: lot.accountId, order_id: lot.orderId, credits: lot.credits, remaining: lot.credits, expires_at: lot.expiresAt, created_at: Date.now() })
      .returning('id').executeTakeFirst();
  }

  /** Lots past their expiry with credits left. */
  expiredLots(now: number, limit: number) {
    return this.db.selectFrom('credit_lots').select(['id', 'account_id', 'remaining']).where('expires_at', '<=', now).where('remaining', '>', 0).orderBy('expires_at').limit(limit).execute();
  }

  async closeLot(id: number): Promise<void> {
    await this.db.updateTable('credit_lots').set({ remaining: 0 }).where('id', '=', id).execute();
  }

  transactions(accountId: number, limit = 50) {
    return this.db.selectFrom('credit_transactions').selectAll().where('account_id', '=', accountId).orderBy('id', 'desc').limit(limit).execute();
  }

  async lastMovementAt(accountId: number): Promise<number | null> {
    return (await this.db.selectFrom('credit_transactions').select('created_at').where('account_id', '=', accountId).orderBy('id', 'desc').limit(1).executeTakeFirst())?.created_at ?? null;
  }
}

function compileCredits(db: Db) {
  return {
    // Conditional update: two concurrent charges can never take the balance below zero.
    debit: new Prepared(db.updateTable('accounts').set({ balance: sql`balance - ${0}` }).where('id', '=', 0).where('balance', '>=', 0).returning('balance')),
    credit: new Prepared(db.updateTable('accounts').set({ balance: sql`balance + ${0}` }).where('id', '=', 0).returning('balance')),
    balance: new Prepared(db.selectFrom('accounts').select('balance').where('id', '=', 0)),
    record: new Prepared(db.insertInto('credit_transactions').values({ account_id: 0, amount: 0, balance_after: 0, reason: 'send', reference: null, created_at: 0, sub_account_id: null })),
    refundable: new Prepared(
      db.updateTable('messages').set({ refunded: 1 })
        .where('id', '=', 0).where('refunded', '=', 0).where('acked_mask', '=', 0).where('cost', '>', 0).where('account_id', 'is not', null)
        .returning(['account_id', 'cost', 'sub_account_id']),
    ),
    subLimit: new Prepared(db.selectFrom('sub_accounts').select(['credit_limit', 'credits_used']).where('id', '=', 0)),
    subSpend: new Prepared(db.updateTable('sub_accounts').set({ credits_used: sql`credits_used + ${0}` }).where('id', '=', 0)),
    nextLot: new Prepared(db.selectFrom('credit_lots').select(['id', 'remaining']).where('account_id', '=', 0).where('remaining', '>', 0).where('expires_at', '>', 0).orderBy('expires_at').limit(1)),
    useLot: new Prepared(db.updateTable('credit_lots').set({ remaining: sql`remaining - ${0}` }).where('id', '=', 0)),
  };
}
