/**
 * The store: the only code that knows the database. Services reach data through its
 * repositories, whose methods and transactions return promises, so another backend can serve
 * the same services. SQLite here: one connection in WAL mode, pragmas the queue relies on,
 * migrations at open.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, sql, type Migration } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { Repos } from './repos.js';
import { Connection, heldExecutor, lockingExecutor, routingExecutor, SqliteLockedDialect } from './sqlite/driver.js';
import { ConnectionLock } from './sqlite/lock.js';
import { StorageUnavailable, type WriteHealth } from './health.js';
import type { Database } from './tables.js';

export interface Store {
  /** Kysely on the store's connection (tests and migrations; services use `repos`). */
  readonly db: Kysely<Database>;
  /** Repositories outside any transaction: each call is its own statement. */
  readonly repos: Repos;
  /**
   * Runs `fn` in one transaction on the repositories it is given: all of it commits, or none.
   * Nothing else runs on the connection meanwhile; calling `repos` (instead of the transaction's)
   * from inside would wait for the transaction itself, so it fails after a while, loudly.
   * Keep slow work (password hashing, DNS) outside: the whole store waits for a transaction.
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** Whether the database is open. */
  isOpen(): boolean;
  /** Whether it takes writes now (a full disk makes every write fail as `StorageUnavailable`). */
  readonly health: WriteHealth;
  close(): Promise<void>;
}

export interface StoreOptions {
  synchronous?: 'normal' | 'full' | undefined;
  /** A cap on the database file: past it, writes fail as on a full disk (PRAGMA max_page_count). */
  maxSizeMb?: number | undefined;
}

export function openStore(path: string, opts: StoreOptions = {}): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  if (opts.maxSizeMb !== undefined) sqlite.pragma(`max_page_count = ${Math.floor((opts.maxSizeMb * 1024 * 1024) / (sqlite.pragma('page_size', { simple: true }) as number))}`);
  const connection = new Connection(sqlite);
  const lock = new ConnectionLock();
  // A second connection for reads outside transactions: they see every commit (WAL) and never
  // wait behind a writer's transaction, so a light request is not queued behind a 10 000-row send.
  const reader = path === ':memory:' ? null : new Connection(openReader(path));
  const db = new Kysely<Database>({ dialect: new SqliteLockedDialect(connection, lock, 'locking', reader) });
  const repos = new Repos(db, reader ? routingExecutor(connection, reader, lock) : lockingExecutor(connection, lock));
  // The repositories of every transaction: they run on the connection the transaction holds.
  const held = new Repos(new Kysely<Database>({ dialect: new SqliteLockedDialect(connection, lock, 'held') }), heldExecutor(connection), repos);
  let closed = false;
  const prober = new StorageProber(connection, lock);
  connection.health.onChange((h) => (h.writable ? prober.stop() : prober.start()));
  return {
    db,
    repos,
    transaction: async (fn) => {
      await lock.acquire();
      try {
        connection.begin();
        try {
          const result = await fn(held);
          connection.commit();
          return result;
        } catch (err) {
          connection.rollback();
          throw err;
        }
      } finally {
        lock.release();
      }
    },
    isOpen: () => sqlite.open,
    health: connection.health,
    close: async () => {
      if (closed) return;
      closed = true;
      prober.stop();
      await db.destroy(); // closes the better-sqlite3 handle too
    },
  };
}

function openReader(path: string): SQLite.Database {
  const sqlite = new SQLite(path, { readonly: true });
  sqlite.pragma('busy_timeout = 5000');
  return sqlite;
}

/** A migration failed; the whole upgrade rolled back. Retrying the same build fails the same way. */
export class MigrationFailed extends Error {
  constructor(readonly migration: string | null, cause: Error) {
    super(`${migration ? `migration ${migration} failed` : 'migrating the database failed'}: ${cause.message} (nothing of this upgrade was applied: the database is as it was)`, { cause });
    this.name = 'MigrationFailed';
  }
}

/**
 * Applies the pending migrations, all in one transaction (see TransactionalDdlSqliteAdapter in
 * sqlite/driver.ts): when one fails, none of them stays applied and the database is exactly as
 * it was, so the previous build still runs on it. `list`: this build's migrations (tests add some).
 */
export async function migrate(store: Store, list: Record<string, Migration> = migrations): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => list } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    // A full disk is not the migration's fault: the caller may start degraded or retry.
    if (error instanceof StorageUnavailable) throw error;
    const cause = error instanceof Error ? error : new Error(String(error));
    throw new MigrationFailed(results?.find((r) => r.status === 'Error')?.migrationName ?? null, cause);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Migrations this build has that the database has not applied (read only). */
export async function pendingMigrations(store: Store): Promise<string[]> {
  const applied = new Set((await sql<{ name: string }>`select name from kysely_migration`.execute(store.db).catch(() => ({ rows: [] }))).rows.map((r) => r.name));
  return Object.keys(migrations).filter((name) => !applied.has(name));
}

/** How often a store that cannot write tries whether it can again. */
const PROBE_MS = 2000;

/**
 * While the database cannot write: every few seconds, one transaction that needs fresh space
 * (a page-sized row, inserted then deleted, committed) — the kind of write a full disk refuses.
 */
class StorageProber {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly connection: Connection, private readonly lock: ConnectionLock) {}

  start(): void {
    this.timer ??= setInterval(() => void this.probe(), PROBE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async probe(): Promise<void> {
    await this.lock.acquire();
    try {
      const c = this.connection;
      c.begin();
      try {
        c.guard(() => c.statement('insert into storage_probe (pad) values (zeroblob(16384))').run());
        c.guard(() => c.statement('delete from storage_probe').run());
        c.commit();
      } catch {
        c.rollback();
        return;
      }
      c.health.recovered();
    } catch {
      // still full: the next probe will tell
    } finally {
      this.lock.release();
    }
  }
}
