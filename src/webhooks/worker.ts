/**
 * Delivers the webhook outbox. Each delivery is POSTed with undici (kept-alive connections),
 * signed over the exact raw body, and retried with exponential backoff until its attempts run
 * out. Concurrency is bounded globally and per destination, so a receiver that hangs only holds
 * its own slots: others' deliveries and the SMS path never wait on it. Every attempt is logged.
 */
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { Store } from '../store/db.js';
import type { DueDelivery } from '../store/outbox.js';
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

const POLL_MS = 100;
const MAX_ERROR = 500;

export class WebhookWorker {
  private readonly agent: Agent;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly perDestination = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(private readonly store: Store, private readonly opts: WorkerOptions, private readonly log: Logger) {
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: 16, connect: { lookup: guardedLookup(opts.allowPrivate) as never } });
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  /** Poll now (after a commit that queued deliveries) instead of at the next tick. */
  kick(): void {
    setImmediate(() => void this.poll());
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Attempts under way finish (bounded by their timeouts); the rest stay queued for the next start.
    await Promise.allSettled([...this.inFlight.values()]);
    await this.agent.close().catch(() => undefined);
  }

  private async poll(): Promise<void> {
    // While the database cannot write, an attempt could not be recorded and would be made again
    // and again: deliveries wait until it can.
    if (this.polling || !this.timer || !this.store.health.writable) return;
    this.polling = true;
    try {
      const room = this.opts.concurrency - this.inFlight.size;
      if (room <= 0) return;
      // Ask for more than the room: some rows are in flight or wait on a busy destination.
      const due = await this.store.repos.outbox.due(Date.now(), room + this.inFlight.size + 50);
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

  private async attempt(d: DueDelivery): Promise<void> {
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
    await this.record(d, attempt, statusCode, error, Math.round(performance.now() - started));
  }

  private async record(d: DueDelivery, attempt: number, statusCode: number | null, error: string | null, ms: number): Promise<void> {
    const at = Date.now();
    const ok = error === null;
    const retryAt = ok || attempt >= d.max_attempts ? null : at + this.backoff(attempt);
    try {
      await this.store.transaction((tx) => tx.outbox.record({ delivery: d, attempt, statusCode, error: error?.slice(0, MAX_ERROR) ?? null, ms, at, retryAt }));
    } catch (err) {
      // Not recorded: the delivery stays pending and is attempted again (receivers dedupe by X-Webhook-Delivery).
      this.log.error({ err, delivery: d.delivery_id }, 'webhook attempt not recorded');
    }
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
