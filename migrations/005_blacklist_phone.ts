import type { Kysely } from 'kysely';

/** The send path checks every recipient against the blacklist by phone: one index probe, not two. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('blacklist_phone').on('blacklist').column('phone').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('blacklist_phone').execute();
}
