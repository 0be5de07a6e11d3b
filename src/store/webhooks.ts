/** Webhook subscriptions of an account, their delivery attempts (logs) and per-event counts. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import { Repo, pageOf, type Backend, type Db, type Executor, type Page, type PageRequest } from './repo.js';
import { bumpVersion } from './shared.js';
import type { DeliveryStatus, WebhookLogsTable, WebhooksTable } from './tables.js';

export type WebhookRecord = Selectable<WebhooksTable>;
export type WebhookLogRecord = Selectable<WebhookLogsTable>;

/**
 * On PostgreSQL every change of a subscription also raises the 'webhooks' shared version in its
 * transaction: the other nodes, polling it, re-read their outbox's subscriptions.
 */
export class WebhooksRepo extends Repo {
  constructor(db: Db, exec: Executor, private readonly backend: Backend = 'sqlite') {
    super(db, exec);
  }

  private async changed(): Promise<void> {
    if (this.backend === 'postgres') await bumpVersion(this.db, 'webhooks');
  }

  list(accountId: number): Promise<WebhookRecord[]> {
    return this.db.selectFrom('webhooks').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  }

  /** Every active subscription, for the outbox's in-memory index. */
  active() {
    return this.db.selectFrom('webhooks').select(['id', 'account_id', 'url', 'events', 'retry_limit', 'timeout']).where('is_active', '=', 1).execute();
  }

  get(accountId: number, id: number): Promise<WebhookRecord | undefined> {
    return this.db.selectFrom('webhooks').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  async insert(row: Insertable<WebhooksTable>): Promise<WebhookRecord> {
    const w = await this.db.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow();
    await this.changed();
    return w;
  }

  async update(accountId: number, id: number, patch: Updateable<WebhooksTable>): Promise<WebhookRecord | undefined> {
    const w = await this.db.updateTable('webhooks').set(patch).where('id', '=', id).where('account_id', '=', accountId).returningAll().executeTakeFirst();
    if (w) await this.changed();
    return w;
  }

  async remove(accountId: number, id: number): Promise<void> {
    const { numDeletedRows } = await this.db.deleteFrom('webhooks').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (numDeletedRows > 0n) await this.changed();
  }

  logs(accountId: number, id: number, f: { event?: string | undefined; success?: boolean | undefined }, req: PageRequest): Promise<Page<WebhookLogRecord>> {
    let q = this.db.selectFrom('webhook_logs').selectAll().where('webhook_id', '=', id).where('account_id', '=', accountId);
    if (f.event) q = q.where('event', '=', f.event);
    if (f.success !== undefined) q = q.where('success', '=', f.success ? 1 : 0);
    return pageOf(q.orderBy('id', 'desc'), req);
  }

  /** Deliveries of this webhook by event and status. */
  async deliveryCounts(accountId: number, id: number): Promise<{ event: string; status: DeliveryStatus; n: number }[]> {
    const rows = await this.db.selectFrom('webhook_deliveries').select(['event', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('webhook_id', '=', id).where('account_id', '=', accountId).groupBy(['event', 'status']).execute();
    return rows.map((r) => ({ ...r, n: Number(r.n) }));
  }
}
