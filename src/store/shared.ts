/**
 * State several nodes on one PostgreSQL share instead of keeping it in each process: request
 * counters per rate-limit window, failed logins, and the version counters of the caches every node
 * keeps in memory (blacklist, webhook subscriptions). PostgreSQL only: on SQLite one process is
 * the whole gateway and keeps all of it in memory, with no query on any request.
 */
import { sql } from 'kysely';
import { Repo, type Db } from './repo.js';

/** Caches whose changes other nodes must pick up (see SharedState in src/services/shared-state.ts). */
export type SharedTopic = 'blacklist' | 'webhooks';

export interface CountedHit {
  /** Whether this hit was counted: the weighted total stayed within the limit. */
  counted: boolean;
  /** Hits in the current window: after this one when counted, else as they were. */
  current: number;
  /** Hits in the window before it. */
  previous: number;
}

/**
 * Raises `topic`'s version in the caller's transaction (or as its own statement) and returns it.
 * Writers of one topic queue on its row until the one before commits, so versions become visible
 * in the order they were given: a node that sees version v has every change up to v.
 */
export async function bumpVersion(db: Db, topic: SharedTopic): Promise<number> {
  const row = await db.insertInto('shared_versions').values({ topic, version: 1 })
    .onConflict((oc) => oc.column('topic').doUpdateSet((eb) => ({ version: eb('shared_versions.version', '+', 1) })))
    .returning('version').executeTakeFirstOrThrow();
  return row.version;
}

export class SharedStateRepo extends Repo {
  /** Every topic's version (a topic never changed has none: 0). */
  async versions(): Promise<Map<SharedTopic, number>> {
    const rows = await this.db.selectFrom('shared_versions').select(['topic', 'version']).execute();
    return new Map(rows.map((r) => [r.topic as SharedTopic, r.version]));
  }

  /**
   * One hit on `key` in the window starting at `windowStart`, counted only while the weighted
   * total (`prevWeight` × the previous window's hits + this window's, this one included) stays
   * within `limit`. One statement: the upsert's condition is checked on the row as locked, so
   * nodes hitting the same key together never count past the limit.
   */
  async countHit(key: string, windowStart: number, windowMs: number, limit: number, prevWeight: number): Promise<CountedHit> {
    const { rows } = await sql<{ counted: number | null; before: number | null; previous: number }>`
      with prev as (
        select coalesce((select n from rate_counters where key = ${key}::text and window_start = ${windowStart - windowMs}::bigint), 0) as n
      ), hit as (
        insert into rate_counters as r (key, window_start, n, expires_at)
        select ${key}::text, ${windowStart}::bigint, 1, ${windowStart + 2 * windowMs}::bigint from prev
        where prev.n * ${prevWeight}::float8 + 1 <= ${limit}::float8
        on conflict (key, window_start) do update set n = r.n + 1
        where (select n from prev) * ${prevWeight}::float8 + r.n + 1 <= ${limit}::float8
        returning r.n
      )
      select (select n from hit) as counted,
             (select n from rate_counters where key = ${key}::text and window_start = ${windowStart}::bigint) as before,
             (select n from prev) as previous`.execute(this.db);
    const r = rows[0]!;
    return r.counted !== null ? { counted: true, current: Number(r.counted), previous: Number(r.previous) } : { counted: false, current: Number(r.before ?? 0), previous: Number(r.previous) };
  }

  /** Failures of these keys in windows that started after `since`. */
  failures(keys: readonly string[], since: number): Promise<{ key: string; started_at: number; failures: number }[]> {
    return this.db.selectFrom('login_failures').select(['key', 'started_at', 'failures']).where('key', 'in', keys).where('started_at', '>', since).execute();
  }

  /** One more failure of `key`; a window that ended starts again at `now`. */
  async fail(key: string, now: number, windowMs: number): Promise<void> {
    await sql`
      insert into login_failures as f (key, started_at, failures) values (${key}::text, ${now}::bigint, 1)
      on conflict (key) do update set
        failures = case when f.started_at <= ${now - windowMs}::bigint then 1 else f.failures + 1 end,
        started_at = case when f.started_at <= ${now - windowMs}::bigint then ${now}::bigint else f.started_at end`.execute(this.db);
  }

  async clearFailures(key: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('key', '=', key).execute();
  }

  /** Rate windows that no longer count (the window after them has ended too). */
  async pruneCounters(now: number): Promise<void> {
    await this.db.deleteFrom('rate_counters').where('expires_at', '<', now).execute();
  }

  /** Failure windows that started before `before` (they have ended). */
  async pruneFailures(before: number): Promise<void> {
    await this.db.deleteFrom('login_failures').where('started_at', '<', before).execute();
  }
}
