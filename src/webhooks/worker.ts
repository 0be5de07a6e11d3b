/**
 * Delivers the webhook outbox. Each delivery is POSTed with undici (kept-alive connections),
 * signed over the exact raw body, and retried with exponential backoff until its attempts run
 * out. Concurrency is bounded globally and per destination, so a receiver that hangs only holds
 * its own slots: others' deliveries and the SMS path never wait on it. Every attempt is logged.
 *
 * Several nodes may share the outbox: each claims what it takes under a lease (renewed while it
 * holds the delivery, given back when it stops), so a delivery is attempted by one node at a
 * time; a node that dies holds its claims until their lease runs out, then another takes them.
 */
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { Store } from '../store/db.js';
import type { Attempt, DueDelivery } from '../store/outbox.js';
import { sign } from './signing.js';
import { guardedLookup } from './url-policy.js';

export interface WorkerOptions {
  allowPrivate: boolean;
  retryInitialMs: number;
  retryMaxMs: number;
  concurrency: number;
  perDestination: number;
  version: string;
  /** This node's name on its claims, and how long a claim lasts unless renewed (ms). */
  node: string;
  leaseMs: number;
}

const POLL_MS = 100;
const MAX_ERROR = 500;
/** Attempts are recorded in batches this often (and retried this much later if that fails). */
const RECORD_MS = 10;
const RECORD_RETRY_MS = 1000;

const destination = (d: DueDelivery): string => (d.webhook_id === null ? d.url : `w${d.webhook_id}`);

export class WebhookWorker {
  private readonly agent: Agent;
  /** Claimed, due, not started yet: slots are refilled from here without a query. */
  private ready: DueDelivery[] = [];
  /** In flight, or attempted and waiting for its record to commit: never fetched twice. */
  private readonly busy = new Set<number>();
  /** Until when each delivery in hand (ready or busy) is known to be this node's claim. */
  private readonly heldUntil = new Map<number, number>();
  private renewTimer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;
  /** Claims a previous process left under this node's name (or, on SQLite, any) are given back first. */
  private released = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly perDestination = new Map<string, number>();
  /** Attempts made, recorded together (one transaction every few ms, like the ledger). */
  private results: Attempt[] = [];
  private recordTimer: NodeJS.Timeout | null = null;
  private recording: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Stopped: an attempt cut short is not recorded (it is made again at the next start). */
  private cut = false;
  private polling = false;
  private pollAgain = false;

