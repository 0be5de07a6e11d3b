import type { Kysely } from 'kysely';

/**
 * State that one process kept in memory and several nodes on one PostgreSQL must share (unused on
 * SQLite, where one process is the whole gateway and keeps it in memory as before):
 *  - rate_counters: requests per (key, fixed window), so N nodes together allow the limit, not N×;
 *  - login_failures: failed logins per login (and client) since the window's first failure;
 *  - shared_versions: a counter per cached topic (blacklist, webhooks), raised in the transaction
 *    of each change, that every node polls to know its cache is behind;
 *  - blacklist_changes: what each blacklist version added or removed, so a node applies only
 *    that to its in-memory index instead of reading the whole list again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_counters')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('window_start', 'integer', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_counters_pk', ['key', 'window_start'])
    .execute();
  await db.schema.createIndex('rate_counters_expiry').on('rate_counters').column('expires_at').execute();

  await db.schema
    .createTable('login_failures')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'integer', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('login_failures_start').on('login_failures').column('started_at').execute();

  await db.schema
    .createTable('shared_versions')
    .addColumn('topic', 'text', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('blacklist_changes')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('phone', 'text', (c) => c.notNull())
    /** 1: added, 0: removed. */
    .addColumn('added', 'integer', (c) => c.notNull())
    .addColumn('at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('blacklist_changes_at').on('blacklist_changes').column('at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('blacklist_changes').execute();
  await db.schema.dropTable('shared_versions').execute();
  await db.schema.dropIndex('login_failures_start').execute();
  await db.schema.dropTable('login_failures').execute();
  await db.schema.dropIndex('rate_counters_expiry').execute();
  await db.schema.dropTable('rate_counters').execute();
}
