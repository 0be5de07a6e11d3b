/** Reading an account's messages: one, a filtered page, or a stream for exports. Never another account's. */
import type { Store } from '../store/db.js';
import type { MessageState } from '../store/tables.js';
import { notFound } from './errors.js';

export interface HistoryFilter {
  status?: MessageState | undefined;
  /** Epoch ms, inclusive. */
  from?: number | undefined;
  /** Epoch ms, exclusive. */
  to?: number | undefined;
  /** Digits anywhere in the number (for a search box). */
  recipientLike?: string | undefined;
}

const COLUMNS = ['id', 'recipient', 'sender', 'body', 'status', 'operator', 'parts', 'encoding', 'cost', 'attempts', 'error', 'error_code', 'smsc_id', 'not_before', 'created_at', 'sent_at', 'done_at'] as const;

export type MessageRow = Awaited<ReturnType<HistoryService['get']>>;

export class HistoryService {
  constructor(private readonly store: Store) {}

  private filtered(accountId: number, f: HistoryFilter) {
    let q = this.store.db.selectFrom('messages').where('account_id', '=', accountId);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('created_at', '<', f.to);
    if (f.recipientLike) q = q.where('recipient', 'like', `%${f.recipientLike.replace(/[%_]/g, '')}%`);
    return q;
  }

  async get(accountId: number, id: number) {
    const row = await this.store.db.selectFrom('messages').select(COLUMNS).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) throw notFound('message');
    const parts = await this.store.db.selectFrom('message_parts').select(['part_no', 'raw_smsc_id', 'state', 'sent_at', 'receipt_at', 'receipt_err']).where('message_id', '=', id).orderBy('part_no').execute();
    return { ...row, part_list: parts };
  }

  async page(accountId: number, f: HistoryFilter, page: number, perPage: number) {
    const rows = await this.filtered(accountId, f).select(COLUMNS).orderBy('id', 'desc').limit(perPage).offset((page - 1) * perPage).execute();
    const { n } = await this.filtered(accountId, f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(n) };
  }

  /**
   * Page by page (keyset on id), so an export of a million messages never sits in memory and
   * never holds the database connection between pages (the dispatcher shares it).
   */
  async *all(accountId: number, f: HistoryFilter, pageSize = 1000) {
    let after = 0;
    for (;;) {
      const rows = await this.filtered(accountId, f).select(COLUMNS).where('id', '>', after).orderBy('id').limit(pageSize).execute();
      yield* rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.id;
    }
  }
}
