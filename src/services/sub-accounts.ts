/**
 * Sub-accounts: logins inside an account, each with a role, the documented permissions it holds
 * and a credit limit. They log in like any account and act inside their parent with exactly their
 * permissions; a suspension refuses their tokens and keys on the next request.
 */
import type { Store } from '../store/db.js';
import type { SubAccountRecord } from '../store/sub-accounts.js';
import type { SubAccountRole } from '../store/tables.js';
import type { AccountService } from './accounts.js';
import type { Changes } from './changes.js';
import type { CredentialService } from './credentials.js';
import { fieldError, notFound } from './errors.js';
import { authorize, ROLES, SENDWAVE_PERMISSIONS, subAccountPermissions, type Actor } from './policy.js';
import { hashPassword } from './secrets.js';

export type { SubAccountRecord };

export interface SubAccountInput {
  name: string;
  email: string;
  password: string;
  role: SubAccountRole;
  /** What its sends may cost in all (the account's credit unit); null or absent: no limit of its own. */
  sms_credit_limit?: number | null | undefined;
}

/** A sub-account as services hand it out: its permissions in full, its credit left. */
export interface SubAccountView extends SubAccountRecord {
  granted: string[];
  effective: string[];
  credits_available: number | null;
}

const view = (s: SubAccountRecord): SubAccountView => {
  const granted = JSON.parse(s.permissions) as string[];
  return { ...s, granted, effective: [...subAccountPermissions(s.role, granted)], credits_available: s.credit_limit === null ? null : Math.max(0, s.credit_limit - s.credits_used) };
};

const snapshot = (s: SubAccountRecord) => ({ id: s.id, name: s.name, email: s.email, role: s.role, permissions: JSON.parse(s.permissions) as unknown, status: s.status, credit_limit: s.credit_limit });

export class SubAccountService {
  constructor(private readonly store: Store, private readonly changes: Changes, private readonly accounts: AccountService, private readonly credentials: CredentialService) {}

  /** The sub-account the actor is (any sub-account may read itself). */
  async self(actor: Actor): Promise<SubAccountView> {
    const s = actor.subAccountId === null ? undefined : await this.store.repos.subAccounts.get(actor.subAccountId);
    if (!s) throw notFound('sub-account');
    return view(s);
  }

  async list(actor: Actor): Promise<SubAccountView[]> {
    authorize(actor, 'manage_sub_accounts');
    return (await this.store.repos.subAccounts.list(actor.account.id)).map(view);
  }

  async get(actor: Actor, id: number): Promise<SubAccountView> {
    authorize(actor, 'manage_sub_accounts');
    return view(await this.own(actor, id));
  }

  /** One of the actor's account's sub-accounts; another account's answers 404. */
  private async own(actor: Actor, id: number): Promise<SubAccountRecord> {
    const s = await this.store.repos.subAccounts.ofAccount(actor.account.id, id);
    if (!s) throw notFound('sub-account');
    return s;
  }

  async create(actor: Actor, input: SubAccountInput): Promise<SubAccountView> {
    authorize(actor, 'manage_sub_accounts');
    const email = input.email.trim().toLowerCase();
    if (await this.accounts.emailTaken(email)) throw fieldError('email', 'taken');
    const passwordHash = await hashPassword(input.password);
    const now = Date.now();
    const created = await this.changes.run(actor, async (c) => {
      // Checked again where the row is written: another login may have taken it while the password hashed.
      if ((await c.tx.accounts.emailTaken(email)) || (await c.tx.subAccounts.emailTaken(email))) throw fieldError('email', 'taken');
      const s = await c.tx.subAccounts.insert({
        account_id: actor.account.id, name: input.name.trim(), email, password_hash: passwordHash, role: input.role,
        permissions: JSON.stringify(ROLES[input.role].defaults), status: 'active', credit_limit: input.sms_credit_limit ?? null, created_at: now, updated_at: now,
      });
      await c.emit('sub_account.created', { id: s.id, name: s.name, email: s.email, role: s.role });
      await c.audit({ action: 'sub_account.created', model: 'SubAccount', modelId: s.id, new: snapshot(s) });
      return s;
    });
    return view(created);
  }

