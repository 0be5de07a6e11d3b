/** Webhook subscriptions of an account, their delivery attempts (logs) and per-event counts. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import { Repo, pageOf, type Page, type PageRequest } from './repo.js';
import type { DeliveryStatus, WebhookLogsTable, WebhooksTable } from './tables.js';

export type WebhookRecord = Selectable<WebhooksTable>;
export type WebhookLogRecord = Selectable<WebhookLogsTable>;

export class WebhooksRepo extends Repo {
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

  insert(row: Insertable<WebhooksTable>): Promise<WebhookRecord> {
    return this.db.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(accountId: number, id: number, patch: Updateable<WebhooksTable>): Promise<WebhookRecord | undefined> {
    return this.db.updateTable('webhooks').set(patch).where('id', '=', id).where('account_id', '=', accountId).returningAll().executeTakeFirst();
  }

  async remove(accountId: number, id: number): Promise<void> {
    await this.db.deleteFrom('webhooks').where('id', '=', id).where('account_id', '=', accountId).execute();
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
