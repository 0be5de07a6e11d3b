/**
 * The audit log: every change made through a service, with who (account, sub-account, API key,
 * CLI or the daemon), what (action, model, id, old and new values with secrets masked) and from
 * where. Rows are written by `Change.audit`, inside the change's own transaction.
 */
import type { AuditFilter, AuditRow } from '../store/audit.js';
export type { AuditFilter, AuditRow };
import type { Store } from '../store/db.js';
import type { Repos } from '../store/repos.js';
import type { Page, PageRequest } from '../store/repo.js';
import type { AuditActorType } from '../store/tables.js';
import { notFound } from './errors.js';
import { authorize, type Actor } from './policy.js';

export type AuditModel = 'Account' | 'ApiKey' | 'SenderId' | 'Webhook' | 'Contact' | 'ContactGroup' | 'Segment' | 'Template' | 'Campaign' | 'Blacklist' | 'SubAccount' | 'Package' | 'Order' | 'Gateway';

export interface AuditEntry {
  action: string;
  model: AuditModel;
  modelId: number | null;
  old?: Record<string, unknown> | null;
  new?: Record<string, unknown> | null;
}

const SECRET_KEYS = /(secret|password|token|^key$|api_key|key_hash)/i;

export function maskSecrets(values: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (!values) return null;
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, SECRET_KEYS.test(k) && v !== null && v !== undefined ? '********' : v]));
}

/** Models are stored with Laravel's class names, which SendWave clients filter on; both forms are accepted. */
export const modelType = (m: string): string => (m.includes('\\') ? m : `App\\Models\\${m}`);

function actorColumns(actor: Actor): { actor_type: AuditActorType; actor_id: number | null } {
  const c = actor.credential;
  if (c.kind === 'api_key') return { actor_type: 'api_key', actor_id: c.id };
  if (c.kind === 'cli') return { actor_type: 'cli', actor_id: null };
  if (c.kind === 'system') return { actor_type: 'system', actor_id: null };
  return actor.subAccountId === null ? { actor_type: 'account', actor_id: actor.account.id } : { actor_type: 'sub_account', actor_id: actor.subAccountId };
}

/** Writes one audit row on `tx`: it commits or rolls back with the change it records. */
export async function writeAudit(tx: Repos, actor: Actor, e: AuditEntry, accountId = actor.account.id): Promise<void> {
  await tx.audit.insert({
    account_id: accountId, ...actorColumns(actor), sub_account_id: actor.subAccountId,
    action: e.action, model_type: modelType(e.model), model_id: e.modelId,
    old_values: e.old ? JSON.stringify(maskSecrets(e.old)) : null,
    new_values: e.new ? JSON.stringify(maskSecrets(e.new)) : null,
    ip_address: actor.origin.ip, user_agent: actor.origin.userAgent?.slice(0, 500) ?? null, created_at: Date.now(),
  });
}

export class AuditService {
  constructor(private readonly store: Store) {}

  page(actor: Actor, f: AuditFilter, req: PageRequest): Promise<Page<AuditRow>> {
    authorize(actor, 'view_audit');
    return this.store.repos.audit.page(actor.account.id, { ...f, model_type: f.model_type && modelType(f.model_type) }, req);
  }

  async get(actor: Actor, id: number): Promise<AuditRow> {
    authorize(actor, 'view_audit');
    const row = await this.store.repos.audit.get(actor.account.id, id);
    if (!row) throw notFound('audit log');
    return row;
  }

  actions(actor: Actor): Promise<string[]> {
    authorize(actor, 'view_audit');
    return this.store.repos.audit.actions(actor.account.id);
  }
}
