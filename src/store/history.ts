/** Reading an account's messages: one with its parts, a filtered page, or keyset pages for exports. */
import { Repo, contains, pageOf, type Page, type PageRequest } from './repo.js';
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

/** The operator's search across accounts (the console). */
export interface GatewayFilter extends HistoryFilter {
  accountId?: number | undefined;
}

/** A row of the operator's search: the message and whose it is. */
export interface GatewayMessageRow {
  id: number;
  account_id: number | null;
  account_email: string | null;
  recipient: string;
  sender: string;
  status: MessageState;
  operator: string;
  parts: number;
  error: string | null;
  created_at: number;
  done_at: number | null;
}

/** Everything the store knows of one message: its row, its parts, the webhook deliveries about it. */
export interface MessageStory {
  message: MessageRow & { account_id: number | null; bind: string | null; submitted_at: number | null; campaign_id: number | null };
  account: { id: number; name: string; email: string } | null;
  parts: (PartRow & { smsc_id: string; receipt_text: string | null })[];
  webhooks: { delivery_id: string; event: string; url: string; status: string; attempts: number; created_at: number; done_at: number | null }[];
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
  private filtered(accountId: number | null, f: HistoryFilter) {
    // Qualified: the operator's search joins accounts, which has a status and a created_at too.
    let q = accountId === null ? this.db.selectFrom('messages') : this.db.selectFrom('messages').where('messages.account_id', '=', accountId);
    if (f.status) q = q.where('messages.status', '=', f.status);
    if (f.from !== undefined) q = q.where('messages.created_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('messages.created_at', '<', f.to);
    if (f.campaignId !== undefined) q = q.where('messages.campaign_id', '=', f.campaignId);
    if (f.recipientLike) q = q.where(contains('messages.recipient', f.recipientLike));
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

  /** Every account's messages, newest first (the operator's search). */
  search(f: GatewayFilter, req: PageRequest): Promise<Page<GatewayMessageRow>> {
    const q = this.filtered(f.accountId ?? null, f)
      .leftJoin('accounts', 'accounts.id', 'messages.account_id')
      .select(['messages.id', 'messages.account_id', 'accounts.email as account_email', 'messages.recipient', 'messages.sender', 'messages.status', 'messages.operator', 'messages.parts', 'messages.error', 'messages.created_at', 'messages.done_at'])
      .orderBy('messages.id', 'desc');
    return pageOf(q, req);
  }

  async story(id: number): Promise<MessageStory | null> {
    const message = await this.db.selectFrom('messages').select([...COLUMNS, 'account_id', 'bind', 'submitted_at', 'campaign_id']).where('id', '=', id).executeTakeFirst();
    if (!message) return null;
    const account = message.account_id === null ? null
      : (await this.db.selectFrom('accounts').select(['id', 'name', 'email']).where('id', '=', message.account_id).executeTakeFirst()) ?? null;
    const parts = await this.db.selectFrom('message_parts')
      .select(['part_no', 'smsc_id', 'raw_smsc_id', 'state', 'sent_at', 'receipt_at', 'receipt_err', 'receipt_text'])
      .where('message_id', '=', id).orderBy('part_no').execute();
    const webhooks = await this.db.selectFrom('webhook_deliveries')
      .select(['delivery_id', 'event', 'url', 'status', 'attempts', 'created_at', 'done_at'])
      .where('message_id', '=', id).orderBy('id').execute();
    return { message, account, parts, webhooks };
  }

  /** The next `limit` rows after id `after`, oldest first: keyset pages never hold the connection between them. */
  after(accountId: number, f: HistoryFilter, after: number, limit: number): Promise<MessageRow[]> {
    return this.filtered(accountId, f).select(COLUMNS).where('id', '>', after).orderBy('id').limit(limit).execute();
  }
}
