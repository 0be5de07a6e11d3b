/**
 * Kysely driver for the one better-sqlite3 connection. Every query and every transaction — the
 * API's, the dispatcher's, the ledger's — takes the same connection lock, so an async transaction
 * can never be joined by another caller's statement between its awaits (on one SQLite connection
 * anything executed while a transaction is open is part of it, and rolls back with it).
 * Statements are prepared once per SQL text: hot paths compile their query once and run it with
 * fresh parameters, paying neither Kysely's builder nor SQLite's parser per message.
 */
import type SQLite from 'better-sqlite3';
import { CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryResult } from 'kysely';
import { ConnectionLock } from './lock.js';

const MAX_STATEMENTS = 500;

class Connection implements DatabaseConnection {
  private readonly statements = new Map<string, SQLite.Statement>();

  constructor(readonly sqlite: SQLite.Database) {}

  private statement(sql: string): SQLite.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      // Bounded: IN lists of varying length make distinct texts.
      if (this.statements.size >= MAX_STATEMENTS) this.statements.clear();
      st = this.sqlite.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const st = this.statement(query.sql);
    const params = query.parameters as unknown[];
    if (st.reader) return Promise.resolve({ rows: st.all(...params) as R[] });
    const { changes, lastInsertRowid } = st.run(...params);
    return Promise.resolve({ rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) });
  }

  // eslint-disable-next-line require-yield
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('streaming would hold the one connection: page with keysets instead');
  }
}

class SqliteDriver implements Driver {
  private readonly connection: Connection;

  constructor(sqlite: SQLite.Database, private readonly lock: ConnectionLock) {
    this.connection = new Connection(sqlite);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.lock.acquire();
    return this.connection;
  }

  // IMMEDIATE: take the write lock at BEGIN, so a concurrent writer in another process (the CLI)
  // makes us wait at the start (busy_timeout) instead of failing at our first write.
  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    // After a failed COMMIT (disk full) SQLite may already have rolled back.
    if (this.connection.sqlite.inTransaction) await c.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    this.lock.release();
  }

  async destroy(): Promise<void> {
    this.connection.sqlite.close();
  }
}

export class SqliteLockedDialect implements Dialect {
  constructor(private readonly sqlite: SQLite.Database, private readonly lock: ConnectionLock) {}

  createDriver(): Driver {
    return new SqliteDriver(this.sqlite, this.lock);
  }

  createQueryCompiler(): SqliteQueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): SqliteAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): SqliteIntrospector {
    return new SqliteIntrospector(db);
  }
}
