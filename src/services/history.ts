/** Reading an account's messages: one, a filtered page, or every page for exports. Never another account's. */
import type { Store } from '../store/db.js';
import type { GatewayFilter, GatewayMessageRow, HistoryFilter, MessageRow, MessageStory, PartRow } from '../store/history.js';
import type { Page, PageRequest } from '../store/repo.js';
import { notFound } from './errors.js';
import { parseMessageUuid } from './message-uuid.js';
import type { Phones } from './phones.js';
import { authorize, type Actor } from './policy.js';

export type { GatewayFilter, GatewayMessageRow, HistoryFilter, MessageRow, MessageStory, PartRow };

/** One moment of a message's story, from what the store recorded. */
export interface StoryEvent {
  at: number;
  state: string;
  detail: string | null;
}

export class HistoryService {
  constructor(private readonly store: Store, private readonly phones: Pick<Phones, 'searchDigits'>) {}

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

  /** The operator's search across every account (the console). */
  search(actor: Actor, f: GatewayFilter & { phone?: string | undefined }, req: PageRequest): Promise<Page<GatewayMessageRow>> {
    authorize(actor, 'operator.messages');
    // A whole number in any form (national 0…, 00…) is searched as its E.164 digits; a fragment as typed.
    const recipientLike = f.phone ? this.phones.searchDigits(f.phone) : f.recipientLike;
    return this.store.repos.history.search({ ...f, recipientLike: recipientLike || undefined }, req);
  }

  /** One message's whole story, whoever's it is (the console): its row, parts, receipts, webhook deliveries, as a timeline. */
  async story(actor: Actor, id: number): Promise<MessageStory & { events: StoryEvent[] }> {
    authorize(actor, 'operator.messages');
    const story = await this.store.repos.history.story(id);
    if (!story) throw notFound('message');
    return { ...story, events: timeline(story) };
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

/** The moments the store keeps for a message, in time order (a retried message shows its last attempt). */
function timeline({ message: m, parts, webhooks }: MessageStory): StoryEvent[] {
  const events: StoryEvent[] = [{ at: m.created_at, state: 'queued', detail: `accepted: ${m.parts} part(s), cost ${m.cost}` }];
  if (m.not_before > m.created_at + 1000) events.push({ at: m.not_before, state: 'scheduled', detail: 'due from this time' });
  if (m.submitted_at !== null) events.push({ at: m.submitted_at, state: 'submitting', detail: `attempt ${m.attempts || 1}${m.bind ? ` on ${m.bind}` : ''}` });
  for (const p of parts) {
    events.push({ at: p.sent_at, state: 'sent', detail: `part ${p.part_no} accepted by the SMSC, id ${p.raw_smsc_id ?? p.smsc_id}` });
    if (p.receipt_at !== null) events.push({ at: p.receipt_at, state: `receipt ${p.state}`, detail: p.receipt_text ?? (p.receipt_err ? `err ${p.receipt_err}` : null) });
  }
  if (m.done_at !== null) events.push({ at: m.done_at, state: m.status, detail: m.error });
  for (const w of webhooks) events.push({ at: w.created_at, state: `webhook ${w.event}`, detail: `${w.url}: ${w.status}${w.attempts ? ` after ${w.attempts} attempt(s)` : ''}` });
  return events.sort((a, b) => a.at - b.at);
}
