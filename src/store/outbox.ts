/**
 * The webhook outbox's rows: deliveries queued by a change's transaction, then their attempts.
 * Several nodes may deliver from one outbox: a node claims due deliveries under a lease (its name
 * and an expiry, renewed while it holds them), and records an attempt only on a row still its own,
 * so each delivery is attempted by one node at a time; a dead node's claims lapse with its lease.
 */
import { sql, type Selectable } from 'kysely';
import { Prepared, Repo, type Backend, type Db, type Executor } from './repo.js';
import type { WebhookDeliveriesTable } from './tables.js';
import { BatchedOutbox } from './postgres/outbox-batches.js';

export type NewDelivery = Pick<Selectable<WebhookDeliveriesTable>, 'delivery_id' | 'account_id' | 'webhook_id' | 'url' | 'event' | 'body' | 'max_attempts' | 'timeout_ms'> & { at: number; message_id?: number | null };

/** A due delivery as the worker claims it: the outbox row plus the secret to sign it with. */
export type DueDelivery = Pick<Selectable<WebhookDeliveriesTable>, 'id' | 'delivery_id' | 'account_id' | 'webhook_id' | 'url' | 'event' | 'body' | 'attempts' | 'max_attempts' | 'timeout_ms' | 'next_attempt_at'> & { secret: string | null };

/** Who claims, and until when the claim holds unless renewed. */
export interface DeliveryLease {
  node: string;
  now: number;
  until: number;
}

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

/** Ids per statement when renewing or giving back claims (far below any backend's parameter limit). */
const IDS_PER_STATEMENT = 500;

export class OutboxRepo extends Repo {
  private readonly q: ReturnType<typeof compileOutbox>;
  /** PostgreSQL: many rows per statement (a statement there is a round trip). */
  private readonly batched: BatchedOutbox | null;

  constructor(db: Db, exec: Executor, private readonly backend: Backend = 'sqlite') {
    super(db, exec);
    this.q = compileOutbox(db, backend);
    this.batched = backend === 'postgres' ? new BatchedOutbox(db) : null;
  }

  async insert(d: NewDelivery): Promise<void> {
    await this.q.insert.run(this.exec, [d.delivery_id, d.account_id, d.webhook_id, d.url, d.event, d.body, 'pending', d.max_attempts, d.timeout_ms, d.at, d.at, d.message_id ?? null]);
  }

  /**
   * Deliveries queued by one transaction (a ledger flush's events, or one change's), in order. A
   * row naming a webhook comes from the caller's in-memory index of subscriptions. On SQLite that
   * index is the truth (one node changes webhooks and re-reads them at once). On PostgreSQL another
   * node may have changed or deleted the webhook a moment ago (this node re-reads within a second):
   * there the row is written only if the webhook still exists, is active and listens to the event,
   * with its URL and limits as they are now — and all rows in one statement.
   */
  async insertMany(rows: readonly NewDelivery[]): Promise<void> {
    if (this.batched) return this.batched.insertMany(this.exec, rows);
    for (const d of rows) await this.insert(d);
  }

