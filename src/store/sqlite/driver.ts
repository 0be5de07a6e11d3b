/**
 * Kysely driver for the one better-sqlite3 connection. Every query and every transaction — the
 * API's, the dispatcher's, the ledger's — takes the same connection lock, so an async transaction
 * can never be joined by another caller's statement between its awaits (on one SQLite connection
 * anything executed while a transaction is open is part of it, and rolls back with it).
 * Statements are prepared once per SQL text: hot paths compile their query once and run it with
 * fresh parameters, paying neither Kysely's builder nor SQLite's parser per message.
 */
import type SQLite from 'better-sqlite3';
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryResult } from 'kysely';
import { isStorageError, WriteHealth } from '../health.js';
import type { Executor } from '../repo.js';
import { ConnectionLock } from './lock.js';

const MAX_STATEMENTS = 500;
const READ = /^\s*(select|with)\b/i;

export class Connection implements DatabaseConnection {
  private readonly statements = new Map<string, SQLite.Statement>();
  readonly health = new WriteHealth();

  constructor(readonly sqlite: SQLite.Database) {}

  /**
   * Runs one statement (or transaction control) on the connection. A storage failure (disk full,
   * read-only, I/O) becomes `StorageUnavailable` and marks the store not writable until a probe
   * (see db.ts) proves it can write again: a small write that happens to fit proves nothing.
   */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (isStorageError(err)) throw this.health.failed(err);
      throw err;
    }
  }

  statement(sql: string): SQLite.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      // Bounded: IN lists of varying length make distinct texts.
      if (this.statements.size >= MAX_STATEMENTS) this.statements.clear();
      st = this.sqlite.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /**
   * Whether `sql` only reads: a SELECT (or WITH) that SQLite says writes nothing. Anything else —
   * writes, DDL, PRAGMAs (they set things on the connection that runs them) — is the writer's,
   * and is never even prepared here (a read-only connection would judge DDL against the schema
   * as committed, not as the writer's migration has it).
   */
  readsOnly(sql: string): boolean {
    if (!READ.test(sql)) return false;
    try {
      return this.statement(sql).readonly;
    } catch {
      return false;
    }
  }

  // IMMEDIATE: take the write lock at BEGIN, so a concurrent writer in another process (the CLI)
  // makes us wait at the start (busy_timeout) instead of failing at our first write.
  begin(): void {
    this.guard(() => this.statement('begin immediate').run());
  }

  commit(): void {
    this.guard(() => this.statement('commit').run());
  }

  /** After a failed COMMIT (disk full) SQLite may already have rolled back. */
  rollback(): void {
    if (this.sqlite.inTransaction) this.statement('rollback').run();
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const st = this.statement(query.sql);
    const params = query.parameters as unknown[];
    if (st.reader) return Promise.resolve({ rows: this.guard(() => st.all(...params)) as R[] });
    const { changes, lastInsertRowid } = this.guard(() => st.run(...params));
    return Promise.resolve({ rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) });
  }

  // eslint-disable-next-line require-yield
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('streaming would hold the one connection: page with keysets instead');
  }
}

type Op<T> = (c: Connection, q: CompiledQuery, params: readonly unknown[]) => T;
const all: Op<unknown[]> = (c, q, params) => c.guard(() => c.statement(q.sql).all(...params));
const get: Op<unknown> = (c, q, params) => c.guard(() => c.statement(q.sql).get(...params));
const run: Op<number> = (c, q, params) => c.guard(() => c.statement(q.sql).run(...params).changes);

/** Straight on the connection: for a transaction's repositories, which run only while it holds it. */
export function heldExecutor(c: Connection): Executor {
  return {
    all: <R>(q: CompiledQuery<R>, params: readonly unknown[]) => Promise.resolve(all(c, q, params) as R[]),
    get: <R>(q: CompiledQuery<R>, params: readonly unknown[]) => Promise.resolve(get(c, q, params) as R | undefined),
    run: (q, params) => Promise.resolve(run(c, q, params)),
  };
}

/**
 * One statement outside any transaction: takes the connection for it, at once when it is free
 * (no closure, no extra promise on that path: it runs for every authenticated request).
 */
export function lockingExecutor(c: Connection, lock: ConnectionLock): Executor {
  const now = <T>(op: Op<T>, q: CompiledQuery, params: readonly unknown[]): T => {
    try {
      return op(c, q, params);
    } finally {
      lock.release();
    }
  };
  const locked = <T>(op: Op<T>, q: CompiledQuery, params: readonly unknown[]): Promise<T> =>
    lock.tryAcquire() ? Promise.resolve(now(op, q, params)) : lock.acquire().then(() => now(op, q, params));
  return {
    all: <R>(q: CompiledQuery<R>, params: readonly unknown[]) => locked(all, q, params) as Promise<R[]>,
    get: <R>(q: CompiledQuery<R>, params: readonly unknown[]) => locked(get, q, params) as Promise<R | undefined>,
    run: (q, params) => locked(run, q, params),
  };
}

