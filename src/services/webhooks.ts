/** Webhook subscriptions of an account: CRUD, test, logs and stats. Never another account's. */
import type { Store } from '../store/db.js';
import { EVENT_NAMES } from '../webhooks/events.js';
import type { Outbox } from '../webhooks/outbox.js';
import { checkWebhookUrl } from '../webhooks/url-policy.js';
import { notFound, validationError } from './errors.js';
import { randomSecret } from './secrets.js';

export interface WebhookInput {
  name: string;
  url: string;
  events: string[];
  secret?: string | undefined;
  retry_limit: number;
  timeout: number;
  is_active: boolean;
}

export type WebhookRow = Awaited<ReturnType<WebhookService['get']>>;

export class WebhookService {
  constructor(private readonly store: Store, private readonly outbox: Outbox, private readonly allowPrivate: boolean) {}

  /** URL rules for webhooks and per-send callbacks alike. */
  async checkUrl(url: string, field = 'url'): Promise<string> {
    const check = await checkWebhookUrl(url, this.allowPrivate, field);
    if (!check.ok) throw validationError({ [field]: [check.reason] });
    return check.url.toString();
  }

  private checkEvents(events: string[]): void {
    const unknown = events.filter((e) => !(EVENT_NAMES as string[]).includes(e));
    if (unknown.length) throw validationError({ events: [`Unknown event(s): ${unknown.join(', ')}. See GET /api/webhooks/events.`] });
  }

  async list(accountId: number) {
    return this.store.db.selectFrom('webhooks').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  }

  async get(accountId: number, id: number) {
    const row = await this.store.db.selectFrom('webhooks').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) throw notFound('webhook');
    return row;
  }

  async create(accountId: number, input: WebhookInput) {
    this.checkEvents(input.events);
    const url = await this.checkUrl(input.url);
    const now = Date.now();
    const row = await this.store.db.insertInto('webhooks').values({
      account_id: accountId, name: input.name, url, events: JSON.stringify([...new Set(input.events)]), secret: input.secret ?? randomSecret(24),
      retry_limit: input.retry_limit, timeout: input.timeout, is_active: input.is_active ? 1 : 0, created_at: now, updated_at: now,
    }).returningAll().executeTakeFirstOrThrow();
    await this.outbox.load();
    return row;
  }

  async update(accountId: number, id: number, patch: Partial<WebhookInput>) {
    const before = await this.get(accountId, id);
    if (patch.events) this.checkEvents(patch.events);
    const url = patch.url !== undefined ? await this.checkUrl(patch.url) : undefined;
    const row = await this.store.db.updateTable('webhooks').set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(url !== undefined ? { url } : {}),
      ...(patch.events ? { events: JSON.stringify([...new Set(patch.events)]) } : {}),
      ...(patch.secret !== undefined ? { secret: patch.secret } : {}),
      ...(patch.retry_limit !== undefined ? { retry_limit: patch.retry_limit } : {}),
      ...(patch.timeout !== undefined ? { timeout: patch.timeout } : {}),
      ...(patch.is_active !== undefined ? { is_active: patch.is_active ? 1 : 0 } : {}),
      updated_at: Date.now(),
    }).where('id', '=', id).where('account_id', '=', accountId).returningAll().executeTakeFirstOrThrow();
    await this.outbox.load();
    return { before, after: row };
  }

  async remove(accountId: number, id: number) {
    const before = await this.get(accountId, id);
    await this.store.db.deleteFrom('webhooks').where('id', '=', id).where('account_id', '=', accountId).execute();
    await this.outbox.load();
    return before;
  }

  async toggle(accountId: number, id: number) {
    const before = await this.get(accountId, id);
    return (await this.update(accountId, id, { is_active: before.is_active === 0 })).after;
  }

  async test(accountId: number, id: number): Promise<string> {
    const hook = await this.get(accountId, id);
    return this.store.transaction(() => this.outbox.emitTest(accountId, hook));
  }

  async logs(accountId: number, id: number, filter: { event?: string | undefined; success?: boolean | undefined; limit: number; offset: number }) {
    await this.get(accountId, id);
    let q = this.store.db.selectFrom('webhook_logs').selectAll().where('webhook_id', '=', id).where('account_id', '=', accountId);
    if (filter.event) q = q.where('event', '=', filter.event);
    if (filter.success !== undefined) q = q.where('success', '=', filter.success ? 1 : 0);
    const rows = await q.orderBy('id', 'desc').limit(filter.limit).offset(filter.offset).execute();
    const { n } = await q.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(n) };
  }

  /** Triggers are deliveries (one event to this webhook), however many attempts each took. */
  async stats(accountId: number, id: number) {
    const hook = await this.get(accountId, id);
    const rows = await this.store.db.selectFrom('webhook_deliveries').select(['event', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('webhook_id', '=', id).where('account_id', '=', accountId).groupBy(['event', 'status']).execute();
    let total = 0, successful = 0, failed = 0;
    const byEvent = new Map<string, number>();
    for (const r of rows) {
      const n = Number(r.n);
      total += n;
      if (r.status === 'success') successful += n;
      if (r.status === 'failed') failed += n;
      byEvent.set(r.event, (byEvent.get(r.event) ?? 0) + n);
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
