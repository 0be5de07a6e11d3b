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
 * `locking`: every query and Kysely transaction takes the connection lock (the store's own
 * handle). `held`: for the store's transactions, which already hold it — queries run at once,
 * and running one without the lock held is a bug caught here.
 */
type Mode = 'locking' | 'held';

class SqliteDriver implements Driver {
  constructor(private readonly connection: Connection, private readonly lock: ConnectionLock, private readonly mode: Mode) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.mode === 'locking') await this.lock.acquire();
    else if (!this.lock.busy) throw new Error("a transaction's repositories were used after the transaction ended");
    return this.connection;
  }

  async beginTransaction(): Promise<void> {
    if (this.mode === 'held') throw new Error('transactions do not nest: use the repositories of the open one');
    this.connection.begin();
  }

  async commitTransaction(): Promise<void> {
    this.connection.commit();
  }

  async rollbackTransaction(): Promise<void> {
    this.connection.rollback();
  }

  async releaseConnection(): Promise<void> {
    if (this.mode === 'locking') this.lock.release();
  }

  async destroy(): Promise<void> {
    if (this.mode === 'locking') this.connection.sqlite.close();
  }
}

export class SqliteLockedDialect implements Dialect {
  constructor(private readonly connection: Connection, private readonly lock: ConnectionLock, private readonly mode: Mode = 'locking') {}

  createDriver(): Driver {
    return new SqliteDriver(this.connection, this.lock, this.mode);
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
