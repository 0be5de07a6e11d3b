/**
 * Billing: SMS packages the operator sells, accounts' orders of them, and the reads that explain
 * balances — per-period message statistics and the ledger checks of `relais doctor`.
 */
import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import { Repo, pageOf, type Page, type PageRequest } from './repo.js';
import type { CreditTransactionsTable, MessageState, OrderStatus, PackageOrdersTable, SmsPackagesTable } from './tables.js';

export type PackageRecord = Selectable<SmsPackagesTable>;
export type OrderRecord = Selectable<PackageOrdersTable>;

export interface StatsQuery {
  accountId: number;
  subAccountId?: number | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

export class BillingRepo extends Repo {
  packages(activeOnly: boolean): Promise<PackageRecord[]> {
    let q = this.db.selectFrom('sms_packages').selectAll().orderBy('id');
    if (activeOnly) q = q.where('is_active', '=', 1);
    return q.execute();
  }

  package(id: number): Promise<PackageRecord | undefined> {
    return this.db.selectFrom('sms_packages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  insertPackage(row: Insertable<SmsPackagesTable>): Promise<PackageRecord> {
    return this.db.insertInto('sms_packages').values(row).returningAll().executeTakeFirstOrThrow();
  }

  updatePackage(id: number, patch: Updateable<SmsPackagesTable>): Promise<PackageRecord | undefined> {
    return this.db.updateTable('sms_packages').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  }

  insertOrder(row: Insertable<PackageOrdersTable>): Promise<OrderRecord> {
    return this.db.insertInto('package_orders').values(row).returningAll().executeTakeFirstOrThrow();
  }

  order(id: number): Promise<OrderRecord | undefined> {
    return this.db.selectFrom('package_orders').selectAll().where('id', '=', id).executeTakeFirst();
  }

  orders(f: { accountId?: number | undefined; status?: OrderStatus | undefined }): Promise<OrderRecord[]> {
    let q = this.db.selectFrom('package_orders').selectAll().orderBy('id', 'desc');
    if (f.accountId !== undefined) q = q.where('account_id', '=', f.accountId);
    if (f.status) q = q.where('status', '=', f.status);
    return q.execute();
  }

  /** Decides a pending order; undefined when it was not pending (decided already). */
  decide(id: number, status: 'confirmed' | 'rejected', at: number, by: string): Promise<OrderRecord | undefined> {
    return this.db.updateTable('package_orders').set({ status, decided_at: at, decided_by: by }).where('id', '=', id).where('status', '=', 'pending').returningAll().executeTakeFirst();
  }

  /** Messages of an account (or one sub-account) created in a period, by state: count, cost kept, accepted by an SMSC. */
  async messageStats(q: StatsQuery): Promise<{ status: MessageState; n: number; cost: number; sent: number }[]> {
    let sel = this.db.selectFrom('messages')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>(eb.case().when('refunded', '=', 0).then(eb.ref('cost')).else(0).end()).as('cost'), (eb) => eb.fn.count<number>('sent_at').as('sent')])
      .where('account_id', '=', q.accountId);
    if (q.subAccountId !== undefined) sel = sel.where('sub_account_id', '=', q.subAccountId);
    if (q.from !== undefined) sel = sel.where('created_at', '>=', q.from);
    if (q.to !== undefined) sel = sel.where('created_at', '<', q.to);
    const rows = await sel.groupBy('status').execute();
    return rows.map((r) => ({ status: r.status, n: Number(r.n), cost: Number(r.cost ?? 0), sent: Number(r.sent) }));
  }

  /** The same, per UTC day and state (the dashboard's chart). */
  async dailyStats(q: StatsQuery): Promise<{ day: number; status: MessageState; n: number }[]> {
    const day = sql<number>`created_at / 86400000`;
    let sel = this.db.selectFrom('messages').select([day.as('day'), 'status', (eb) => eb.fn.countAll<number>().as('n')]).where('account_id', '=', q.accountId);
    if (q.subAccountId !== undefined) sel = sel.where('sub_account_id', '=', q.subAccountId);
    if (q.from !== undefined) sel = sel.where('created_at', '>=', q.from);
    if (q.to !== undefined) sel = sel.where('created_at', '<', q.to);
    const rows = await sel.groupBy([day, 'status']).execute();
    return rows.map((r) => ({ day: Number(r.day), status: r.status, n: Number(r.n) }));
  }

