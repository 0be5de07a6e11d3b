/**
 * The webhook outbox's batch writes on PostgreSQL: the deliveries of a ledger flush's events, and
 * the attempts a worker made since its last record, each as one or two array statements (`unnest`)
 * instead of a round trip per row (see batches.ts: the same reason as the ledger's).
 */
import { sql, type Kysely } from 'kysely';
import type { Attempt, NewDelivery } from '../outbox.js';
import type { Executor, Prepared } from '../repo.js';
import { columns, prepareRaw } from './arrays.js';

export class BatchedOutbox {
  private readonly insert: Prepared<unknown>;
  private readonly record: Prepared<{ id: number }>;
  private readonly log: Prepared<unknown>;

  constructor(db: Kysely<any>) {
    // A delivery to a subscription is written only if the webhook still exists, is active and
    // listens to the event (another node may have just changed it), with its URL and limits as
    // they are now; a per-send URL (no webhook) always. Rows keep their order (their ids: FIFO).
    this.insert = prepareRaw(db, sql`
      insert into webhook_deliveries (delivery_id, account_id, webhook_id, url, event, body, status, max_attempts, timeout_ms, next_attempt_at, created_at, message_id)
      select v.delivery_id, v.account_id, v.webhook_id, coalesce(w.url, v.url), v.event, v.body, 'pending',
        coalesce(w.retry_limit + 1, v.max_attempts), coalesce(w.timeout * 1000, v.timeout_ms), v.at, v.at, v.message_id
      from unnest(${[]}::text[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::text[], ${[]}::text[], ${[]}::text[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::bigint[])
        with ordinality as v(delivery_id, account_id, webhook_id, url, event, body, max_attempts, timeout_ms, at, message_id, n)
      left join webhooks w on w.id = v.webhook_id and w.account_id = v.account_id and w.is_active = 1 and w.events::jsonb ? v.event
      where v.webhook_id is null or w.id is not null
      order by v.n`);
    // An attempt that ends the delivery names its final status; one to be retried names none.
    // Only rows still claimed by this node move (another may have taken over after our lease).
    this.record = prepareRaw(db, sql<{ id: number }>`
      update webhook_deliveries set attempts = v.attempt, lease_until = null,
        status = coalesce(v.status, webhook_deliveries.status),
        done_at = case when v.status is null then webhook_deliveries.done_at else v.at end,
        next_attempt_at = case when v.status is null then v.retry_at else webhook_deliveries.next_attempt_at end
      from unnest(${[]}::bigint[], ${[]}::text[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::bigint[]) as v(id, status, attempt, at, retry_at)
      where webhook_deliveries.id = v.id and webhook_deliveries.claimed_by = ${''} and webhook_deliveries.status = 'pending'
      returning webhook_deliveries.id`);
    this.log = prepareRaw(db, sql`
      insert into webhook_logs (delivery_id, webhook_id, account_id, event, url, attempt, success, status_code, error, duration_ms, created_at)
      select * from unnest(${[]}::text[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::text[], ${[]}::text[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::text[], ${[]}::bigint[], ${[]}::bigint[])`);
  }

  async insertMany(exec: Executor, rows: readonly NewDelivery[]): Promise<void> {
    if (!rows.length) return;
    await this.insert.run(exec, columns(rows.map((d) => [d.delivery_id, d.account_id, d.webhook_id, d.url, d.event, d.body, d.max_attempts, d.timeout_ms, d.at, d.message_id ?? null]), 10));
  }

  /** Records the attempts on rows still this node's; returns those that were not (taken over). */
  async recordMany(exec: Executor, attempts: readonly Attempt[], node: string): Promise<Attempt[]> {
    if (!attempts.length) return [];
    const status = (a: Attempt) => (a.error === null ? 'success' : a.retryAt === null ? 'failed' : null);
    const moved = new Set((await this.record.all(exec, [...columns(attempts.map((a) => [a.delivery.id, status(a), a.attempt, a.at, a.retryAt]), 5), node])).map((r) => r.id));
    const recorded = attempts.filter((a) => moved.has(a.delivery.id));
    if (recorded.length) {
      const d = (a: Attempt) => a.delivery;
      await this.log.run(exec, columns(recorded.map((a) => [d(a).delivery_id, d(a).webhook_id, d(a).account_id, d(a).event, d(a).url, a.attempt, a.error === null ? 1 : 0, a.statusCode, a.error, a.ms, a.at]), 11));
    }
    return attempts.filter((a) => !moved.has(a.delivery.id));
  }
}
