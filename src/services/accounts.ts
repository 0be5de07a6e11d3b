/** Accounts: registration, authentication, the admin's view, and the first admin at first start. */
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Statement } from 'better-sqlite3';
import type { Store } from '../store/db.js';
import type { AccountStatus, Role } from '../store/tables.js';
import { ServiceError, notFound, validationError } from './errors.js';
import { DUMMY_HASH, hashPassword, randomSecret, verifyPassword } from './secrets.js';

export interface Account {
  id: number;
  name: string;
  email: string;
  role: Role;
  status: AccountStatus;
  balance: number;
  default_sender_id: string | null;
  created_at: number;
}

const PUBLIC_COLUMNS = ['id', 'name', 'email', 'role', 'status', 'balance', 'default_sender_id', 'created_at'] as const;

export class AccountService {
  private readonly getStmt: Statement;

  constructor(private readonly store: Store) {
    this.getStmt = store.prepare(store.db.selectFrom('accounts').select(PUBLIC_COLUMNS).where('id', '=', 0));
  }

  async create(input: { name: string; email: string; password: string; role?: Role }): Promise<Account> {
    const email = input.email.trim().toLowerCase();
    const taken = await this.store.db.selectFrom('accounts').select('id').where('email', '=', email).executeTakeFirst();
    if (taken) throw validationError({ email: ['The email has already been taken.'] });
    const now = Date.now();
    const row = await this.store.db
      .insertInto('accounts')
      .values({
        name: input.name.trim(), email, password_hash: await hashPassword(input.password), role: input.role ?? 'user', status: 'active',
        webhook_secret: randomSecret(24), created_at: now, updated_at: now,
      })
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirstOrThrow();
    return row;
  }

  /** Same work and same answer whether the email exists or not. */
  async authenticate(email: string, password: string): Promise<Account> {
    const row = await this.store.db.selectFrom('accounts').select([...PUBLIC_COLUMNS, 'password_hash']).where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
    const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
    if (!row || !ok) throw new ServiceError('unauthenticated', 'The provided credentials are incorrect.');
    if (row.status !== 'active') throw new ServiceError('forbidden', 'This account is suspended.');
    const { password_hash: _, ...account } = row;
    return account;
  }

  /** Signs the per-send webhook_url callbacks of this account. */
  async webhookSecret(id: number): Promise<string | null> {
    const row = await this.store.db.selectFrom('accounts').select('webhook_secret').where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    return row.webhook_secret ?? this.rotateWebhookSecret(id); // accounts older than the column get one now
  }

  async rotateWebhookSecret(id: number): Promise<string> {
    const secret = randomSecret(24);
    await this.store.db.updateTable('accounts').set({ webhook_secret: secret, updated_at: Date.now() }).where('id', '=', id).execute();
    return secret;
  }

  /** Read on every authenticated request: a prepared statement, not a query built each time. */
  async get(id: number): Promise<Account | undefined> {
    return this.getStmt.get(id) as Account | undefined;
  }

  async require(id: number): Promise<Account> {
    const account = await this.get(id);
    if (!account) throw notFound('account');
    return account;
  }

  async list(page: { limit: number; offset: number }): Promise<{ rows: Account[]; total: number }> {
    const rows = await this.store.db.selectFrom('accounts').select(PUBLIC_COLUMNS).orderBy('id').limit(page.limit).offset(page.offset).execute();
    const { n } = await this.store.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(n) };
  }

  async setStatus(id: number, status: AccountStatus): Promise<Account> {
    const row = await this.store.db.updateTable('accounts').set({ status, updated_at: Date.now() }).where('id', '=', id).returning(PUBLIC_COLUMNS).executeTakeFirst();
    if (!row) throw notFound('account');
    return row;
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.store.db.selectFrom('accounts').select('id').where('role', '=', 'admin').executeTakeFirst()) !== undefined;
  }

  /**
   * The operator of the box is an admin account. From RELAIS_ADMIN_EMAIL/RELAIS_ADMIN_PASSWORD
   * when set (automated provisioning); else a generated password, shown once and written to a
   * file only the service user can read, next to the database.
   */
  async ensureAdmin(env: NodeJS.ProcessEnv, dbPath: string, log: Logger): Promise<void> {
    if (await this.hasAdmin()) return;
    const email = env.RELAIS_ADMIN_EMAIL ?? 'admin@relais.local';
    const provided = env.RELAIS_ADMIN_PASSWORD;
    const password = provided ?? randomSecret(18);
    const admin = await this.create({ name: 'Administrator', email, password, role: 'admin' });
    if (provided) {
      log.info({ email: admin.email }, 'admin account created from RELAIS_ADMIN_EMAIL / RELAIS_ADMIN_PASSWORD');
      return;
    }
    const file = dbPath === ':memory:' ? null : join(dirname(dbPath), 'admin-credentials.txt');
    if (file) {
      writeFileSync(file, `email: ${admin.email}\npassword: ${password}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    }
    // The one deliberate exception to "no secrets in logs": shown once, at creation, so the
    // operator of a fresh install can log in. Change it after the first login.
    log.warn(`admin account created: email ${admin.email} password ${password}${file ? ` (also in ${file}, mode 0600)` : ''}`);
  }
}
