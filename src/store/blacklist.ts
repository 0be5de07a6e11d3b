/** Blacklisted numbers: an account's own list plus the operator's global list (account_id 0). */
import { Prepared, Repo, pageOf, type Db, type Page, type PageRequest, type Executor } from './repo.js';
import type { BlacklistTable } from './tables.js';

export const GLOBAL_ACCOUNT = 0;

export interface BlacklistEntry {
  id: number;
  phone: string;
  reason: string | null;
  source: BlacklistTable['source'];
  created_at: number;
}

const COLUMNS = ['id', 'phone', 'reason', 'source', 'created_at'] as const;

/**
 * The blacklist is checked for every recipient at acceptance and again for every message the
 * dispatcher is about to submit (a number can opt out while its message waits), so the lookup
 * is an in-memory index of phone → owning accounts, loaded at start and kept in step by every
 * add and remove (the daemon is the only process that changes the blacklist). On the rare
 * transaction that rolls back after an add, the index blocks one number too many: the safe side.
 */
export class BlacklistRepo extends Repo {
  private readonly addQuery: Prepared<unknown>;
  private readonly owners = new Map<string, Set<number>>();

  constructor(db: Db, exec: Executor) {
    super(db, exec);
    this.addQuery = new Prepared(
      db.insertInto('blacklist').values({ account_id: 0, phone: '', reason: null, source: 'api', created_at: 0 })
        .onConflict((oc) => oc.columns(['account_id', 'phone']).doNothing()),
    );
  }

  async load(): Promise<void> {
    this.owners.clear();
    for (const row of await this.db.selectFrom('blacklist').select(['account_id', 'phone']).execute()) this.remember(row.phone, row.account_id);
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

  /** Where a number is listed for this account: its own list, the global one, or nowhere. No I/O. */
  where(phone: string, accountId: number): 'account' | 'global' | null {
    const set = this.owners.get(phone);
    if (!set) return null;
    if (accountId !== GLOBAL_ACCOUNT && set.has(accountId)) return 'account';
    return set.has(GLOBAL_ACCOUNT) ? 'global' : null;
  }

  /** Adds the number unless it is already listed there; returns whether a row was added. */
  async add(entry: { accountId: number; phone: string; reason: string | null; source: BlacklistTable['source']; at: number }): Promise<boolean> {
    const added = (await this.addQuery.run(this.exec, [entry.accountId, entry.phone, entry.reason, entry.source, entry.at])) > 0;
    this.remember(entry.phone, entry.accountId);
    return added;
  }

  page(accountId: number, req: PageRequest): Promise<Page<BlacklistEntry>> {
    return pageOf(this.db.selectFrom('blacklist').select(COLUMNS).where('account_id', '=', accountId).orderBy('id'), req);
  }

  byPhone(accountId: number, phone: string): Promise<BlacklistEntry | undefined> {
    return this.db.selectFrom('blacklist').select(COLUMNS).where('account_id', '=', accountId).where('phone', '=', phone).executeTakeFirst();
  }

  get(accountId: number, id: number): Promise<BlacklistEntry | undefined> {
    return this.db.selectFrom('blacklist').select(COLUMNS).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  async remove(accountId: number, id: number): Promise<boolean> {
    const row = await this.db.deleteFrom('blacklist').where('id', '=', id).where('account_id', '=', accountId).returning('phone').executeTakeFirst();
    if (!row) return false;
    this.owners.get(row.phone)?.delete(accountId);
    return true;
  }
}
