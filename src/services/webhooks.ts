/** Webhook subscriptions of an account: CRUD, test, logs and stats. Never another account's. */
import type { Store } from '../store/db.js';
import type { Page, PageRequest } from '../store/repo.js';
import type { WebhookLogRecord, WebhookRecord } from '../store/webhooks.js';
import { EVENT_NAMES } from '../webhooks/events.js';
import { checkWebhookUrl } from '../webhooks/url-policy.js';
import type { Changes } from './changes.js';
import { fieldError, notFound } from './errors.js';
import { authorize, type Actor } from './policy.js';
import { randomSecret } from './secrets.js';

export type { WebhookLogRecord, WebhookRecord };

export interface WebhookInput {
  name: string;
  url: string;
  events: string[];
  secret?: string | undefined;
  retry_limit: number;
  timeout: number;
  is_active: boolean;
}

export interface WebhookStats {
  total_triggers: number;
  successful: number;
  failed: number;
  pending: number;
  success_rate: number;
  last_triggered_at: number | null;
  events_by_type: { event: string; count: number }[];
}

/** What the audit log keeps of a webhook (the secret is masked there). */
const snapshot = (w: WebhookRecord) => ({ id: w.id, name: w.name, url: w.url, events: JSON.parse(w.events) as string[], retry_limit: w.retry_limit, timeout: w.timeout, is_active: w.is_active === 1, secret: w.secret });

export class WebhookService {
  constructor(private readonly store: Store, private readonly changes: Changes, private readonly allowPrivate: boolean) {}

  /** URL rules for webhooks and per-send callbacks alike; a refusal names `field`. */
  async checkUrl(url: string, field = 'url'): Promise<string> {
    const check = await checkWebhookUrl(url, this.allowPrivate);
    if (!check.ok) throw fieldError(field, check.code, check.host ? { host: check.host } : undefined);
    return check.url.toString();
  }

  private checkEvents(events: string[]): void {
    const unknown = events.filter((e) => !(EVENT_NAMES as string[]).includes(e));
    if (unknown.length) throw fieldError('events', 'unknown_events', { events: unknown.join(', ') });
  }

  list(actor: Actor): Promise<WebhookRecord[]> {
    authorize(actor, 'manage_webhooks');
    return this.store.repos.webhooks.list(actor.account.id);
  }

  async get(actor: Actor, id: number): Promise<WebhookRecord> {
    authorize(actor, 'manage_webhooks');
    return this.found(await this.store.repos.webhooks.get(actor.account.id, id));
  }

  private found(row: WebhookRecord | undefined): WebhookRecord {
    if (!row) throw notFound('webhook');
    return row;
  }

  async create(actor: Actor, input: WebhookInput): Promise<WebhookRecord> {
    authorize(actor, 'manage_webhooks');
    this.checkEvents(input.events);
    const url = await this.checkUrl(input.url);
    const now = Date.now();
    const row = await this.changes.run(actor, async (c) => {
      const w = await c.tx.webhooks.insert({
        account_id: actor.account.id, name: input.name, url, events: JSON.stringify([...new Set(input.events)]), secret: input.secret ?? randomSecret(24),
        retry_limit: input.retry_limit, timeout: input.timeout, is_active: input.is_active ? 1 : 0, created_at: now, updated_at: now,
      });
      await c.audit({ action: 'webhook.created', model: 'Webhook', modelId: w.id, new: snapshot(w) });
      return w;
    });
    await this.changes.reloadSubscribers();
    return row;
  }

  /** Changes only what the patch names. */
  async update(actor: Actor, id: number, patch: Partial<WebhookInput>, action = 'webhook.updated'): Promise<WebhookRecord> {
    authorize(actor, 'manage_webhooks');
    if (patch.events) this.checkEvents(patch.events);
    const url = patch.url !== undefined ? await this.checkUrl(patch.url) : undefined;
    const row = await this.changes.run(actor, async (c) => {
      const before = this.found(await c.tx.webhooks.get(actor.account.id, id));
      const after = this.found(await c.tx.webhooks.update(actor.account.id, id, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(url !== undefined ? { url } : {}),
        ...(patch.events ? { events: JSON.stringify([...new Set(patch.events)]) } : {}),
        ...(patch.secret !== undefined ? { secret: patch.secret } : {}),
        ...(patch.retry_limit !== undefined ? { retry_limit: patch.retry_limit } : {}),
        ...(patch.timeout !== undefined ? { timeout: patch.timeout } : {}),
        ...(patch.is_active !== undefined ? { is_active: patch.is_active ? 1 : 0 } : {}),
        updated_at: Date.now(),
      }));
      await c.audit(action === 'webhook.toggled'
        ? { action, model: 'Webhook', modelId: id, new: { is_active: after.is_active === 1 } }
        : { action, model: 'Webhook', modelId: id, old: snapshot(before), new: snapshot(after) });
      return after;
    });
    await this.changes.reloadSubscribers();
    return row;
  }

  async remove(actor: Actor, id: number): Promise<WebhookRecord> {
    authorize(actor, 'manage_webhooks');
    const before = await this.changes.run(actor, async (c) => {
      const before = this.found(await c.tx.webhooks.get(actor.account.id, id));
      await c.tx.webhooks.remove(actor.account.id, id);
      await c.audit({ action: 'webhook.deleted', model: 'Webhook', modelId: id, old: snapshot(before) });
      return before;
    });
    await this.changes.reloadSubscribers();
    return before;
  }

  async toggle(actor: Actor, id: number): Promise<WebhookRecord> {
    const before = await this.get(actor, id);
    return this.update(actor, id, { is_active: before.is_active === 0 }, 'webhook.toggled');
  }

  /** Queues the webhook.test payload to this webhook; returns the delivery id. */
  test(actor: Actor, id: number): Promise<string> {
    authorize(actor, 'manage_webhooks');
    return this.changes.run(actor, async (c) => c.emitTest(this.found(await c.tx.webhooks.get(actor.account.id, id))));
  }

  /** One webhook with its last delivery attempts. */
  async detail(actor: Actor, id: number, lastLogs = 10): Promise<{ webhook: WebhookRecord; logs: WebhookLogRecord[] }> {
    const webhook = await this.get(actor, id);
    return { webhook, logs: (await this.store.repos.webhooks.logs(actor.account.id, id, {}, { page: 1, size: lastLogs })).rows };
  }

  async logs(actor: Actor, id: number, f: { event?: string | undefined; success?: boolean | undefined }, req: PageRequest): Promise<Page<WebhookLogRecord>> {
    await this.get(actor, id);
    return this.store.repos.webhooks.logs(actor.account.id, id, f, req);
  }

  /** Triggers are deliveries (one event to this webhook), however many attempts each took. */
  async stats(actor: Actor, id: number): Promise<WebhookStats> {
    const hook = await this.get(actor, id);
    let total = 0, successful = 0, failed = 0;
    const byEvent = new Map<string, number>();
    for (const r of await this.store.repos.webhooks.deliveryCounts(actor.account.id, id)) {
      total += r.n;
      if (r.status === 'success') successful += r.n;
      if (r.status === 'failed') failed += r.n;
      byEvent.set(r.event, (byEvent.get(r.event) ?? 0) + r.n);
    }
    const decided = successful + failed;
    return {
      total_triggers: total, successful, failed, pending: total - decided,
      success_rate: decided ? Math.round((successful / decided) * 10_000) / 100 : 0,
      last_triggered_at: hook.last_triggered_at,
      events_by_type: [...byEvent].sort((a, b) => b[1] - a[1]).map(([event, count]) => ({ event, count })),
    };
  }
}
