/** Sender IDs an account asked for, and the operator's decisions on them. */
import type { Selectable } from 'kysely';
import { Repo } from './repo.js';
import type { SenderIdStatus, SenderIdsTable } from './tables.js';

export type SenderId = Selectable<SenderIdsTable>;

export class SenderIdsRepo extends Repo {
  byName(accountId: number, name: string): Promise<SenderId | undefined> {
    return this.db.selectFrom('sender_ids').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  }

  insert(accountId: number, name: string, at: number): Promise<SenderId> {
    return this.db.insertInto('sender_ids').values({ account_id: accountId, name, status: 'pending', created_at: at }).returningAll().executeTakeFirstOrThrow();
  }

  list(accountId: number): Promise<SenderId[]> {
    return this.db.selectFrom('sender_ids').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  }

  byStatus(status?: SenderIdStatus): Promise<SenderId[]> {
    let q = this.db.selectFrom('sender_ids').selectAll().orderBy('id');
    if (status) q = q.where('status', '=', status);
    return q.execute();
  }

  decide(id: number, status: 'approved' | 'rejected', at: number): Promise<SenderId | undefined> {
    return this.db.updateTable('sender_ids').set({ status, decided_at: at }).where('id', '=', id).returningAll().executeTakeFirst();
  }
}
