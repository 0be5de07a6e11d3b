/** The audit log's rows: written inside the change they record, read per account. */
import type { Insertable, Selectable } from 'kysely';
import { Repo, pageOf, type Page, type PageRequest } from './repo.js';
import type { AuditLogsTable } from './tables.js';

export type AuditRow = Selectable<AuditLogsTable>;

export interface AuditFilter {
  action?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  model_type?: string | undefined;
  model_id?: number | undefined;
}

export class AuditRepo extends Repo {
  async insert(row: Insertable<AuditLogsTable>): Promise<void> {
    await this.db.insertInto('audit_logs').values(row).execute();
  }

  private filtered(accountId: number, f: AuditFilter) {
    let q = this.db.selectFrom('audit_logs').where('account_id', '=', accountId);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('created_at', '<', f.to);
    if (f.model_type) q = q.where('model_type', '=', f.model_type);
    if (f.model_id !== undefined) q = q.where('model_id', '=', f.model_id);
    return q;
  }

  page(accountId: number, f: AuditFilter, req: PageRequest): Promise<Page<AuditRow>> {
    return pageOf(this.filtered(accountId, f).selectAll().orderBy('id', 'desc'), req);
  }

  get(accountId: number, id: number): Promise<AuditRow | undefined> {
    return this.db.selectFrom('audit_logs').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  async actions(accountId: number): Promise<string[]> {
    const rows = await this.db.selectFrom('audit_logs').select('action').distinct().where('account_id', '=', accountId).orderBy('action').execute();
    return rows.map((r) => r.action);
  }
}
