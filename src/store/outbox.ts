/** The webhook outbox's rows: deliveries queued by a change's transaction, then their attempts. */
import { sql, type Selectable } from 'kysely';
import { Prepared, Repo, type Backend, type Db, type Executor } from './repo.js';
import type { WebhookDeliveriesTable } from './tables.js';

export type NewDelivery = Pick<Selectable<WebhookDeliveriesTable>, 'delivery_id' | 'account_id' | 'webhook_id' | 'url' | 'event' | 'body' | 'max_attempts' | 'timeout_ms'> & { at: number; message_id?: number | null };

/** A due delivery as the worker reads it: the outbox row plus the secret to sign it with. */
export type DueDelivery = Pick<Selectable<WebhookDeliveriesTable>, 'id' | 'delivery_id' | 'account_id' | 'webhook_id' | 'url' | 'event' | 'body' | 'attempts' | 'max_attempts' | 'timeout_ms'> & { secret: string | null };

export interface Attempt {
  delivery: DueDelivery;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  ms: number;
  at: number;
  /** Next attempt time, or null when this one ends the delivery. */
  retryAt: number | null;
}

export class OutboxRepo extends Repo {
  private readonly q: ReturnType<typeof compileOutbox>;

  constructor(db: Db, exec: Executor, private readonly backend: Backend = 'sqlite') {
    super(db, exec);
    this.q = compileOutbox(db);
  }

  async insert(d: NewDelivery): Promise<void> {
    await this.q.insert.run(this.exec, [d.delivery_id, d.account_id, d.webhook_id, d.url, d.event, d.body, 'pending', d.max_attempts, d.timeout_ms, d.at, d.at, d.message_id ?? null]);
  }

  /**
   * A delivery to a subscription the caller found in its in-memory index. On SQLite that index is
   * the truth (one node changes webhooks and re-reads them at once). On PostgreSQL another node may
   * have changed or deleted the webhook a moment ago (this node re-reads within a second): the row
   * is written only if the webhook still exists, is active and listens to the event, with its URL
   * and limits as they are now.
   */
  async insertForSubscription(d: NewDelivery & { webhook_id: number }): Promise<void> {
    if (this.backend !== 'postgres') return this.insert(d);
    await sql`
      insert into webhook_deliveries (delivery_id, account_id, webhook_id, url, event, body, status, max_attempts, timeout_ms, next_attempt_at, created_at, message_id)
      select ${d.delivery_id}::text, ${d.account_id}::bigint, w.id, w.url, ${d.event}::text, ${d.body}::text, 'pending', w.retry_limit + 1, w.timeout * 1000,
             ${d.at}::bigint, ${d.at}::bigint, ${d.message_id ?? null}::bigint
      from webhooks w
      where w.id = ${d.webhook_id}::bigint and w.account_id = ${d.account_id}::bigint and w.is_active = 1 and w.events::jsonb ? ${d.event}::text`.execute(this.db);
  }

  due(now: number, limit: number): Promise<DueDelivery[]> {
    return this.q.due.all(this.exec, ['pending', now, limit]) as Promise<DueDelivery[]>;
  }

  /** Logs the attempt and moves the delivery on (done, failed for good, or pending again). Run on a transaction. */
  async record(a: Attempt): Promise<void> {
    const d = a.delivery;
    const ok = a.error === null;
    await this.q.log.run(this.exec, [d.delivery_id, d.webhook_id, d.account_id, d.event, d.url, a.attempt, ok ? 1 : 0, a.statusCode, a.error, a.ms, a.at]);
    if (d.webhook_id !== null) await this.q.touch.run(this.exec, [a.at, d.webhook_id]);
    if (ok || a.retryAt === null) await this.q.done.run(this.exec, [ok ? 'success' : 'failed', a.attempt, a.at, d.id]);
    else await this.q.retry.run(this.exec, ['pending', a.attempt, a.retryAt, d.id]);
  }
}

function compileOutbox(db: Db) {
  return {
    insert: new Prepared(db.insertInto('webhook_deliveries').values({
      delivery_id: '', account_id: 0, webhook_id: null, url: '', event: '', body: '', status: 'pending', max_attempts: 0, timeout_ms: 0, next_attempt_at: 0, created_at: 0, message_id: null,
    })),
    // The secret is read at send time: rotating a webhook's secret applies to queued deliveries.
    due: new Prepared(
      db.selectFrom('webhook_deliveries as d')
        .leftJoin('webhooks as w', 'w.id', 'd.webhook_id')
        .leftJoin('accounts as a', 'a.id', 'd.account_id')
        .select(['d.id', 'd.delivery_id', 'd.account_id', 'd.webhook_id', 'd.url', 'd.event', 'd.body', 'd.attempts', 'd.max_attempts', 'd.timeout_ms'])
        .select((eb) => eb.fn.coalesce('w.secret', 'a.webhook_secret').as('secret'))
        .where('d.status', '=', 'pending').where('d.next_attempt_at', '<=', 0)
        .orderBy('d.next_attempt_at').orderBy('d.id').limit(0),
    ),
    log: new Prepared(db.insertInto('webhook_logs').values({ delivery_id: '', webhook_id: null, account_id: 0, event: '', url: '', attempt: 0, success: 0, status_code: null, error: null, duration_ms: 0, created_at: 0 })),
    done: new Prepared(db.updateTable('webhook_deliveries').set({ status: 'success', attempts: 0, done_at: 0 }).where('id', '=', 0)),
    retry: new Prepared(db.updateTable('webhook_deliveries').set({ status: 'pending', attempts: 0, next_attempt_at: 0 }).where('id', '=', 0)),
    touch: new Prepared(db.updateTable('webhooks').set({ last_triggered_at: 0 }).where('id', '=', 0)),
  };
}
