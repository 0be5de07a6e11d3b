/**
 * Who may do what. Every service call carries an Actor: the tenant account it acts in, an
 * optional sub-account, the credential it used, its named permissions, and where it came from.
 * Services are the authority: they call `authorize` themselves; routes declare the permission
 * they need only to refuse early and to document it.
 */
import type { Account } from '../store/accounts.js';
import type { SubAccountRole } from '../store/tables.js';
import { ServiceError } from './errors.js';

/** The eight permissions SendWave documents for sub-accounts. */
export const SENDWAVE_PERMISSIONS = [
  'send_sms', 'view_history', 'manage_contacts', 'manage_groups', 'create_campaigns', 'view_analytics', 'manage_templates', 'export_data',
] as const;

/** Tenant rights beyond SendWave's list: the rest of the API an account owner uses. */
export const ACCOUNT_PERMISSIONS = [
  ...SENDWAVE_PERMISSIONS,
  'manage_webhooks', 'manage_api_keys', 'manage_sender_ids', 'manage_sub_accounts', 'manage_blacklist', 'view_audit', 'view_balance',
  // Ordering packages commits the account's money: not a right of every role that sees the balance.
  'manage_billing',
] as const;

/** The operator's rights over the whole gateway. */
export const OPERATOR_PERMISSIONS = [
  'operator.accounts', 'operator.credits', 'operator.sender_ids', 'operator.blacklist', 'operator.gateway', 'operator.messages',
] as const;

export const PERMISSIONS = [...ACCOUNT_PERMISSIONS, ...OPERATOR_PERMISSIONS] as const;
export type Permission = (typeof PERMISSIONS)[number];

export type SendwavePermission = (typeof SENDWAVE_PERMISSIONS)[number];

/**
 * Sub-account roles: the documented permissions a new sub-account of the role starts with (the
 * permissions endpoint replaces them), and the rights that come with the role whatever that set.
 */
export const ROLES: Record<SubAccountRole, { defaults: readonly SendwavePermission[]; extras: readonly Permission[] }> = {
  admin: { defaults: SENDWAVE_PERMISSIONS, extras: ['manage_webhooks', 'manage_api_keys', 'manage_sender_ids', 'manage_sub_accounts', 'manage_blacklist', 'view_audit', 'view_balance', 'manage_billing'] },
  manager: { defaults: SENDWAVE_PERMISSIONS, extras: ['manage_sender_ids', 'manage_blacklist', 'view_balance'] },
  sender: { defaults: ['send_sms', 'view_history'], extras: ['view_balance'] },
  viewer: { defaults: ['view_history', 'view_analytics'], extras: ['view_balance'] },
};

/** What a sub-account may do: its documented permissions, plus its role's own rights. */
export function subAccountPermissions(role: SubAccountRole, granted: readonly string[]): ReadonlySet<Permission> {
  const documented = granted.filter((p): p is SendwavePermission => (SENDWAVE_PERMISSIONS as readonly string[]).includes(p));
  return new Set<Permission>([...documented, ...ROLES[role].extras]);
}

/** How the actor proved who it is. */
export type Credential =
  | { kind: 'token'; jti: string }
  | { kind: 'api_key'; id: number }
  | { kind: 'cli' }
  | { kind: 'system'; what: string };

export interface Origin {
  ip: string | null;
  userAgent: string | null;
}

export interface Actor {
  /** The tenant account the actor works in (its own, or a sub-account's parent). */
  account: Account;
  subAccountId: number | null;
  credential: Credential;
  permissions: ReadonlySet<Permission>;
  origin: Origin;
}

const OWNER = new Set<Permission>(ACCOUNT_PERMISSIONS);
const ADMIN = new Set<Permission>(PERMISSIONS);

/** What an account's own login or key may do: everything in its account; admins also run the gateway. */
export function ownerPermissions(account: Pick<Account, 'role'>): ReadonlySet<Permission> {
  return account.role === 'admin' ? ADMIN : OWNER;
}

export function can(actor: Pick<Actor, 'permissions'>, permission: Permission): boolean {
  return actor.permissions.has(permission);
}

/** Refuses with `permission_denied` (403 in every dialect) unless the actor holds the permission. */
export function authorize(actor: Pick<Actor, 'permissions'>, permission: Permission): void {
  if (!actor.permissions.has(permission)) throw new ServiceError('forbidden', 'permission_denied', {}, { permission });
}

const NO_ORIGIN: Origin = { ip: null, userAgent: null };

/** A sub-account acting inside its parent account, with exactly its permissions. */
export function subAccountActor(parent: Account, sub: { id: number; role: SubAccountRole; permissions: string }, credential: Credential, origin: Origin = NO_ORIGIN): Actor {
  return { account: parent, subAccountId: sub.id, credential, permissions: subAccountPermissions(sub.role, JSON.parse(sub.permissions) as string[]), origin };
}

/** The account itself acting through a credential (HTTP). */
export function accountActor(account: Account, credential: Credential, origin: Origin = NO_ORIGIN): Actor {
  return { account, subAccountId: null, credential, permissions: ownerPermissions(account), origin };
}

/**
 * The operator at the command line: every operator right, acting as the gateway itself
 * (account 0, whose audit log is the operator's own).
 */
export function cliActor(): Actor {
  const operator: Account = { id: 0, name: 'operator (CLI)', email: '', role: 'admin', status: 'active', balance: 0, default_sender_id: null, timezone: null, username: null, phone_number: null, profile: '{}', created_at: 0 };
  return { account: operator, subAccountId: null, credential: { kind: 'cli' }, permissions: ADMIN, origin: { ip: null, userAgent: 'relais-cli' } };
}

/** The daemon itself (scheduler, housekeeping) acting for `account`. */
export function systemActor(account: Account, what: string): Actor {
  return { account, subAccountId: null, credential: { kind: 'system', what }, permissions: ownerPermissions(account), origin: NO_ORIGIN };
}
