/**
 * Delivers the webhook outbox. Each delivery is POSTed with undici (kept-alive connections),
 * signed over the exact raw body, and retried with exponential backoff until its attempts run
 * out. Concurrency is bounded globally and per destination, so a receiver that hangs only holds
 * its own slots: others' deliveries and the SMS path never wait on it. Every attempt is logged.
 */
import type { Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { WebhookDeliveriesTable } from '../store/tables.js';
import { sign } from './signing.js';
import { guardedLookup } from './url-policy.js';

export interface WorkerOptions {
  allowPrivate: boolean;
  retryInitialMs: number;
  retryMaxMs: number;
  concurrency: number;
  perDestination: number;
  version: string;
}

/** A due delivery as the poll reads it: the outbox row plus the secret to sign it with. */
type Due = Pick<Selectable<WebhookDeliveriesTable>, 'id' | 'delivery_id' | 'account_id' | 'webhook_id' | 'url' | 'event' | 'body' | 'attempts' | 'max_attempts' | 'timeout_ms'> & { secret: string | null };

const POLL_MS = 100;
const MAX_ERROR = 500;

export class WebhookWorker {
  private readonly agent: Agent;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly perDestination = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly dueStmt: Statement;
  private readonly logStmt: Statement;
  private readonly doneStmt: Statement;
  private readonly retryStmt: Statement;
  private readonly touchStmt: Statement;

  constructor(private readonly store: Store, private readonly opts: WorkerOptions, private readonly log: Logger) {
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: 16, connect: { lookup: guardedLookup(opts.allowPrivate) as never } });
    const { db } = store;
    // The secret is read at send time: rotating a webhook's secret applies to queued deliveries.
    this.dueStmt = store.prepare(
      db.selectFrom('webhook_deliveries as d')
        .leftJoin('webhooks as w', 'w.id', 'd.webhook_id')
        .leftJoin('accounts as a', 'a.id', 'd.account_id')
        .select(['d.id', 'd.delivery_id', 'd.account_id', 'd.webhook_id', 'd.url', 'd.event', 'd.body', 'd.attempts', 'd.max_attempts', 'd.timeout_ms'])
        .select((eb) => eb.fn.coalesce('w.secret', 'a.webhook_secret').as('secret'))
        .where('d.status', '=', 'pending').where('d.next_attempt_at', '<=', 0)
        .orderBy('d.next_attempt_at').orderBy('d.id').limit(0),
    );
    this.logStmt = store.prepare(
      db.insertInto('webhook_logs').values({ delivery_id: '', webhook_id: null, account_id: 0, event: '', url: '', attempt: 0, success: 0, status_code: null, error: null, duration_ms: 0, created_at: 0 }),
    );
    this.doneStmt = store.prepare(db.updateTable('webhook_deliveries').set({ status: 'success', attempts: 0, done_at: 0 }).where('id', '=', 0));
    this.retryStmt = store.prepare(db.updateTable('webhook_deliveries').set({ status: 'pending', attempts: 0, next_attempt_at: 0 }).where('id', '=', 0));
    this.touchStmt = store.prepare(db.updateTable('webhooks').set({ last_triggered_at: 0 }).where('id', '=', 0));
  }

  start(): void {
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  /** Poll now (after a commit that queued deliveries) instead of at the next tick. */
  kick(): void {
    setImmediate(() => this.poll());
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Attempts under way finish (bounded by their timeouts); the rest stay queued for the next start.
    await Promise.allSettled([...this.inFlight.values()]);
    await this.agent.close().catch(() => undefined);
  }

  private poll(): void {
    if (this.polling || !this.timer) return;
    this.polling = true;
    try {
      const room = this.opts.concurrency - this.inFlight.size;
      if (room <= 0) return;
      // Ask for more than the room: some rows are in flight or wait on a busy destination.
      const due = this.dueStmt.all('pending', Date.now(), room + this.inFlight.size + 50) as Due[];
      for (const d of due) {
        if (this.inFlight.size >= this.opts.concurrency) break;
        if (this.inFlight.has(d.id)) continue;
        const dest = d.webhook_id === null ? d.url : `w${d.webhook_id}`;
        if ((this.perDestination.get(dest) ?? 0) >= this.opts.perDestination) continue;
        this.perDestination.set(dest, (this.perDestination.get(dest) ?? 0) + 1);
        const p = this.attempt(d).finally(() => {
          this.inFlight.delete(d.id);
          this.perDestination.set(dest, (this.perDestination.get(dest) ?? 1) - 1);
        });
        this.inFlight.set(d.id, p);
      }
    } catch (err) {
      this.log.error({ err }, 'webhook poll failed');
    } finally {
      this.polling = false;
    }
  }

  private async attempt(d: Due): Promise<void> {
    const attempt = d.attempts + 1;
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await request(d.url, {
        method: 'POST',
        body: d.body,
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': `Relais-Webhooks/${this.opts.version}`,
          'x-webhook-event': d.event,
          'x-webhook-delivery': d.delivery_id,
          'x-webhook-signature': sign(d.body, d.secret ?? ''),
        },
        headersTimeout: d.timeout_ms,
        bodyTimeout: d.timeout_ms,
        signal: AbortSignal.timeout(d.timeout_ms),
      });
      statusCode = res.statusCode;
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    } catch (err) {
      error = describe(err);
    }
    this.record(d, attempt, statusCode, error, Math.round(performance.now() - started));
  }

  private record(d: Due, attempt: number, statusCode: number | null, error: string | null, ms: number): void {
    const now = Date.now();
    const ok = error === null;
    this.store.transaction(() => {
      this.logStmt.run(d.delivery_id, d.webhook_id, d.account_id, d.event, d.url, attempt, ok ? 1 : 0, statusCode, error?.slice(0, MAX_ERROR) ?? null, ms, now);
      if (d.webhook_id !== null) this.touchStmt.run(now, d.webhook_id);
      if (ok) this.doneStmt.run('success', attempt, now, d.id);
      else if (attempt >= d.max_attempts) this.doneStmt.run('failed', attempt, now, d.id);
      else this.retryStmt.run('pending', attempt, now + this.backoff(attempt), d.id);
    });
    if (!ok) this.log.info({ delivery: d.delivery_id, event: d.event, attempt, of: d.max_attempts, error }, 'webhook delivery failed');
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.opts.retryMaxMs, this.opts.retryInitialMs * 2 ** (attempt - 1));
    return Math.round(base * (0.9 + 0.2 * Math.random()));
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}
