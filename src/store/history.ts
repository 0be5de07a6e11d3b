/** Reading an account's messages: one with its parts, a filtered page, or keyset pages for exports. */
import { Repo, pageOf, type Page, type PageRequest } from './repo.js';
import type { MessageState } from './tables.js';

export interface HistoryFilter {
  status?: MessageState | undefined;
  /** Epoch ms, inclusive. */
  from?: number | undefined;
  /** Epoch ms, exclusive. */
  to?: number | undefined;
  /** Digits anywhere in the number (for a search box). */
  recipientLike?: string | undefined;
  campaignId?: number | undefined;
}

const COLUMNS = ['id', 'recipient', 'sender', 'body', 'status', 'operator', 'parts', 'encoding', 'cost', 'attempts', 'error', 'error_code', 'smsc_id', 'not_before', 'created_at', 'sent_at', 'done_at'] as const;

export interface MessageRow {
  id: number;
  recipient: string;
  sender: string;
  body: string;
  status: MessageState;
  operator: string;
  parts: number;
  encoding: 'gsm7' | 'ucs2';
  cost: number;
  attempts: number;
  error: string | null;
  error_code: number | null;
  smsc_id: string | null;
  not_before: number;
  created_at: number;
  sent_at: number | null;
  done_at: number | null;
}

export interface PartRow {
  part_no: number;
  raw_smsc_id: string | null;
  state: string;
  sent_at: number;
  receipt_at: number | null;
  receipt_err: string | null;
}

export class HistoryRepo extends Repo {
  private filtered(accountId: number, f: HistoryFilter) {
    let q = this.db.selectFrom('messages').where('account_id', '=', accountId);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('created_at', '<', f.to);
    if (f.campaignId !== undefined) q = q.where('campaign_id', '=', f.campaignId);
    if (f.recipientLike) q = q.where('recipient', 'like', `%${f.recipientLike.replace(/[%_]/g, '')}%`);
    return q;
  }

  get(accountId: number, id: number): Promise<MessageRow | undefined> {
    return this.db.selectFrom('messages').select(COLUMNS).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  parts(messageId: number): Promise<PartRow[]> {
    return this.db.selectFrom('message_parts').select(['part_no', 'raw_smsc_id', 'state', 'sent_at', 'receipt_at', 'receipt_err']).where('message_id', '=', messageId).orderBy('part_no').execute();
  }

  page(accountId: number, f: HistoryFilter, req: PageRequest): Promise<Page<MessageRow>> {
    return pageOf(this.filtered(accountId, f).select(COLUMNS).orderBy('id', 'desc'), req);
  }

  /** The next `limit` rows after id `after`, oldest first: keyset pages never hold the connection between them. */
  after(accountId: number, f: HistoryFilter, after: number, limit: number): Promise<MessageRow[]> {
    return this.filtered(accountId, f).select(COLUMNS).where('id', '>', after).orderBy('id').limit(limit).execute();
  }
}
