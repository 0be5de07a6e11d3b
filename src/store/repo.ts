/**
 * What every repository shares: the Kysely handle it runs on (the store's, or one transaction's)
 * and queries compiled once. A repository is built once per store; `on(trx)` gives the same
 * repository bound to a transaction, sharing its compiled queries and in-memory indexes.
 */
import { sql, type CompiledQuery, type Compilable, type Kysely, type QueryResult, type SelectQueryBuilder } from 'kysely';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;

/** A query compiled with placeholder values, run later with fresh positional parameters. */
export class Prepared<R> {
  private readonly compiled: CompiledQuery<R>;

  constructor(query: Compilable<R>) {
    this.compiled = query.compile();
  }

  run(db: Db, params: readonly unknown[]): Promise<QueryResult<R>> {
    return db.executeQuery({ ...this.compiled, parameters: params });
  }

  async all(db: Db, params: readonly unknown[]): Promise<R[]> {
    return (await this.run(db, params)).rows;
  }

  async first(db: Db, params: readonly unknown[]): Promise<R | undefined> {
    return (await this.run(db, params)).rows[0];
  }

  async changes(db: Db, params: readonly unknown[]): Promise<number> {
    return Number((await this.run(db, params)).numAffectedRows ?? 0n);
  }
}

export abstract class Repo {
  constructor(protected readonly db: Db) {}

  /** This repository running on `db` (a transaction): same prepared queries, same caches. */
  on(db: Db): this {
    return Object.create(this, { db: { value: db } }) as this;
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
