/**
 * The audit log: every change made through the API, with who (account, and the API key when one
 * was used), what (action, model, id, old and new values with secrets masked), and from where.
 */
import type { Store } from '../store/db.js';
import type { Principal } from './credentials.js';
import { notFound } from './errors.js';

export interface AuditEntry {
  action: string;
  model: 'Account' | 'ApiKey' | 'SenderId' | 'Webhook' | 'Contact' | 'ContactGroup' | 'Template' | 'Campaign' | 'Blacklist' | 'SubAccount';
  modelId: number | null;
  old?: Record<string, unknown> | null;
  new?: Record<string, unknown> | null;
}

export interface AuditOrigin {
  ip: string | null;
  userAgent: string | null;
}

const SECRET_KEYS = /(secret|password|token|^key$|api_key|key_hash)/i;

export function maskSecrets(values: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (!values) return null;
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, SECRET_KEYS.test(k) && v !== null && v !== undefined ? '********' : v]));
}

const modelType = (m: string) => `App\\Models\\${m}`;

export interface AuditFilter {
  action?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  model_type?: string | undefined;
  model_id?: number | undefined;
}

export class AuditService {
  constructor(private readonly store: Store) {}

  async record(principal: Principal, origin: AuditOrigin, e: AuditEntry): Promise<void> {
    const apiKey = principal.credential.kind === 'api_key';
    await this.store.db.insertInto('audit_logs').values({
      account_id: principal.account.id,
      actor_type: apiKey ? 'api_key' : 'account',
      actor_id: principal.credential.kind === 'api_key' ? principal.credential.id : principal.account.id,
      action: e.action, model_type: modelType(e.model), model_id: e.modelId,
      old_values: e.old ? JSON.stringify(maskSecrets(e.old)) : null,
      new_values: e.new ? JSON.stringify(maskSecrets(e.new)) : null,
      ip_address: origin.ip, user_agent: origin.userAgent?.slice(0, 500) ?? null, created_at: Date.now(),
    }).execute();
  }

  private filtered(accountId: number, f: AuditFilter) {
    let q = this.store.db.selectFrom('audit_logs').where('account_id', '=', accountId);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('created_at', '<', f.to);
    // Accept "Contact" as well as Laravel's "App\Models\Contact".
    if (f.model_type) q = q.where('model_type', '=', f.model_type.includes('\\') ? f.model_type : modelType(f.model_type));
    if (f.model_id !== undefined) q = q.where('model_id', '=', f.model_id);
    return q;
  }

  async page(accountId: number, f: AuditFilter, page: number, perPage: number) {
    const rows = await this.filtered(accountId, f).selectAll().orderBy('id', 'desc').limit(perPage).offset((page - 1) * perPage).execute();
    const { n } = await this.filtered(accountId, f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(n) };
  }

  async get(accountId: number, id: number) {
    const row = await this.store.db.selectFrom('audit_logs').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) throw notFound('audit log');
    return row;
  }

  async actions(accountId: number): Promise<string[]> {
    const rows = await this.store.db.selectFrom('audit_logs').select('action').distinct().where('account_id', '=', accountId).orderBy('action').execute();
    return rows.map((r) => r.action);
  }
}
