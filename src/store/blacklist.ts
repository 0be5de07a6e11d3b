/** Blacklisted numbers: an account's own list plus the operator's global list (account_id 0). */
import type { Statement } from 'better-sqlite3';
import type { Store } from './db.js';

export const GLOBAL_ACCOUNT = 0;

/**
 * The blacklist is checked for every recipient at acceptance and again for every message the
 * dispatcher is about to submit (a number can opt out while its message waits), so the lookup
 * is an in-memory index of phone → owning accounts, loaded at start and kept in step by every
 * add and remove (the daemon is the only process that changes the blacklist). On the rare
 * transaction that rolls back after an add, the index blocks one number too many: the safe side.
 */
export class BlacklistRepo {
  private readonly addStmt: Statement;
  private readonly owners = new Map<string, Set<number>>();

  constructor(private readonly store: Store) {
    const { db } = store;
    this.addStmt = store.prepare(
      db.insertInto('blacklist').values({ account_id: 0, phone: '', reason: null, source: 'api', created_at: 0 })
        .onConflict((oc) => oc.columns(['account_id', 'phone']).doNothing()),
    );
    for (const row of store.all(db.selectFrom('blacklist').select(['account_id', 'phone']))) this.remember(row.phone, row.account_id);
  }

  private remember(phone: string, accountId: number): void {
    const set = this.owners.get(phone) ?? new Set<number>();
    set.add(accountId);
    this.owners.set(phone, set);
  }

  /** Listed globally, or by this account. No I/O. */
  isBlacklisted(phone: string, accountId: number | null): boolean {
    const set = this.owners.get(phone);
    return set !== undefined && (set.has(GLOBAL_ACCOUNT) || (accountId !== null && set.has(accountId)));
  }

  /** Adds the number unless it is already listed; returns whether a row was added. */
  add(entry: { accountId: number; phone: string; reason: string | null; source: 'api' | 'mo' | 'admin'; at: number }): boolean {
    const added = this.addStmt.run(entry.accountId, entry.phone, entry.reason, entry.source, entry.at).changes > 0;
    this.remember(entry.phone, entry.accountId);
    return added;
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

  async byPhone(accountId: number, phone: string) {
    return this.store.db.selectFrom('blacklist').select(['id', 'phone', 'reason', 'source', 'created_at']).where('account_id', '=', accountId).where('phone', '=', phone).executeTakeFirst();
  }

  async get(accountId: number, id: number) {
    return this.store.db.selectFrom('blacklist').select(['id', 'phone', 'reason', 'source', 'created_at']).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  async remove(accountId: number, id: number): Promise<boolean> {
    const row = await this.store.db.deleteFrom('blacklist').where('id', '=', id).where('account_id', '=', accountId).returning('phone').executeTakeFirst();
    if (!row) return false;
    this.owners.get(row.phone)?.delete(accountId);
    return true;
  }

  /** Where a number is listed for this account: its own list, the global one, or nowhere. */
  async where(phone: string, accountId: number): Promise<'account' | 'global' | null> {
    const rows = await this.store.db.selectFrom('blacklist').select('account_id').where('phone', '=', phone).where('account_id', 'in', [accountId, GLOBAL_ACCOUNT]).execute();
    if (rows.some((r) => r.account_id === accountId && accountId !== GLOBAL_ACCOUNT)) return 'account';
    return rows.length ? 'global' : null;
  }
}
