/**
 * The embedded default: one SQLite file in WAL mode, pragmas the queue relies on, a writer
 * connection every transaction holds alone and a reader for reads outside transactions.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely } from 'kysely';
import { Repos } from '../repos.js';
import type { Store } from '../db.js';
import type { Database } from '../tables.js';
import { Connection, heldExecutor, lockingExecutor, routingExecutor, SqliteLockedDialect } from './driver.js';
import { ConnectionLock } from './lock.js';

export interface SqliteOptions {
  synchronous?: 'normal' | 'full' | undefined;
  /** A cap on the database file: past it, writes fail as on a full disk (PRAGMA max_page_count). */
  maxSizeMb?: number | undefined;
}

export function openSqliteStore(path: string, opts: SqliteOptions = {}): Store {
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
  const repos = new Repos(db, reader ? routingExecutor(connection, reader, lock) : lockingExecutor(connection, lock), 'sqlite');
  // The repositories of every transaction: they run on the connection the transaction holds.
  const held = new Repos(new Kysely<Database>({ dialect: new SqliteLockedDialect(connection, lock, 'held') }), heldExecutor(connection), 'sqlite', repos);
  let closed = false;
  const prober = new StorageProber(connection, lock);
  connection.health.onChange((h) => (h.writable ? prober.stop() : prober.start()));
  return {
    db,
    repos,
    schema: null,
    backend: 'sqlite',
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
