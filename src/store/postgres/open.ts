/**
 * PostgreSQL: a pool of connections, transactions serializable by default (what SQLite's one
 * writer gave every service) and retried whole when PostgreSQL reports a conflict. Several nodes
 * may open the same database; what they must not do twice is arbitrated in the database itself
 * (leases on binds and claimed messages, SKIP LOCKED claims, unique keys).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, sql } from 'kysely';
import { Repos } from '../repos.js';
import { kyselyExecutor } from '../repo.js';
import { WriteHealth } from '../health.js';
import type { Store, TransactionOptions } from '../db.js';
import type { Database } from '../tables.js';
import { createPool, postgresDialect, type PostgresTarget } from './dialect.js';

/** serialization_failure, deadlock_detected: the transaction did nothing; running it again is right. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 30;
const PROBE_MS = 2000;

export function openPostgresStore(target: PostgresTarget): Store {
  const health = new WriteHealth();
  const { kyselyPool } = createPool(target, health);
  const db = new Kysely<Database>({ dialect: postgresDialect(kyselyPool, target.schema) });
  const repos = new Repos(db, kyselyExecutor(db), 'postgres');
  let closed = false;
  const prober = new Prober(db, health);
  health.onChange((h) => (h.writable ? prober.stop() : prober.start()));
  return {
    db,
    repos,
    schema: target.schema,
    backend: 'postgres',
    transaction: async <T>(fn: (tx: Repos) => Promise<T>, opts: TransactionOptions = {}) => {
      const isolation = opts.isolation === 'read-committed' ? 'read committed' : 'serializable';
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().setIsolationLevel(isolation).execute((trx) => fn(new Repos(trx, kyselyExecutor(trx), 'postgres', repos)));
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
          // Back off a little, more each time, with jitter so two conflicting writers part ways.
          await sleep(Math.random() * Math.min(200, 2 * attempt * attempt));
        }
      }
    },
    isOpen: () => !closed,
    health,
    close: async () => {
      if (closed) return;
      closed = true;
      prober.stop();
      await db.destroy(); // ends the pool
    },
  };
}

/** While the database cannot write: a small write every few seconds; the first that commits says it can. */
class Prober {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Kysely<Database>, private readonly health: WriteHealth) {}

  start(): void {
    this.timer ??= setInterval(() => void this.probe(), PROBE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async probe(): Promise<void> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await sql`insert into storage_probe (pad) values (${Buffer.alloc(16)})`.execute(trx);
        await sql`delete from storage_probe`.execute(trx);
      });
      this.health.recovered();
    } catch {
      // still unavailable: the next probe will tell
    }
  }
}
