/** Segments: an account's saved contact filters, evaluated when used. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import { Repo } from './repo.js';
import type { SegmentsTable } from './tables.js';

export type SegmentRecord = Selectable<SegmentsTable>;

export class SegmentsRepo extends Repo {
  list(accountId: number): Promise<SegmentRecord[]> {
    return this.db.selectFrom('segments').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  }

  get(accountId: number, id: number): Promise<SegmentRecord | undefined> {
    return this.db.selectFrom('segments').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  insert(row: Insertable<SegmentsTable>): Promise<SegmentRecord> {
    return this.db.insertInto('segments').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(accountId: number, id: number, patch: Updateable<SegmentsTable>): Promise<SegmentRecord | undefined> {
    return this.db.updateTable('segments').set(patch).where('id', '=', id).where('account_id', '=', accountId).returningAll().executeTakeFirst();
  }

  async remove(accountId: number, id: number): Promise<void> {
    await this.db.deleteFrom('segments').where('id', '=', id).where('account_id', '=', accountId).execute();
  }
}
