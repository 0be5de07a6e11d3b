/**
 * The webhook outbox: an event becomes one delivery row per subscribed destination, written by
 * the caller's transaction (so no event is lost when the daemon dies, and none is invented for a
 * change that rolled back). Subscriptions are cached in memory, so an account without webhooks
 * costs nothing on the message path.
 */
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { LedgerEvent } from '../dispatch/ledger.js';
import type { Store } from '../store/db.js';
import type { WebhookEvent } from './events.js';

interface Subscription {
  id: number;
  url: string;
  events: Set<string>;
  maxAttempts: number;
  timeoutMs: number;
}

export class Outbox {
  private readonly byAccount = new Map<number, Subscription[]>();
  private admins = new Set<number>();
  private readonly insertStmt: Statement;
  private emitted = 0;

  constructor(private readonly store: Store) {
    this.insertStmt = store.prepare(
      store.db.insertInto('webhook_deliveries').values({
        delivery_id: '', account_id: 0, webhook_id: null, url: '', event: '', body: '', status: 'pending', max_attempts: 0, timeout_ms: 0, next_attempt_at: 0, created_at: 0,
      }),
    );
  }

  async load(): Promise<void> {
    const rows = await this.store.db.selectFrom('webhooks').select(['id', 'account_id', 'url', 'events', 'retry_limit', 'timeout']).where('is_active', '=', 1).execute();
    this.byAccount.clear();
    for (const r of rows) {
      const list = this.byAccount.get(r.account_id) ?? [];
      list.push({ id: r.id, url: r.url, events: new Set(JSON.parse(r.events) as string[]), maxAttempts: r.retry_limit + 1, timeoutMs: r.timeout * 1000 });
      this.byAccount.set(r.account_id, list);
    }
    const admins = await this.store.db.selectFrom('accounts').select('id').where('role', '=', 'admin').execute();
    this.admins = new Set(admins.map((a) => a.id));
  }

  /**
   * Queue `event` for every active webhook of the account subscribed to it, and for `directUrl`.
   * `data` may be a function: it is only built when someone listens.
   */
  emit(accountId: number, event: WebhookEvent, data: Record<string, unknown> | (() => Record<string, unknown>), directUrl?: string | null): number {
    const subs = (this.byAccount.get(accountId) ?? []).filter((s) => s.events.has(event) || event === 'webhook.test');
    if (!subs.length && !directUrl) return 0;
    const now = Date.now();
    const body = JSON.stringify({ event, timestamp: new Date(now).toISOString(), data: typeof data === 'function' ? data() : data });
    for (const s of subs) this.insertStmt.run(randomUUID(), accountId, s.id, s.url, event, body, 'pending', s.maxAttempts, s.timeoutMs, now, now);
    if (directUrl) this.insertStmt.run(randomUUID(), accountId, null, directUrl, event, body, 'pending', 4, 10_000, now, now);
    const n = subs.length + (directUrl ? 1 : 0);
    this.emitted += n;
    return n;
  }

  /** Whether anything was queued since the last call (the worker is woken only then). */
  takeEmitted(): boolean {
    const any = this.emitted > 0;
    this.emitted = 0;
    return any;
  }

  /** A test delivery to one webhook, whatever its subscriptions. */
  emitTest(accountId: number, webhook: { id: number; url: string; name: string; timeout: number }): string {
    const now = Date.now();
    const deliveryId = randomUUID();
    const body = JSON.stringify({ event: 'webhook.test', timestamp: new Date(now).toISOString(), data: { message: 'This is a test webhook delivery', webhook_id: webhook.id, webhook_name: webhook.name } });
    this.insertStmt.run(deliveryId, accountId, webhook.id, webhook.url, 'webhook.test', body, 'pending', 1, webhook.timeout * 1000, now, now);
    return deliveryId;
  }

  /** Message events from the ledger's flush; called inside its transaction. */
  fromLedger(events: readonly LedgerEvent[]): void {
    for (const e of events) {
      if (e.type === 'outcome') {
        const o = e.outcome;
        if (o.accountId === null || o.kind === 'retry') continue;
        const data = { message_id: o.id, recipient: o.recipient, operator: o.operator, status: o.kind === 'sent' ? 'sent' : o.state, ...(o.kind === 'failed' ? { error: o.error } : { smsc_message_id: o.firstRawId }) };
        this.emit(o.accountId, o.kind === 'sent' ? 'message.sent' : 'message.failed', data, o.webhookUrl);
      } else if (e.type === 'final') {
        const m = e.message;
        if (m.account_id === null) continue;
        const delivered = e.state === 'delivered';
        const data = { message_id: m.id, recipient: m.recipient, operator: m.operator, status: e.state, sms_count: m.parts, [delivered ? 'delivered_at' : 'failed_at']: m.done_at ? new Date(m.done_at).toISOString() : null };
        this.emit(m.account_id, delivered ? 'message.delivered' : 'message.failed', data, m.webhook_url);
      } else {
        // MO belongs to no account: the operator's admins receive it.
        for (const admin of this.admins) {
          this.emit(admin, 'message.received', { id: e.id, from: e.mo.from, to: e.mo.to, text: e.mo.text, operator: e.mo.operator, opt_out: e.optOut });
          if (e.optOut) this.emit(admin, 'blacklist.added', { phone_number: e.mo.from, reason: 'opt-out keyword', source: 'mo', scope: 'global' });
        }
      }
    }
  }
}
