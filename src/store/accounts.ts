/** Accounts: the tenants of the gateway, and the operator's admins among them. */
import type { Insertable } from 'kysely';
import { Prepared, Repo, pageOf, type Backend, type Db, type Page, type PageRequest, type Executor } from './repo.js';
import { bumpVersion } from './shared.js';
import type { AccountStatus, AccountsTable, Role } from './tables.js';

export interface Account {
  id: number;
  name: string;
  email: string;
  role: Role;
  status: AccountStatus;
  balance: number;
  default_sender_id: string | null;
  /** IANA time zone of the account's schedules; null: the gateway's default. */
  timezone: string | null;
  username: string | null;
  phone_number: string | null;
  /** JSON object: registration details (first_name, last_name, business_name…). */
  profile: string;
  created_at: number;
}

const PUBLIC = ['id', 'name', 'email', 'role', 'status', 'balance', 'default_sender_id', 'timezone', 'username', 'phone_number', 'profile', 'created_at'] as const;

export class AccountsRepo extends Repo {
  /** Read on every authenticated request: compiled once. */
  private readonly byId: Prepared<Account>;

  constructor(db: Db, exec: Executor, private readonly backend: Backend = 'sqlite') {
    super(db, exec);
    this.byId = new Prepared(db.selectFrom('accounts').select(PUBLIC).where('id', '=', 0));
  }

  get(id: number): Promise<Account | undefined> {
    return this.byId.first(this.exec, [id]);
  }

  async emailTaken(email: string): Promise<boolean> {
    return (await this.db.selectFrom('accounts').select('id').where('email', '=', email).executeTakeFirst()) !== undefined;
  }

  /** With the password hash, by email or username: for login only. */
  withPasswordByLogin(login: string): Promise<(Account & { password_hash: string }) | undefined> {
    return this.db.selectFrom('accounts').select([...PUBLIC, 'password_hash']).where((eb) => eb.or([eb('email', '=', login), eb('username', '=', login)])).executeTakeFirst();
  }

  async usernameTaken(username: string): Promise<boolean> {
    return (await this.db.selectFrom('accounts').select('id').where('username', '=', username).executeTakeFirst()) !== undefined;
  }

  byPhone(phone: string): Promise<Account | undefined> {
    return this.db.selectFrom('accounts').select(PUBLIC).where('phone_number', '=', phone).orderBy('id', 'desc').executeTakeFirst();
  }

  // ---- phone verification (Mifumo's activation by SMS code) ----

  async setVerification(accountId: number, codeHash: string, expiresAt: number): Promise<void> {
    await this.db.insertInto('verification_codes').values({ account_id: accountId, code_hash: codeHash, expires_at: expiresAt })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ code_hash: codeHash, expires_at: expiresAt, attempts: 0 })).execute();
  }

  verification(accountId: number) {
    return this.db.selectFrom('verification_codes').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  }

  async countAttempt(accountId: number): Promise<void> {
    await this.db.updateTable('verification_codes').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('account_id', '=', accountId).execute();
  }

  async clearVerification(accountId: number): Promise<void> {
    await this.db.deleteFrom('verification_codes').where('account_id', '=', accountId).execute();
  }

  byEmail(email: string): Promise<Account | undefined> {
    return this.db.selectFrom('accounts').select(PUBLIC).where('email', '=', email).executeTakeFirst();
  }

  async insert(row: Insertable<AccountsTable>): Promise<Account> {
    const account = await this.db.insertInto('accounts').values(row).returning(PUBLIC).executeTakeFirstOrThrow();
    // The outbox sends MO events to every admin: on PostgreSQL the other nodes re-read them.
    if (account.role === 'admin' && this.backend === 'postgres') await bumpVersion(this.db, 'webhooks');
    return account;
  }

  page(req: PageRequest): Promise<Page<Account>> {
    return pageOf(this.db.selectFrom('accounts').select(PUBLIC).orderBy('id'), req);
  }

  setStatus(id: number, status: AccountStatus, at: number): Promise<Account | undefined> {
    return this.db.updateTable('accounts').set({ status, updated_at: at }).where('id', '=', id).returning(PUBLIC).executeTakeFirst();
  }

  async webhookSecret(id: number): Promise<{ secret: string | null } | undefined> {
    const row = await this.db.selectFrom('accounts').select('webhook_secret').where('id', '=', id).executeTakeFirst();
    return row && { secret: row.webhook_secret };
  }

  async setWebhookSecret(id: number, secret: string, at: number): Promise<void> {
    await this.db.updateTable('accounts').set({ webhook_secret: secret, updated_at: at }).where('id', '=', id).execute();
  }

  /** Makes `name` the default sender when the account has none yet. */
  async adoptDefaultSender(id: number, name: string): Promise<void> {
    await this.db.updateTable('accounts').set({ default_sender_id: name }).where('id', '=', id).where('default_sender_id', 'is', null).execute();
  }

  /** Clears the default sender when it is `name`. */
  async dropDefaultSender(id: number, name: string): Promise<void> {
    await this.db.updateTable('accounts').set({ default_sender_id: null }).where('id', '=', id).where('default_sender_id', '=', name).execute();
  }

  async adminIds(): Promise<number[]> {
    return (await this.db.selectFrom('accounts').select('id').where('role', '=', 'admin').execute()).map((r) => r.id);
  }
}