  constructor(private readonly store: Store, private readonly opts: WorkerOptions, private readonly log: Logger) {
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: Math.max(16, opts.perDestination), connect: { lookup: guardedLookup(opts.allowPrivate) as never } });
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.opts.leaseMs / 3)));
    this.renewTimer.unref();
  }

  /** Poll now (after a commit that queued deliveries) instead of at the next tick. */
  kick(): void {
    setImmediate(() => void this.poll());
  }

  /**
   * Attempts under way may finish until `deadline`; then they are cut (not recorded: attempted
   * again at the next start, receivers dedupe by X-Webhook-Delivery). The rest stay queued.
   */
  async stop(deadline = Infinity): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    const left = deadline - Date.now();
    const settled = Promise.allSettled([...this.inFlight]);
    if (Number.isFinite(left)) await Promise.race([settled, new Promise((r) => setTimeout(r, Math.max(0, left)).unref())]);
    else await settled;
    this.cut = true;
    await this.flushRecords();
    await this.renewing;
    // What is still in hand (not started, or cut short) goes back at once: another node need not
    // wait for the lease to run out.
    const held = [...this.heldUntil.keys()];
    if (held.length) await this.store.repos.outbox.release(this.opts.node, held).catch((err: unknown) => this.log.warn({ err, deliveries: held.length }, 'webhook claims not given back: another node takes them when their lease runs out'));
    this.heldUntil.clear();
    await this.agent.destroy().catch(() => undefined);
  }

  private async poll(): Promise<void> {
    // While the database cannot write, an attempt could not be recorded and would be made again
    // and again: deliveries wait until it can.
    if (!this.timer || !this.store.health.writable) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      const outbox = this.store.repos.outbox;
      if (!this.released) {
        await outbox.release(this.store.backend === 'sqlite' ? null : this.opts.node);
        this.released = true;
      }
      // Enough to keep every slot busy for a while, not more: what a node holds, other nodes
      // cannot take (what is in hand stays claimed, so is not returned).
      const limit = this.opts.concurrency * 2 - this.ready.length;
      if (limit > 0) {
        const now = Date.now();
        const until = now + this.opts.leaseMs;
        const due = await outbox.claim({ node: this.opts.node, now, until }, limit);
        const queued = new Set(this.ready.map((d) => d.id));
        for (const d of due) {
          this.heldUntil.set(d.id, until);
          if (!this.busy.has(d.id) && !queued.has(d.id)) this.ready.push(d);
        }
      }
    } catch (err) {
      this.log.error({ err }, 'webhook poll failed');
    } finally {
      this.polling = false;
    }
    this.pump();
    if (this.pollAgain) {
      this.pollAgain = false;
      this.kick();
    }
  }

  /** Starts what the slots allow: globally, and per destination so one slow receiver holds only its own. */
  private pump(): void {
    const waiting: DueDelivery[] = [];
    const now = Date.now();
    for (const d of this.ready) {
      // A claim whose lease ran out unrenewed (the database was out of reach) may be another
      // node's now: not attempted here; claimed again if nobody else did. One about to run out
      // waits for its renewal: an attempt started now could outlive it.
      const until = this.heldUntil.get(d.id) ?? 0;
      if (until <= now) {
        this.heldUntil.delete(d.id);
        continue;
      }
      const dest = destination(d);
      if (until - now < this.opts.leaseMs / 4 || this.inFlight.size >= this.opts.concurrency || (this.perDestination.get(dest) ?? 0) >= this.opts.perDestination) {
        waiting.push(d);
        continue;
      }
      this.perDestination.set(dest, (this.perDestination.get(dest) ?? 0) + 1);
      this.busy.add(d.id);
      const p = this.attempt(d).finally(() => {
        this.inFlight.delete(p);
        this.perDestination.set(dest, (this.perDestination.get(dest) ?? 1) - 1);
        this.pump();
        if (!this.ready.length) this.kick(); // the slot is free and nothing is in hand: look for more
      });
      this.inFlight.add(p);
    }
    this.ready = waiting;
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
    if (this.cut) return;
    const at = Date.now();
    const retryAt = error === null || attempt >= d.max_attempts ? null : at + this.backoff(attempt);
    this.results.push({ delivery: d, attempt, statusCode, error: error?.slice(0, MAX_ERROR) ?? null, ms: Math.round(performance.now() - started), at, retryAt });
    this.recordTimer ??= setTimeout(() => void this.flushRecords(), RECORD_MS);
    if (error !== null) this.log.info({ delivery: d.delivery_id, event: d.event, attempt, of: d.max_attempts, error }, 'webhook delivery failed');
  }

  /** The attempts made since the last flush, in one transaction; a delivery is fetchable again once its record is in. */
  private async flushRecords(): Promise<void> {
    if (this.recordTimer) clearTimeout(this.recordTimer);
    this.recordTimer = null;
    while (this.recording) await this.recording;
    const batch = this.results;
    if (!batch.length) return;
    this.results = [];
    // Read committed is enough: each record re-checks, row by row, that the claim is still this node's.
    const node = this.opts.node;
    this.recording = this.store.transaction(async (tx) => {
      const lost = await tx.outbox.recordMany(batch, node);
      const notRecorded = new Set(lost);
      const touched = new Map<number, number>();
      for (const a of batch) {
        if (a.delivery.webhook_id !== null && !notRecorded.has(a)) touched.set(a.delivery.webhook_id, Math.max(a.at, touched.get(a.delivery.webhook_id) ?? 0));
      }
      await tx.outbox.touch(touched);
      return lost;
    }, { isolation: 'read-committed' }).then((lost) => {
      for (const a of batch) {
        this.busy.delete(a.delivery.id);
        this.heldUntil.delete(a.delivery.id);
      }
      // Our lease ran out while the attempt was under way and another node took the delivery over:
      // the receiver saw it twice (it dedupes by X-Webhook-Delivery); the other node's attempt counts.
      for (const a of lost) this.log.warn({ delivery: a.delivery.delivery_id, event: a.delivery.event, attempt: a.attempt }, 'webhook attempt not recorded: the delivery was taken over by another node after this node\'s lease ran out');
    }, (err: unknown) => {
      // Not recorded: tried again shortly; until then these deliveries are not attempted again.
      this.log.error({ err, attempts: batch.length }, 'webhook attempts not recorded: retrying');
      this.results = batch.concat(this.results);
      this.recordTimer ??= setTimeout(() => void this.flushRecords(), RECORD_RETRY_MS);
    }).finally(() => {
      this.recording = null;
    });
    await this.recording;
  }

  /** Extends the claims on every delivery in hand (ready, in flight, or waiting for its record). */
  private async renew(): Promise<void> {
    if (this.renewing || !this.heldUntil.size || !this.store.health.writable) return;
    const ids = [...this.heldUntil.keys()];
    const until = Date.now() + this.opts.leaseMs;
    this.renewing = this.store.repos.outbox.renew(this.opts.node, ids, until).then((renewed) => {
      // Those recorded or dropped meanwhile are no longer in the map; one not renewed (recorded
      // meanwhile, or taken over by another node) keeps its old expiry.
      for (const id of renewed) if (this.heldUntil.has(id)) this.heldUntil.set(id, until);
    }, (err: unknown) => {
      this.log.warn({ err, deliveries: ids.length }, 'webhook claims not renewed: retrying');
    }).finally(() => {
      this.renewing = null;
    });
    await this.renewing;
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
