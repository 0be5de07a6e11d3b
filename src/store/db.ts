/**
 * Opens the SQLite file with the pragmas the queue relies on and runs migrations. The raw
 * better-sqlite3 handle stays inside src/store: repositories use it for prepared statements on
 * the hot path, compiled from Kysely queries so the SQL still comes from the dialect.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type CompiledQuery } from 'kysely';
import { migrations } from '../../migrations/index.js';
import type { Database } from './tables.js';

/**
 * Transactions are synchronous (better-sqlite3) and only synchronous: an async transaction
 * (Kysely's db.transaction()) would stay open across awaits, and whatever else runs on the one
 * connection meanwhile — the dispatcher's and ledger's batched writes — would silently join it
 * and roll back with it. Inside `transaction`, use prepared statements or `all`/`run` with a
 * Kysely-built query.
 */
export interface Store {
  db: Kysely<Database>;
  sqlite: SQLite.Database;
  /** Prepare a Kysely-compiled query once; run it later with fresh positional parameters. */
  prepare(query: { compile(): CompiledQuery }): SQLite.Statement;
  /** Run a Kysely-built query now, synchronously (for use inside `transaction`). */
  all<T>(query: { compile(): CompiledQuery<T> }): T[];
  run(query: { compile(): CompiledQuery }): { changes: number; lastInsertRowid: number };
  transaction<T>(fn: () => T): T;
  close(): Promise<void>;
}

export function openStore(path: string, opts: { synchronous?: 'normal' | 'full' } = {}): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  // all/run see the same few SQL texts over and over (a CSV import runs them per row):
  // prepare each once. Bounded, since IN lists of varying length make distinct texts.
  const statements = new Map<string, SQLite.Statement>();
  const statement = (sql: string): SQLite.Statement => {
    let st = statements.get(sql);
    if (!st) {
      if (statements.size >= 500) statements.clear();
      st = sqlite.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
  let closed = false;
  return {
    db,
    sqlite,
    prepare: (query) => sqlite.prepare(query.compile().sql),
    all: <T>(query: { compile(): CompiledQuery<T> }) => {
      const c = query.compile();
      return statement(c.sql).all(...(c.parameters as unknown[])) as T[];
    },
    run: (query) => {
      const c = query.compile();
      const r = statement(c.sql).run(...(c.parameters as unknown[]));
      return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
    },
    // Nested calls join the open transaction instead of paying for a SAVEPOINT: nothing here
    // catches an error inside a transaction and carries on, so all-or-nothing is what we want.
    transaction: (fn) => (sqlite.inTransaction ? fn() : sqlite.transaction(fn)()),
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
