/** Blacklisted numbers: an account's own list plus the operator's global list (account_id 0). */
import { Prepared, Repo, pageOf, type Backend, type Db, type Page, type PageRequest, type Executor } from './repo.js';
import { bumpVersion } from './shared.js';
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
 * add and remove. On SQLite the daemon is the only process that changes the blacklist. On
 * PostgreSQL other nodes change it too: each add and remove also writes a numbered change
 * (blacklist_changes, numbered by the 'blacklist' shared version, in its transaction), and every
 * node applies the changes it has not seen yet (`catchUp`, about once a second), or reads the
 * whole list again when it fell behind what is kept. On the rare transaction that rolls back
 * after an add, the index blocks one number too many until the next full read: the safe side.
 */
export class BlacklistRepo extends Repo {
  private readonly addQuery: Prepared<unknown>;
  private readonly owners = new Map<string, Set<number>>();
  /** PostgreSQL: the last blacklist version applied to `owners` (shared by the repository bound to transactions). */
  private readonly synced = { version: 0 };

  constructor(db: Db, exec: Executor, private readonly backend: Backend = 'sqlite') {
    super(db, exec);
    this.addQuery = new Prepared(
      db.insertInto('blacklist').values({ account_id: 0, phone: '', reason: null, source: 'api', created_at: 0 })
        .onConflict((oc) => oc.columns(['account_id', 'phone']).doNothing()),
    );
  }

  /** Reads the whole list into the index (at start, and on PostgreSQL when changes were missed). */
  async load(): Promise<void> {
    // The version first: the rows read next hold every change up to it (and perhaps later ones,
    // which applying again leaves as they are).
    const version = this.backend === 'postgres' ? await this.sharedVersion() : 0;
    const rows = await this.db.selectFrom('blacklist').select(['account_id', 'phone']).execute();
    // Swapped in one go, never half filled for a lookup to see.
    this.owners.clear();
    for (const row of rows) this.remember(row.phone, row.account_id);
    this.synced.version = version;
  }

  /**
   * PostgreSQL: brings the index up to blacklist version `version` (what the shared versions say
   * now) with the changes since the last one applied, in order; reads the whole list again when
   * some of them are no longer kept. Returns how many changes it applied.
   */
  async catchUp(version: number): Promise<number> {
    const from = this.synced.version;
    if (version === from) return 0;
    if (version < from) {
      await this.load();
      return 0;
    }
    const changes = await this.db.selectFrom('blacklist_changes').select(['version', 'account_id', 'phone', 'added'])
      .where('version', '>', from).where('version', '<=', version).orderBy('version').execute();
    if (changes.length !== version - from || changes.some((c, i) => c.version !== from + 1 + i)) {
      await this.load();
      return 0;
    }
    for (const c of changes) {
      if (c.added) this.remember(c.phone, c.account_id);
      else this.forget(c.phone, c.account_id);
    }
    this.synced.version = version;
    return changes.length;
  }

  /** PostgreSQL: changes older than `before` are dropped; a node that had not applied them reads the whole list. */
  async pruneChanges(before: number): Promise<void> {
    await this.db.deleteFrom('blacklist_changes').where('at', '<', before).execute();
  }

  private async sharedVersion(): Promise<number> {
    return (await this.db.selectFrom('shared_versions').select('version').where('topic', '=', 'blacklist').executeTakeFirst())?.version ?? 0;
  }

  /** PostgreSQL: the change, numbered, for the other nodes; in the caller's transaction. */
  private async logChange(accountId: number, phone: string, added: boolean, at: number): Promise<void> {
    if (this.backend !== 'postgres') return;
    const version = await bumpVersion(this.db, 'blacklist');
    await this.db.insertInto('blacklist_changes').values({ version, account_id: accountId, phone, added: added ? 1 : 0, at }).execute();
  }

  private remember(phone: string, accountId: number): void {
    const set = this.owners.get(phone) ?? new Set<number>();
    set.add(accountId);
    this.owners.set(phone, set);
  }

  private forget(phone: string, accountId: number): void {
    const set = this.owners.get(phone);
    set?.delete(accountId);
    if (set?.size === 0) this.owners.delete(phone);
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
    if (added) await this.logChange(entry.accountId, entry.phone, true, entry.at);
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
    this.forget(row.phone, accountId);
    await this.logChange(accountId, row.phone, false, Date.now());
    return true;
  }
}
