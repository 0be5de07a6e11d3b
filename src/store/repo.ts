/**
 * What every repository shares: the Kysely handle it runs on (the store's, or one transaction's),
 * the executor of its compiled queries on that same connection, and queries compiled once. A
 * repository is built once per store; `on(trx, exec)` gives the same repository bound to a
 * transaction, sharing its compiled queries and in-memory indexes.
 */
import { sql, type CompiledQuery, type Compilable, type Kysely, type QueryResult, type SelectQueryBuilder } from 'kysely';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;

/**
 * Runs a compiled query on the connection a repository is bound to. A backend may run it more
 * directly than Kysely's executor does (SQLite: straight on the held connection); any backend
 * can use `kyselyExecutor`.
 */
export type Executor = <R>(query: CompiledQuery<R>) => Promise<QueryResult<R>>;

export const kyselyExecutor = (db: Db): Executor => (query) => db.executeQuery(query);

/** A query compiled with placeholder values, run later with fresh positional parameters. */
export class Prepared<R> {
  private readonly compiled: CompiledQuery<R>;

  constructor(query: Compilable<R>) {
    this.compiled = query.compile();
  }

  run(exec: Executor, params: readonly unknown[]): Promise<QueryResult<R>> {
    return exec({ ...this.compiled, parameters: params });
  }

  async all(exec: Executor, params: readonly unknown[]): Promise<R[]> {
    return (await this.run(exec, params)).rows;
  }

  async first(exec: Executor, params: readonly unknown[]): Promise<R | undefined> {
    return (await this.run(exec, params)).rows[0];
  }

  async changes(exec: Executor, params: readonly unknown[]): Promise<number> {
    return Number((await this.run(exec, params)).numAffectedRows ?? 0n);
  }
}

export abstract class Repo {
  constructor(protected readonly db: Db, protected readonly exec: Executor) {}

  /** This repository running on `db` (a transaction) through `exec`: same prepared queries, same caches. */
  on(db: Db, exec: Executor): this {
    return Object.create(this, { db: { value: db }, exec: { value: exec } }) as this;
  }
}

/** A page to read: 1-based page number and its size. Each dialect maps its own query names to it. */
export interface PageRequest {
  page: number;
  size: number;
}

/** A page of rows and the total the filter matches: each dialect renders it its own way. */
export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  size: number;
}

/** Rows of `query` for the requested page, and how many rows it matches in all. */
export async function pageOf<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, req: PageRequest): Promise<Page<O>> {
  const rows = await query.limit(req.size).offset((req.page - 1) * req.size).execute();
  const total = await countOf(query);
  return { rows, total, page: req.page, size: req.size };
}

export async function countOf<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): Promise<number> {
  const row = await query.clearSelect().clearOrderBy().select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number((row as { n: number }).n);
}

export const mapPage = <T, U>(p: Page<T>, f: (row: T) => U): Page<U> => ({ ...p, rows: p.rows.map(f) });
