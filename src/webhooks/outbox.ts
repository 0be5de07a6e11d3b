/**
 * The webhook outbox: an event becomes one delivery row per subscribed destination, written on
 * the caller's transaction (so no event is lost when the daemon dies, and none is invented for a
 * change that rolled back). Subscriptions are indexed in memory, so an account without webhooks
 * costs nothing on the message path. On PostgreSQL other nodes change webhooks too: `load` runs
 * again within a second of any change (SharedState in src/services/shared-state.ts), and meanwhile
 * a delivery is written only for a webhook that still listens (OutboxRepo.insertForSubscription).
 */
import { randomUUID } from 'node:crypto';
import type { LedgerEvent } from '../dispatch/ledger.js';
import type { NewDelivery } from '../store/outbox.js';
import type { Repos } from '../store/repos.js';
import type { WebhookEvent } from './events.js';
import { messageUuid } from '../services/message-uuid.js';

interface Subscription {
  id: number;
  url: string;
  events: Set<string>;
  maxAttempts: number;
  timeoutMs: number;
}

type EventData = Record<string, unknown> | (() => Record<string, unknown> | Promise<Record<string, unknown>>);

export class Outbox {
  private readonly byAccount = new Map<number, Subscription[]>();
  private admins = new Set<number>();
  private emitted = 0;

  /** (Re)reads subscriptions and admins: at start, and after a webhook or an admin changes. */
  async load(repos: Repos): Promise<void> {
    const rows = await repos.webhooks.active();
    this.byAccount.clear();
    for (const r of rows) {
      const list = this.byAccount.get(r.account_id) ?? [];
      list.push({ id: r.id, url: r.url, events: new Set(JSON.parse(r.events) as string[]), maxAttempts: r.retry_limit + 1, timeoutMs: r.timeout * 1000 });
      this.byAccount.set(r.account_id, list);
    }
    this.admins = new Set(await repos.accounts.adminIds());
  }

  /** Whether `event` of this account goes anywhere: callers skip building payloads nobody reads. */
  listens(accountId: number, event: WebhookEvent, directUrl?: string | null): boolean {
    return !!directUrl || (this.byAccount.get(accountId)?.some((s) => s.events.has(event)) ?? false);
  }

  /** Queue `event` for every active webhook of the account subscribed to it, and for `directUrl`. */
  async emit(tx: Repos, accountId: number, event: WebhookEvent, data: EventData, directUrl?: string | null): Promise<number> {
    const rows = await this.deliveries(accountId, event, data, directUrl ?? null);
    if (!rows.length) return 0;
    await tx.outbox.insertMany(rows);
    this.emitted += rows.length;
    return rows.length;
  }

  /** The delivery rows of one event: one per subscribed webhook, one for `directUrl`. */
  private async deliveries(accountId: number, event: WebhookEvent, data: EventData, directUrl: string | null): Promise<NewDelivery[]> {
    const subs = this.byAccount.get(accountId)?.filter((s) => s.events.has(event)) ?? [];
    // The message path's common case: nobody listens, nothing to build or write.
    if (!subs.length && !directUrl) return [];
    const at = Date.now();
    const payload = typeof data === 'function' ? await data() : data;
    const body = JSON.stringify({ event, timestamp: new Date(at).toISOString(), data: payload });
    // message.* events name their message: the console shows a message's deliveries.
    const message_id = typeof payload.message_id === 'number' ? payload.message_id : null;
    const rows: NewDelivery[] = subs.map((s) => ({ delivery_id: randomUUID(), account_id: accountId, webhook_id: s.id, url: s.url, event, body, max_attempts: s.maxAttempts, timeout_ms: s.timeoutMs, at, message_id }));
    if (directUrl) rows.push({ delivery_id: randomUUID(), account_id: accountId, webhook_id: null, url: directUrl, event, body, max_attempts: 4, timeout_ms: 10_000, at, message_id });
    return rows;
  }

  /** Whether anything was queued since the last call (the worker is woken only then). */
  takeEmitted(): boolean {
    const any = this.emitted > 0;
    this.emitted = 0;
    return any;
  }

  /** A test delivery to one webhook, whatever its subscriptions. */
  async emitTest(tx: Repos, accountId: number, webhook: { id: number; url: string; name: string; timeout: number }): Promise<string> {
    const at = Date.now();
    const deliveryId = randomUUID();
    const body = JSON.stringify({ event: 'webhook.test', timestamp: new Date(at).toISOString(), data: { message: 'This is a test webhook delivery', webhook_id: webhook.id, webhook_name: webhook.name } });
    await tx.outbox.insert({ delivery_id: deliveryId, account_id: accountId, webhook_id: webhook.id, url: webhook.url, event: 'webhook.test', body, max_attempts: 1, timeout_ms: webhook.timeout * 1000, at });
    this.emitted += 1;
    return deliveryId;
  }

  /** Message events from the ledger's flush; called on its transaction, written in one batch. */
  async fromLedger(tx: Repos, events: readonly LedgerEvent[]): Promise<void> {
    const rows: NewDelivery[] = [];
    for (const e of events) rows.push(...await this.ledgerDeliveries(e));
    if (!rows.length) return;
    await tx.outbox.insertMany(rows);
    this.emitted += rows.length;
  }

  private async ledgerDeliveries(e: LedgerEvent): Promise<NewDelivery[]> {
    if (e.type === 'outcome') {
      const o = e.outcome;
      if (o.accountId === null || o.kind === 'retry') return [];
      const event = o.kind === 'sent' ? 'message.sent' : 'message.failed';
      if (!this.listens(o.accountId, event, o.webhookUrl)) return [];
      const data = { message_id: o.id, message_uuid: messageUuid(o.id, o.createdAt), recipient: o.recipient, operator: o.operator, status: o.kind === 'sent' ? 'sent' : o.state, ...(o.kind === 'failed' ? { error: o.error } : { smsc_message_id: o.firstRawId }) };
      return this.deliveries(o.accountId, event, data, o.webhookUrl);
    }
    if (e.type === 'final') {
      const m = e.message;
      if (m.account_id === null) return [];
      const delivered = e.state === 'delivered';
      const event = delivered ? 'message.delivered' : e.state === 'unconfirmed' ? 'message.unconfirmed' : 'message.failed';
      if (!this.listens(m.account_id, event, m.webhook_url)) return [];
      const data = { message_id: m.id, message_uuid: messageUuid(m.id, m.created_at), recipient: m.recipient, operator: m.operator, status: e.state, sms_count: m.parts, [delivered ? 'delivered_at' : e.state === 'unconfirmed' ? 'unconfirmed_at' : 'failed_at']: m.done_at ? new Date(m.done_at).toISOString() : null };
      return this.deliveries(m.account_id, event, data, m.webhook_url);
    }
    // MO belongs to no account: the operator's admins receive it.
    const rows: NewDelivery[] = [];
    for (const admin of this.admins) {
      rows.push(...await this.deliveries(admin, 'message.received', { id: e.id, from: e.mo.from, to: e.mo.to, text: e.mo.text, operator: e.mo.operator, opt_out: e.optOut }, null));
      if (e.optOut) rows.push(...await this.deliveries(admin, 'blacklist.added', { phone_number: e.mo.from, reason: 'opt-out keyword', source: 'mo', scope: 'global' }, null));
    }
    return rows;
  }
}