  /**
   * Claims up to `limit` due deliveries nobody holds (never claimed, given back, or whose lease ran
   * out), oldest due first: one statement, and on PostgreSQL rows another node is claiming at the
   * same moment are skipped, not waited for.
   */
  async claim(lease: DeliveryLease, limit: number): Promise<DueDelivery[]> {
    const rows = (await this.q.claim.all(this.exec, [lease.node, lease.until, 'pending', lease.now, lease.now, limit])) as DueDelivery[];
    return rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id);
  }

  /**
   * Extends `node`'s claims on these deliveries; returns those renewed: still its own and pending.
   * A row locked at that moment (its attempt being recorded) is skipped, not waited for: waiting
   * could deadlock with the record's transaction, which takes its rows in another order.
   */
  async renew(node: string, ids: readonly number[], until: number): Promise<number[]> {
    const renewed: number[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
      const mine = this.db.selectFrom('webhook_deliveries').select('id')
        .where('id', 'in', ids.slice(i, i + IDS_PER_STATEMENT)).where('claimed_by', '=', node).where('status', '=', 'pending');
      const rows = await this.db.updateTable('webhook_deliveries').set({ lease_until: until })
        .where('id', 'in', this.backend === 'postgres' ? mine.forUpdate().skipLocked() : mine).returning('id').execute();
      for (const r of rows) renewed.push(r.id);
    }
    return renewed;
  }

  /**
   * Gives claims back, so any node may take them at once: `node`'s on these deliveries (a stop),
   * `node`'s all (a start under a node id that ran before), or everyone's (`node` null: the one
   * node of a SQLite database starting, so every claim is a previous process's).
   */
  async release(node: string | null, ids?: readonly number[]): Promise<number> {
    const release = async (some?: readonly number[]) => {
      let held = this.db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').where('lease_until', 'is not', null);
      if (node !== null) held = held.where('claimed_by', '=', node);
      if (some) held = held.where('id', 'in', some);
      const r = await this.db.updateTable('webhook_deliveries').set({ lease_until: null })
        .where('id', 'in', this.backend === 'postgres' ? held.forUpdate().skipLocked() : held).executeTakeFirst();
      return Number(r.numUpdatedRows);
    };
    if (!ids) return release();
    let n = 0;
    for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) n += await release(ids.slice(i, i + IDS_PER_STATEMENT));
    return n;
  }

  /**
   * Logs each attempt and moves its delivery on (done, failed for good, or pending again), only
   * while the delivery is still `node`'s claim; returns the attempts not recorded (another node
   * took the delivery over after this node's lease ran out: nothing written for them). Run on a
   * transaction, then `touch` the webhooks it recorded attempts for.
   */
  async recordMany(attempts: readonly Attempt[], node: string): Promise<Attempt[]> {
    if (this.batched) return this.batched.recordMany(this.exec, attempts, node);
    const lost: Attempt[] = [];
    for (const a of attempts) if (!(await this.record(a, node))) lost.push(a);
    return lost;
  }

  private async record(a: Attempt, node: string): Promise<boolean> {
    const d = a.delivery;
    const ok = a.error === null;
    const moved = ok || a.retryAt === null
      ? await this.q.done.run(this.exec, [ok ? 'success' : 'failed', a.attempt, a.at, null, d.id, node, 'pending'])
      : await this.q.retry.run(this.exec, [a.attempt, a.retryAt, null, d.id, node, 'pending']);
    if (moved === 0) return false;
    await this.q.log.run(this.exec, [d.delivery_id, d.webhook_id, d.account_id, d.event, d.url, a.attempt, ok ? 1 : 0, a.statusCode, a.error, a.ms, a.at]);
    return true;
  }

  /**
   * When each webhook was last triggered: once per webhook for a batch of attempts, in id order
   * (nodes recording at once then wait for each other's row, never in a cycle).
   */
  async touch(lastAttempt: ReadonlyMap<number, number>): Promise<void> {
    for (const [webhookId, at] of [...lastAttempt].sort(([x], [y]) => x - y)) await this.q.touch.run(this.exec, [at, webhookId]);
  }
}

function compileOutbox(db: Db, backend: Backend) {
  // PostgreSQL: several nodes claim at once; each skips the rows another is claiming instead of
  // waiting for them (SQLite has one writer: nothing to skip).
  const due = db.selectFrom('webhook_deliveries').select('id')
    .where('status', '=', 'pending').where('next_attempt_at', '<=', 0)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', 0)]))
    .orderBy('next_attempt_at').orderBy('id').limit(0);
  return {
    insert: new Prepared(db.insertInto('webhook_deliveries').values({
      delivery_id: '', account_id: 0, webhook_id: null, url: '', event: '', body: '', status: 'pending', max_attempts: 0, timeout_ms: 0, next_attempt_at: 0, created_at: 0, message_id: null,
    })),
    // The secret is read at send time: rotating a webhook's secret applies to queued deliveries.
    claim: new Prepared(
      db.updateTable('webhook_deliveries')
        .set({ claimed_by: '', lease_until: 0 })
        .where('id', 'in', backend === 'postgres' ? due.forUpdate().skipLocked() : due)
        .returning(['id', 'delivery_id', 'account_id', 'webhook_id', 'url', 'event', 'body', 'attempts', 'max_attempts', 'timeout_ms', 'next_attempt_at'])
        .returning(sql<string | null>`coalesce((select w.secret from webhooks w where w.id = webhook_deliveries.webhook_id), (select a.webhook_secret from accounts a where a.id = webhook_deliveries.account_id))`.as('secret')),
    ),
    log: new Prepared(db.insertInto('webhook_logs').values({ delivery_id: '', webhook_id: null, account_id: 0, event: '', url: '', attempt: 0, success: 0, status_code: null, error: null, duration_ms: 0, created_at: 0 })),
    done: new Prepared(db.updateTable('webhook_deliveries').set({ status: 'success', attempts: 0, done_at: 0, lease_until: null }).where('id', '=', 0).where('claimed_by', '=', '').where('status', '=', 'pending')),
    retry: new Prepared(db.updateTable('webhook_deliveries').set({ attempts: 0, next_attempt_at: 0, lease_until: null }).where('id', '=', 0).where('claimed_by', '=', '').where('status', '=', 'pending')),
    touch: new Prepared(db.updateTable('webhooks').set({ last_triggered_at: 0 }).where('id', '=', 0)),
  };
}