  /** Changes only what the patch names; a new role brings that role's default permissions. */
  async update(actor: Actor, id: number, patch: Partial<SubAccountInput>): Promise<SubAccountView> {
    authorize(actor, 'manage_sub_accounts');
    const before = await this.own(actor, id);
    const email = patch.email?.trim().toLowerCase();
    if (email && email !== before.email && (await this.accounts.emailTaken(email))) throw fieldError('email', 'taken');
    const passwordHash = patch.password ? await hashPassword(patch.password) : undefined;
    return view(await this.change(actor, before, 'sub_account.updated', {
      ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
      ...(email ? { email } : {}),
      ...(passwordHash ? { password_hash: passwordHash } : {}),
      ...(patch.role !== undefined && patch.role !== before.role ? { role: patch.role, permissions: JSON.stringify(ROLES[patch.role].defaults) } : {}),
      ...(patch.sms_credit_limit !== undefined ? { credit_limit: patch.sms_credit_limit } : {}),
    }));
  }

  /** Replaces the documented permissions it holds; an unknown one is refused. */
  async setPermissions(actor: Actor, id: number, permissions: readonly string[]): Promise<SubAccountView> {
    authorize(actor, 'manage_sub_accounts');
    const unknown = permissions.filter((p) => !(SENDWAVE_PERMISSIONS as readonly string[]).includes(p));
    if (unknown.length) throw fieldError('permissions', 'unknown_permissions', { permissions: unknown.join(', '), allowed: SENDWAVE_PERMISSIONS.join(', ') });
    const before = await this.own(actor, id);
    const updated = await this.change(actor, before, 'sub_account.permissions_updated', { permissions: JSON.stringify([...new Set(permissions)]) });
    this.credentials.forgetVerified();
    return view(updated);
  }

  /** Its tokens die at once (revoked); its API keys are refused while it stays suspended. */
  async suspend(actor: Actor, id: number): Promise<SubAccountView> {
    authorize(actor, 'manage_sub_accounts');
    const before = await this.own(actor, id);
    const updated = await this.change(actor, before, 'sub_account.suspended', { status: 'suspended' }, async (c, s) => {
      await c.tx.subAccounts.revokeTokens(s.id, Date.now());
      await c.emit('sub_account.suspended', { id: s.id, name: s.name, email: s.email });
    });
    this.credentials.forgetVerified();
    return view(updated);
  }

  async activate(actor: Actor, id: number): Promise<SubAccountView> {
    authorize(actor, 'manage_sub_accounts');
    return view(await this.change(actor, await this.own(actor, id), 'sub_account.activated', { status: 'active' }));
  }

  /** Raises what its sends may cost in all (from no limit: to exactly this). */
  async addCredits(actor: Actor, id: number, amount: number): Promise<SubAccountView> {
    authorize(actor, 'manage_sub_accounts');
    if (amount <= 0) throw fieldError('amount', 'min', { min: 1 });
    const before = await this.own(actor, id);
    return view(await this.change(actor, before, 'sub_account.credits_added', { credit_limit: (before.credit_limit ?? 0) + amount }));
  }

  async remove(actor: Actor, id: number): Promise<SubAccountView> {
    authorize(actor, 'manage_sub_accounts');
    const before = await this.own(actor, id);
    await this.changes.run(actor, async (c) => {
      await c.tx.subAccounts.revokeTokens(id, Date.now());
      await c.tx.subAccounts.remove(id);
      await c.audit({ action: 'sub_account.deleted', model: 'SubAccount', modelId: id, old: snapshot(before) });
    });
    this.credentials.forgetVerified();
    return view(before);
  }

  private change(actor: Actor, before: SubAccountRecord, action: string, patch: Parameters<Store['repos']['subAccounts']['update']>[1], more?: (c: Parameters<Parameters<Changes['run']>[1]>[0], s: SubAccountRecord) => Promise<void>): Promise<SubAccountRecord> {
    return this.changes.run(actor, async (c) => {
      const s = (await c.tx.subAccounts.update(before.id, { ...patch, updated_at: Date.now() }))!;
      await more?.(c, s);
      await c.audit({ action, model: 'SubAccount', modelId: s.id, old: snapshot(before), new: snapshot(s) });
      return s;
    });
  }
}