  /** An account's credit movements (or one sub-account's), newest first. */
  movements(accountId: number, subAccountId: number | undefined, req: PageRequest): Promise<Page<Selectable<CreditTransactionsTable>>> {
    let q = this.db.selectFrom('credit_transactions').selectAll().where('account_id', '=', accountId);
    if (subAccountId !== undefined) q = q.where('sub_account_id', '=', subAccountId);
    return pageOf(q.orderBy('id', 'desc'), req);
  }

  // ---- the doctor's reads ----

  /** Accounts whose balance differs from the sum of their ledger. */
  async balanceMismatches() {
    const rows = await this.db.selectFrom('accounts as a').leftJoin('credit_transactions as t', 't.account_id', 'a.id')
      .select(['a.id', 'a.email', 'a.balance', (eb) => eb.fn.coalesce(eb.fn.sum<number>('t.amount'), eb.val(0)).as('ledger')])
      .groupBy('a.id').orderBy('a.id').execute();
    return rows.map((r) => ({ id: r.id, email: r.email, balance: r.balance, ledger: Number(r.ledger) })).filter((r) => r.balance !== r.ledger);
  }

  async accountCount(): Promise<number> {
    return Number((await this.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  }

  /** Ledger rows after `afterId`, oldest first (the doctor reads them a page at a time). */
  ledgerPage(afterId: number, limit: number) {
    return this.db.selectFrom('credit_transactions').select(['id', 'account_id', 'sub_account_id', 'amount', 'reason', 'reference']).where('id', '>', afterId).orderBy('id').limit(limit).execute();
  }

  /** The messages of ids first..last: how many belong to the account, and what they cost. */
  async messageRange(accountId: number, first: number, last: number): Promise<{ n: number; cost: number }> {
    const r = await this.db.selectFrom('messages').select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('cost').as('cost')])
      .where('id', '>=', first).where('id', '<=', last).where('account_id', '=', accountId).executeTakeFirstOrThrow();
    return { n: Number(r.n), cost: Number(r.cost ?? 0) };
  }

  message(id: number) {
    return this.db.selectFrom('messages').select(['id', 'account_id', 'cost', 'refunded']).where('id', '=', id).executeTakeFirst();
  }

  run(id: number) {
    return this.db.selectFrom('campaign_runs as r').innerJoin('campaigns as c', 'c.id', 'r.campaign_id').select(['r.id', 'r.campaign_id', 'r.reserved', 'c.account_id']).where('r.id', '=', id).executeTakeFirst();
  }

  campaign(id: number) {
    return this.db.selectFrom('campaigns').select(['id', 'account_id']).where('id', '=', id).executeTakeFirst();
  }

  lot(id: number) {
    return this.db.selectFrom('credit_lots').select(['id', 'account_id', 'credits', 'remaining']).where('id', '=', id).executeTakeFirst();
  }

  /** Sub-accounts whose spent credits differ from what the ledger charged them. */
  async subAccountMismatches() {
    const rows = await this.db.selectFrom('sub_accounts as s').leftJoin('credit_transactions as t', 't.sub_account_id', 's.id')
      .select(['s.id', 's.account_id', 's.credits_used', (eb) => eb.fn.coalesce(eb.fn.sum<number>('t.amount'), eb.val(0)).as('ledger')])
      .groupBy('s.id').orderBy('s.id').execute();
    return rows.map((r) => ({ id: r.id, account_id: r.account_id, credits_used: r.credits_used, charged: -Number(r.ledger) })).filter((r) => r.credits_used !== r.charged);
  }
}
