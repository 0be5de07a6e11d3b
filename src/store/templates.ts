/** Message templates of an account. */
import type { Selectable, Updateable } from 'kysely';
import { Repo } from './repo.js';
import type { TemplateCategory, TemplatesTable } from './tables.js';

export type TemplateRow = Selectable<TemplatesTable>;

export class TemplatesRepo extends Repo {
  list(accountId: number, f: { category?: TemplateCategory | undefined; is_public?: boolean | undefined }): Promise<TemplateRow[]> {
    let q = this.db.selectFrom('templates').selectAll().where('account_id', '=', accountId);
    if (f.category) q = q.where('category', '=', f.category);
    if (f.is_public !== undefined) q = q.where('is_public', '=', f.is_public ? 1 : 0);
    return q.orderBy('id').execute();
  }

  get(accountId: number, id: number): Promise<TemplateRow | undefined> {
    return this.db.selectFrom('templates').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  insert(row: Omit<TemplateRow, 'id' | 'usage_count'>): Promise<TemplateRow> {
    return this.db.insertInto('templates').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(accountId: number, id: number, patch: Updateable<TemplatesTable>): Promise<TemplateRow | undefined> {
    return this.db.updateTable('templates').set(patch).where('id', '=', id).where('account_id', '=', accountId).returningAll().executeTakeFirst();
  }

  async remove(accountId: number, id: number): Promise<void> {
    await this.db.deleteFrom('templates').where('id', '=', id).where('account_id', '=', accountId).execute();
  }

  countUse(accountId: number, id: number): Promise<TemplateRow | undefined> {
    return this.db.updateTable('templates').set((eb) => ({ usage_count: eb('usage_count', '+', 1) })).where('id', '=', id).where('account_id', '=', accountId)
      .returningAll().executeTakeFirst();
  }
}
