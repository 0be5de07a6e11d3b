/** Blacklisted numbers: an account's own list plus the operator's global list (account_id 0). */
import type { Statement } from 'better-sqlite3';
import type { Store } from './db.js';

export const GLOBAL_ACCOUNT = 0;

export class BlacklistRepo {
  private readonly checkStmt: Statement;
  private readonly addStmt: Statement;

  constructor(private readonly store: Store) {
    const { db } = store;
    // By phone alone (index blacklist_phone), then the account in JS: one index probe per
    // recipient instead of two, ~10x faster on the send path.
    this.checkStmt = store.prepare(db.selectFrom('blacklist').select('account_id').where('phone', '=', ''));
    this.addStmt = store.prepare(
      db.insertInto('blacklist').values({ account_id: 0, phone: '', reason: null, source: 'api', created_at: 0 })
        .onConflict((oc) => oc.columns(['account_id', 'phone']).doNothing()),
    );
  }

  /** One indexed look-up; called per recipient at acceptance. */
  isBlacklisted(phone: string, accountId: number | null): boolean {
    const owners = this.checkStmt.all(phone) as { account_id: number }[];
    return owners.some((o) => o.account_id === GLOBAL_ACCOUNT || o.account_id === accountId);
  }

  /** Adds the number unless it is already listed; returns whether a row was added. */
  add(entry: { accountId: number; phone: string; reason: string | null; source: 'api' | 'mo' | 'admin'; at: number }): boolean {
    return this.addStmt.run(entry.accountId, entry.phone, entry.reason, entry.source, entry.at).changes > 0;
  }

  async list(accountId: number, page?: { limit: number; offset: number }): Promise<{ id: number; phone: string; reason: string | null; source: string; created_at: number }[]> {
    let q = this.store.db.selectFrom('blacklist').select(['id', 'phone', 'reason', 'source', 'created_at']).where('account_id', '=', accountId).orderBy('id');
    if (page) q = q.limit(page.limit).offset(page.offset);
    return q.execute();
  }

  async count(accountId: number): Promise<number> {
    const { n } = await this.store.db.selectFrom('blacklist').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
    return Number(n);
  }

  async get(accountId: number, id: number) {
    return this.store.db.selectFrom('blacklist').select(['id', 'phone', 'reason', 'source', 'created_at']).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  async remove(accountId: number, id: number): Promise<boolean> {
    const res = await this.store.db.deleteFrom('blacklist').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Where a number is listed for this account: its own list, the global one, or nowhere. */
  async where(phone: string, accountId: number): Promise<'account' | 'global' | null> {
    const rows = await this.store.db.selectFrom('blacklist').select('account_id').where('phone', '=', phone).where('account_id', 'in', [accountId, GLOBAL_ACCOUNT]).execute();
    if (rows.some((r) => r.account_id === accountId && accountId !== GLOBAL_ACCOUNT)) return 'account';
    return rows.length ? 'global' : null;
  }
}
