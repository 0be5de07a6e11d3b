/**
 * What every repository shares: the Kysely handle it runs on (the store's, or one transaction's),
 * the executor of its compiled queries on that same connection, and queries compiled once. A
 * repository is built once per store; `on(trx, exec)` gives the same repository bound to a
 * transaction, sharing its compiled queries and in-memory indexes.
 */
import { sql, type CompiledQuery, type Compilable, type Expression, type Kysely, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;

/** The database behind a store: SQLite (one node) or PostgreSQL (one or several nodes). */
export type Backend = 'sqlite' | 'postgres';

/**
 * Runs a compiled query with fresh parameters on the connection a repository is bound to. A
 * backend runs it as directly as it can (SQLite: a cached statement on the held connection, no
 * result objects to build); any backend can use `kyselyExecutor`. Writes that need a new row's id
 * use RETURNING, which every backend has.
 */
export interface Executor {
  all<R>(query: CompiledQuery<R>, params: readonly unknown[]): Promise<R[]>;
  get<R>(query: CompiledQuery<R>, params: readonly unknown[]): Promise<R | undefined>;
  /** A write without RETURNING: how many rows it changed. */
  run(query: CompiledQuery, params: readonly unknown[]): Promise<number>;
}

export function kyselyExecutor(db: Db): Executor {
  const exec = <R>(q: CompiledQuery<R>, params: readonly unknown[]) => db.executeQuery<R>({ ...q, parameters: params });
  return {
    all: async (q, params) => (await exec(q, params)).rows,
    get: async (q, params) => (await exec(q, params)).rows[0],
    run: async (q, params) => Number((await exec(q, params)).numAffectedRows ?? 0n),
  };
}

/** A query compiled with placeholder values, run later with fresh positional parameters. */
export class Prepared<R> {
  private readonly compiled: CompiledQuery<R>;

  constructor(query: Compilable<R>) {
    this.compiled = query.compile();
  }

  all(exec: Executor, params: readonly unknown[]): Promise<R[]> {
    return exec.all(this.compiled, params);
  }

  first(exec: Executor, params: readonly unknown[]): Promise<R | undefined> {
    return exec.get(this.compiled, params);
  }

  /** For writes without RETURNING: how many rows changed. */
  run(exec: Executor, params: readonly unknown[]): Promise<number> {
    return exec.run(this.compiled, params);
  }
}

/**
 * Queries whose SQL depends on a count (IN lists, multi-row inserts), prepared per count. Counts
 * are kept to powers of two up to `max`, so a handful of texts serve every size.
 */
export class PreparedBySize<R> {
  private readonly bySize = new Map<number, Prepared<R>>();

  constructor(private readonly build: (size: number) => Compilable<R>, readonly max = 64) {}

  of(size: number): Prepared<R> {
    let p = this.bySize.get(size);
    if (!p) this.bySize.set(size, (p = new Prepared(this.build(size))));
    return p;
  }

  /** Sizes that add up to n: `max` while it fits, then the powers of two of the rest. */
  split(n: number): number[] {
    const sizes: number[] = [];
    let left = n;
    while (left >= this.max) {
      sizes.push(this.max);
      left -= this.max;
    }
    for (let size = this.max / 2; size >= 1; size /= 2) if (left >= size) {
      sizes.push(size);
      left -= size;
    }
    return sizes;
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

/**
 * `column` contains `text`, letters compared without regard to case and `%`, `_` and `\` in
 * `text` taken as themselves: a search box's match, the same on both backends (SQLite's LIKE
 * ignores ASCII case, PostgreSQL's does not; PostgreSQL takes `\` as LIKE's escape, SQLite has
 * none unless told).
 */
export function contains(column: string, text: string): Expression<SqlBool> {
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like lower(${pattern}) escape '\\'`;
}