/**
 * Statements outside any transaction, with a second, read-only connection: a statement that only
 * reads runs there at once — in WAL mode it sees every committed write and never waits for a
 * writer's transaction — and any other takes the lock and runs on the writer.
 */
export function routingExecutor(writer: Connection, reader: Connection, lock: ConnectionLock): Executor {
  const locked = lockingExecutor(writer, lock);
  return {
    all: <R>(q: CompiledQuery<R>, params: readonly unknown[]) => (reader.readsOnly(q.sql) ? Promise.resolve(all(reader, q, params) as R[]) : locked.all(q, params)),
    get: <R>(q: CompiledQuery<R>, params: readonly unknown[]) => (reader.readsOnly(q.sql) ? Promise.resolve(get(reader, q, params) as R | undefined) : locked.get(q, params)),
    run: (q, params) => locked.run(q, params),
  };
}

/**
 * What a Kysely query outside the store's transactions runs on: reads on the reader (when there
 * is one) without the lock; writes, and Kysely's own transactions (migrations), on the writer
 * under the lock, held from BEGIN to COMMIT.
 */
class RoutedConnection implements DatabaseConnection {
  private inTransaction = false;

  constructor(private readonly writer: Connection, private readonly reader: Connection | null, private readonly lock: ConnectionLock) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction) return this.writer.executeQuery<R>(query);
    if (this.reader?.readsOnly(query.sql)) return this.reader.executeQuery<R>(query);
    await this.lock.acquire();
    try {
      return await this.writer.executeQuery<R>(query);
    } finally {
      this.lock.release();
    }
  }

  async begin(): Promise<void> {
    await this.lock.acquire();
    try {
      this.writer.begin();
    } catch (err) {
      this.lock.release();
      throw err;
    }
    this.inTransaction = true;
  }

  end(how: 'commit' | 'rollback'): void {
    if (!this.inTransaction) return; // a failed COMMIT already ended it; Kysely's rollback follows
    try {
      if (how === 'commit') this.writer.commit();
      else this.writer.rollback();
    } finally {
      if (how === 'rollback' || !this.writer.sqlite.inTransaction) {
        this.inTransaction = false;
        this.lock.release();
      }
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('streaming would hold the one connection: page with keysets instead');
  }
}

/**
 * `locking`: the store's own handle — reads on the reader, writes and Kysely transactions under
 * the connection lock (RoutedConnection). `held`: for the store's transactions, which already
 * hold it — queries run at once, and running one without the lock held is a bug caught here.
 */
type Mode = 'locking' | 'held';

class SqliteDriver implements Driver {
  constructor(private readonly connection: Connection, private readonly lock: ConnectionLock, private readonly mode: Mode, private readonly reader: Connection | null) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.mode === 'locking') return new RoutedConnection(this.connection, this.reader, this.lock);
    if (!this.lock.busy) throw new Error("a transaction's repositories were used after the transaction ended");
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    if (!(connection instanceof RoutedConnection)) throw new Error('transactions do not nest: use the repositories of the open one');
    await connection.begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof RoutedConnection) connection.end('commit');
    else this.connection.commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof RoutedConnection) connection.end('rollback');
    else this.connection.rollback();
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    if (this.mode === 'locking') {
      this.reader?.sqlite.close();
      this.connection.sqlite.close();
    }
  }
}

/**
 * SQLite's DDL is transactional: CREATE, ALTER, DROP and index builds roll back like any write.
 * Kysely's SqliteAdapter says otherwise (so its Migrator runs each migration bare, and one that
 * fails halfway leaves half a schema behind). Saying yes makes the Migrator run the pending
 * migrations and their kysely_migration rows in one transaction on the writer (BEGIN IMMEDIATE,
 * under the connection lock): an upgrade applies whole, or not at all, and the previous build
 * still opens a database whose upgrade failed. What a migration must not do inside it: change
 * `PRAGMA foreign_keys` (a no-op in a transaction: use `PRAGMA defer_foreign_keys = ON` for a
 * table rebuild) or VACUUM (refused in a transaction).
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class SqliteLockedDialect implements Dialect {
  constructor(private readonly connection: Connection, private readonly lock: ConnectionLock, private readonly mode: Mode = 'locking', private readonly reader: Connection | null = null) {}

  createDriver(): Driver {
    return new SqliteDriver(this.connection, this.lock, this.mode, this.reader);
  }

  createQueryCompiler(): SqliteQueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): SqliteIntrospector {
    return new SqliteIntrospector(db);
  }
}
