import type { Kysely } from 'kysely';

/**
 * A table that stays empty: while the disk is full, the store writes and deletes one page-sized
 * row in it every few seconds, and the first time that commits, writes are accepted again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('storage_probe').addColumn('pad', 'blob').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('storage_probe').execute();
}
