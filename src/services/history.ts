/** Reading an account's messages: one, a filtered page, or every page for exports. Never another account's. */
import type { Store } from '../store/db.js';
import type { HistoryFilter, MessageRow, PartRow } from '../store/history.js';
import type { Page, PageRequest } from '../store/repo.js';
import { notFound } from './errors.js';
import { parseMessageUuid } from './message-uuid.js';
import { authorize, type Actor } from './policy.js';

export type { HistoryFilter, MessageRow, PartRow };

export class HistoryService {
  constructor(private readonly store: Store) {}

  async get(actor: Actor, id: number): Promise<MessageRow & { part_list: PartRow[] }> {
    authorize(actor, 'view_history');
    const row = await this.store.repos.history.get(actor.account.id, id);
    if (!row) throw notFound('message');
    return { ...row, part_list: await this.store.repos.history.parts(id) };
  }

  /** By the uuid Mifumo clients know a message by (message-uuid.ts). */
  async byUuid(actor: Actor, uuid: string): Promise<MessageRow & { part_list: PartRow[] }> {
    authorize(actor, 'view_history');
    const ref = parseMessageUuid(uuid);
    const row = ref ? await this.store.repos.history.get(actor.account.id, ref.id) : undefined;
    if (!row || row.created_at !== ref!.createdAt) throw notFound('message');
    return { ...row, part_list: await this.store.repos.history.parts(row.id) };
  }

  page(actor: Actor, f: HistoryFilter, req: PageRequest): Promise<Page<MessageRow>> {
    authorize(actor, 'view_history');
    return this.store.repos.history.page(actor.account.id, f, req);
  }

  /**
   * Every matching message, oldest first, a page at a time (keyset on id): an export of a
   * million messages never sits in memory nor holds the database between pages.
   */
  export(actor: Actor, f: HistoryFilter, pageSize = 1000): AsyncGenerator<MessageRow> {
    authorize(actor, 'export_data'); // now, not at the first row: the answer has not started yet
    return this.pages(actor.account.id, f, pageSize);
  }

  private async *pages(accountId: number, f: HistoryFilter, pageSize: number): AsyncGenerator<MessageRow> {
    let after = 0;
    for (;;) {
      const rows = await this.store.repos.history.after(accountId, f, after, pageSize);
      yield* rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.id;
    }
  }
}
