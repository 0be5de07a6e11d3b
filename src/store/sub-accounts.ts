/** Sub-accounts: logins inside an account, with a role, permissions and a credit limit. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import { Prepared, Repo, type Db, type Executor } from './repo.js';
import type { SubAccountsTable } from './tables.js';

export type SubAccountRecord = Omit<Selectable<SubAccountsTable>, 'password_hash'>;

const PUBLIC = ['id', 'account_id', 'name', 'email', 'role', 'permissions', 'status', 'credit_limit', 'credits_used', 'created_at', 'updated_at'] as const;

export class SubAccountsRepo extends Repo {
  /** Read on every request a sub-account makes: compiled once. */
  private readonly byId: Prepared<SubAccountRecord>;

  constructor(db: Db, exec: Executor) {
    super(db, exec);
    this.byId = new Prepared(db.selectFrom('sub_accounts').select(PUBLIC).where('id', '=', 0));
  }

  get(id: number): Promise<SubAccountRecord | undefined> {
    return this.byId.first(this.exec, [id]);
  }

  /** One of the account's sub-accounts; undefined for another account's. */
  async ofAccount(accountId: number, id: number): Promise<SubAccountRecord | undefined> {
    const s = await this.get(id);
    return s?.account_id === accountId ? s : undefined;
  }

  list(accountId: number): Promise<SubAccountRecord[]> {
    return this.db.selectFrom('sub_accounts').select(PUBLIC).where('account_id', '=', accountId).orderBy('id').execute();
  }

  withPasswordByEmail(email: string): Promise<(SubAccountRecord & { password_hash: string }) | undefined> {
    return this.db.selectFrom('sub_accounts').select([...PUBLIC, 'password_hash']).where('email', '=', email).executeTakeFirst();
  }

  async emailTaken(email: string): Promise<boolean> {
    return (await this.db.selectFrom('sub_accounts').select('id').where('email', '=', email).executeTakeFirst()) !== undefined;
  }

  insert(row: Insertable<SubAccountsTable>): Promise<SubAccountRecord> {
    return this.db.insertInto('sub_accounts').values(row).returning(PUBLIC).executeTakeFirstOrThrow();
  }

  update(id: number, patch: Updateable<SubAccountsTable>): Promise<SubAccountRecord | undefined> {
    return this.db.updateTable('sub_accounts').set(patch).where('id', '=', id).returning(PUBLIC).executeTakeFirst();
  }

  async remove(id: number): Promise<void> {
    await this.db.deleteFrom('sub_accounts').where('id', '=', id).execute();
  }

  /** Logins die with the suspension: its access and refresh tokens are revoked. */
  async revokeTokens(id: number, at: number): Promise<void> {
    await this.db.updateTable('auth_tokens').set({ revoked_at: at }).where('sub_account_id', '=', id).where('revoked_at', 'is', null).execute();
  }
}
