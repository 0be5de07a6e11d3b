/** Accounts: registration, authentication, the operator's view, and the first admin at first start. */
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Account } from '../store/accounts.js';
import type { SubAccountRecord } from '../store/sub-accounts.js';
import type { Store } from '../store/db.js';
import type { Page, PageRequest } from '../store/repo.js';
import type { AccountStatus, Role } from '../store/tables.js';
import type { Changes } from './changes.js';
import { ServiceError, fieldError, notFound } from './errors.js';
import { authorize, type Actor } from './policy.js';
import { DUMMY_HASH, hashPassword, randomSecret, verifyPassword } from './secrets.js';

export type { Account };

export interface NewAccount {
  name: string;
  email: string;
  password: string;
  role?: Role;
  username?: string | undefined;
  phone_number?: string | undefined;
  timezone?: string | undefined;
  /** Registration details kept as given (first_name, last_name, business_name…). */
  profile?: Record<string, string> | undefined;
  /** Created `pending`: it logs in once its phone is verified. */
  pending?: boolean | undefined;
}

export class AccountService {
  constructor(private readonly store: Store, private readonly changes: Changes, private readonly registration: 'open' | 'closed') {}

  /** Self-service sign-up, where the operator left registration open. */
  async register(input: NewAccount): Promise<Account> {
    if (this.registration === 'closed') throw new ServiceError('forbidden', 'registration_closed');
    return this.create({ ...input, role: 'user' });
  }

  /** A pending account's phone, proven: it becomes active. */
  async activate(accountId: number): Promise<Account> {
    const account = await this.store.transaction(async (tx) => {
      await tx.accounts.clearVerification(accountId);
      return tx.accounts.setStatus(accountId, 'active', Date.now());
    });
    if (!account) throw notFound('account');
    return account;
  }

  /** An account with 0 credits and no sender ID (registration, the admin API, the CLI). */
  async create(input: NewAccount): Promise<Account> {
    const email = input.email.trim().toLowerCase();
    const username = input.username?.trim().toLowerCase() || null;
    if (await this.emailTaken(email)) throw fieldError('email', 'taken');
    if (username && (await this.store.repos.accounts.usernameTaken(username))) throw fieldError('username', 'taken');
    const passwordHash = await hashPassword(input.password); // slow: before the transaction
    const now = Date.now();
    // Checked again where the row is written: another registration may have taken them while the password hashed.
    const account = await this.store.transaction(async (tx) => {
      if ((await tx.accounts.emailTaken(email)) || (await tx.subAccounts.emailTaken(email))) throw fieldError('email', 'taken');
      if (username && (await tx.accounts.usernameTaken(username))) throw fieldError('username', 'taken');
      return tx.accounts.insert({
        name: input.name.trim(), email, password_hash: passwordHash, role: input.role ?? 'user', status: input.pending ? 'pending' : 'active',
        default_sender_id: null, webhook_secret: randomSecret(24), username, phone_number: input.phone_number ?? null, timezone: input.timezone ?? null,
        profile: JSON.stringify(input.profile ?? {}), created_at: now, updated_at: now,
      });
    });
    if (account.role === 'admin') await this.changes.reloadSubscribers();
    return account;
  }

  /**
   * An account's or a sub-account's email and password (every dialect's login). Same work and
   * same answer whether the email exists or not.
   */
  async authenticate(email: string, password: string): Promise<{ account: Account; subAccount: SubAccountRecord | null }> {
    const clean = email.trim().toLowerCase();
    const row = await this.store.repos.accounts.withPasswordByLogin(clean);
    const sub = row ? undefined : await this.store.repos.subAccounts.withPasswordByEmail(clean);
    const ok = await verifyPassword(password, row?.password_hash ?? sub?.password_hash ?? DUMMY_HASH);
    if (!ok || (!row && !sub)) throw new ServiceError('unauthenticated', 'invalid_credentials');
    if (row) {
      if (row.status === 'pending') throw new ServiceError('forbidden', 'account_pending');
      if (row.status !== 'active') throw new ServiceError('forbidden', 'account_suspended');
      const { password_hash: _, ...account } = row;
      return { account, subAccount: null };
    }
    const { password_hash: _, ...subAccount } = sub!;
    const parent = await this.get(subAccount.account_id);
    if (!parent || parent.status !== 'active' || subAccount.status !== 'active') throw new ServiceError('forbidden', 'account_suspended');
    return { account: parent, subAccount };
  }

  /** One login per email, accounts and sub-accounts alike. */
  async emailTaken(email: string): Promise<boolean> {
    return (await this.store.repos.accounts.emailTaken(email)) || (await this.store.repos.subAccounts.emailTaken(email));
  }

  get(id: number): Promise<Account | undefined> {
    return this.store.repos.accounts.get(id);
  }

  async require(id: number): Promise<Account> {
    const account = await this.get(id);
    if (!account) throw notFound('account');
    return account;
  }

  async byEmail(email: string): Promise<Account> {
    const account = await this.store.repos.accounts.byEmail(email.trim().toLowerCase());
    if (!account) throw notFound('account');
    return account;
  }

  /** Signs the per-send webhook_url callbacks of this account. */
  async webhookSecret(actor: Actor): Promise<string> {
    authorize(actor, 'manage_webhooks');
    return this.ensureWebhookSecret(actor.account.id);
  }

  /** Accounts older than the column get a secret on first use. */
  async ensureWebhookSecret(accountId: number): Promise<string> {
    const row = await this.store.repos.accounts.webhookSecret(accountId);
    if (!row) throw notFound('account');
    if (row.secret) return row.secret;
    const secret = randomSecret(24);
    await this.store.transaction((tx) => tx.accounts.setWebhookSecret(accountId, secret, Date.now()));
    return secret;
  }

  async rotateWebhookSecret(actor: Actor): Promise<string> {
    authorize(actor, 'manage_webhooks');
    const secret = randomSecret(24);
    await this.changes.run(actor, async (c) => {
      await c.tx.accounts.setWebhookSecret(actor.account.id, secret, Date.now());
      await c.audit({ action: 'webhook.signing_secret_rotated', model: 'Account', modelId: actor.account.id, new: { secret } });
    });
    return secret;
  }

  list(actor: Actor, req: PageRequest): Promise<Page<Account>> {
    authorize(actor, 'operator.accounts');
    return this.store.repos.accounts.page(req);
  }

  /** Suspend or reactivate an account; the operator may not lock themselves out. */
  async setStatus(actor: Actor, id: number, status: AccountStatus): Promise<Account> {
    authorize(actor, 'operator.accounts');
    if (id === actor.account.id && status === 'suspended') throw new ServiceError('forbidden', 'self_suspension');
    return this.changes.run(actor, async (c) => {
      const account = await c.tx.accounts.setStatus(id, status, Date.now());
      if (!account) throw notFound('account');
      await c.audit({ action: `account.${status === 'suspended' ? 'suspended' : 'activated'}`, model: 'Account', modelId: id, new: { status } });
      return account;
    });
  }

  /**
   * The operator of the box is an admin account. From RELAIS_ADMIN_EMAIL/RELAIS_ADMIN_PASSWORD
   * when set (automated provisioning); else a generated password, shown once and written to a
   * file only the service user can read, next to the database.
   */
  async ensureAdmin(env: NodeJS.ProcessEnv, dbPath: string, log: Logger): Promise<void> {
    if ((await this.store.repos.accounts.adminIds()).length) return;
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
