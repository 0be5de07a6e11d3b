/**
 * The store: the only code that knows the database. Services reach data through its
 * repositories, whose methods and transactions return promises, so both backends serve the same
 * services: SQLite (sqlite/: the embedded default, one node) and PostgreSQL (postgres/: one or
 * several nodes sharing the queue). Migrations run at open, from the same files on both.
 */
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { migrations } from '../../migrations/index.js';
import type { Repos } from './repos.js';
import type { Backend } from './repo.js';
import { StorageUnavailable, type WriteHealth } from './health.js';
import type { Database } from './tables.js';
import { openSqliteStore, type SqliteOptions } from './sqlite/open.js';
import { openPostgresStore } from './postgres/open.js';

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
  transaction<T>(fn: (tx: Repos) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /** Which database serves it: only PostgreSQL can be shared by several nodes. */
  readonly backend: Backend;
  /** PostgreSQL: the schema holding the tables (null on SQLite). */
  readonly schema: string | null;
  /** Whether the database is open. */
  isOpen(): boolean;
  /** Whether it takes writes now (a full disk makes every write fail as `StorageUnavailable`). */
  readonly health: WriteHealth;
  close(): Promise<void>;
}

export interface TransactionOptions {
  /**
   * PostgreSQL: `serializable` (the default) gives every transaction what SQLite's one writer
   * gives it — as if alone — retrying it whole when PostgreSQL reports a conflict, so `fn` must
   * only touch the store and state it applies after commit. `read-committed` is for the queue's
   * own hot-path batches, whose statements each re-check the row they change. SQLite: ignored.
   */
  isolation?: 'serializable' | 'read-committed';
}

export type StoreOptions = SqliteOptions;

/** The SQLite file at `path` (tests and tools that work on one file). */
export function openStore(path: string, opts: StoreOptions = {}): Store {
  return openSqliteStore(path, opts);
}

export interface DatabaseConfig {
  path: string;
  url?: string | undefined;
  schema: string;
  pool_size: number;
  synchronous: 'normal' | 'full';
  max_size_mb?: number | undefined;
}

/** The configured database: PostgreSQL when `url` is set, else the SQLite file. */
export function openDatabase(cfg: DatabaseConfig): Store {
  return cfg.url
    ? openPostgresStore({ url: cfg.url, schema: cfg.schema, poolSize: cfg.pool_size })
    : openSqliteStore(cfg.path, { synchronous: cfg.synchronous, maxSizeMb: cfg.max_size_mb });
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
 * sqlite/driver.ts; PostgreSQL's DDL is transactional, and its migrator holds an advisory lock,
 * so nodes starting together migrate once): when one fails, none of them stays applied and the database is exactly as
 * it was, so the previous build still runs on it. `list`: this build's migrations (tests add some).
 */
export async function migrate(store: Store, list: Record<string, Migration> = migrations): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => list }, ...(store.schema ? { migrationTableSchema: store.schema } : {}) });
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

