/**
 * The store: the only code that knows the database. Services reach data through its
 * repositories, whose methods and transactions return promises, so another backend can serve
 * the same services. SQLite here: one connection in WAL mode, pragmas the queue relies on,
 * migrations at open.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { Repos } from './repos.js';
import { Connection, heldExecutor, lockingExecutor, SqliteLockedDialect } from './sqlite/driver.js';
import { ConnectionLock } from './sqlite/lock.js';
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
  close(): Promise<void>;
}

export function openStore(path: string, opts: { synchronous?: 'normal' | 'full' } = {}): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const connection = new Connection(sqlite);
  const lock = new ConnectionLock();
  const db = new Kysely<Database>({ dialect: new SqliteLockedDialect(connection, lock) });
  const repos = new Repos(db, lockingExecutor(connection, lock));
  // The repositories of every transaction: they run on the connection the transaction holds.
  const held = new Repos(new Kysely<Database>({ dialect: new SqliteLockedDialect(connection, lock, 'held') }), heldExecutor(connection), repos);
  let closed = false;
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
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy(); // closes the better-sqlite3 handle too
    },
  };
}

export async function migrate(store: Store): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
