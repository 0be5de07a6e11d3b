/** What the array-statement batches share (batches.ts, outbox-batches.ts). */
import type { Kysely, RawBuilder } from 'kysely';
import { Prepared } from '../repo.js';

/** A raw statement compiled once, run later with fresh positional parameters. */
export function prepareRaw<R>(db: Kysely<any>, query: RawBuilder<R>): Prepared<R> {
  return new Prepared<R>({ compile: () => query.compile(db) });
}

/** Rows → one array per column, the shape `unnest` takes. */
export function columns(rows: readonly (readonly unknown[])[], width: number): unknown[][] {
  const out = Array.from({ length: width }, () => [] as unknown[]);
  for (const row of rows) for (let i = 0; i < width; i++) out[i]!.push(row[i]);
  return out;
}
