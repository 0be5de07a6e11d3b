/**
 * On PostgreSQL, what each node keeps in memory and other nodes change: the blacklist index and
 * the outbox's webhook subscriptions (and admins). Each change raises its topic's shared version
 * in the change's own transaction (src/store/shared.ts); every node reads the versions about once
 * a second and, for a topic that moved, applies the blacklist changes since the version it has or
 * re-reads the subscriptions. A change made on node A is thus used by node B within about a
 * second; on A itself at once, as on SQLite. Nothing of this runs on SQLite (one node).
 *
 * Credentials need no poll: a node trusts a verified token or key one second at most on
 * PostgreSQL (credentials.ts), and account and sub-account status are read on every request.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/db.js';
import type { Outbox } from '../webhooks/outbox.js';

export interface SharedStateOptions {
  /** How often the versions are read (ms). */
  pollMs?: number;
  /** Blacklist changes kept this long (ms) for nodes to apply; one further behind reads the whole list. */
  keepChangesMs?: number;
}

const PRUNE_MS = 60_000;

export class SharedState {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** The webhooks version the outbox was last loaded at (-1: not yet, so the first poll loads it). */
  private webhooks = -1;
  private nextPrune = 0;
  private failing = false;

  constructor(private readonly store: Store, private readonly outbox: Outbox, private readonly log: Logger, private readonly opts: SharedStateOptions = {}) {}

  /** Polls on PostgreSQL; does nothing on SQLite. */
  start(): this {
    if (this.store.backend !== 'postgres' || this.timer) return this;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs ?? 1000);
    this.timer.unref();
    return this;
  }

  /** One poll (the timer's, or a caller's that wants the caches current now). Never two at once. */
  poll(): Promise<void> {
    return (this.running ??= this.sync().finally(() => (this.running = null)));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async sync(): Promise<void> {
    if (!this.store.isOpen()) return;
    try {
      const repos = this.store.repos;
      const versions = await repos.shared.versions();
      await repos.blacklist.catchUp(versions.get('blacklist') ?? 0);
      const webhooks = versions.get('webhooks') ?? 0;
      if (webhooks !== this.webhooks) {
        await this.outbox.load(repos);
        this.webhooks = webhooks;
      }
      const now = Date.now();
      if (now >= this.nextPrune) {
        this.nextPrune = now + PRUNE_MS;
        await repos.blacklist.pruneChanges(now - (this.opts.keepChangesMs ?? 10 * 60_000));
      }
      if (this.failing) this.log.info('shared caches current again');
      this.failing = false;
    } catch (err) {
      // The database is away (StorageUnavailable) or the store closing: the next poll tries again.
      if (!this.failing) this.log.warn({ err: (err as Error).message }, 'could not read what other nodes changed (blacklist, webhooks); retrying every second');
      this.failing = true;
    }
  }
}
