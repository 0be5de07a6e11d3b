import { sql, type Kysely } from 'kysely';

/**
 * Several nodes on one database: a claimed message names the node that claimed it and until
 * when its lease holds (renewed while the node works; past it, another node re-queues the
 * message); each bind is held by one node at a time under a lease; each node says it is alive.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('claimed_by', 'text').execute();
  await db.schema.alterTable('messages').addColumn('lease_until', 'integer').execute();
  // Only messages being submitted carry a lease: both indexes stay as small as the windows.
  await db.schema.createIndex('messages_leases').on('messages').columns(['lease_until']).where(sql.ref('status'), '=', 'submitting').execute();
  await db.schema.createIndex('messages_claimed_by').on('messages').columns(['claimed_by']).where(sql.ref('status'), '=', 'submitting').execute();

  await db.schema
    .createTable('bind_leases')
    .addColumn('bind', 'text', (c) => c.primaryKey())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('node', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    // Whether the holder's session is bound now: other nodes fail over only from operators none has bound.
    .addColumn('bound', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('cluster_nodes')
    .addColumn('node', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'integer', (c) => c.notNull())
    .addColumn('seen_at', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('cluster_nodes').execute();
  await db.schema.dropTable('bind_leases').execute();
  await db.schema.dropIndex('messages_claimed_by').execute();
  await db.schema.dropIndex('messages_leases').execute();
  await db.schema.alterTable('messages').dropColumn('lease_until').execute();
  await db.schema.alterTable('messages').dropColumn('claimed_by').execute();
}
