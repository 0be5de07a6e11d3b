import type { Kysely } from 'kysely';

/**
 * What the FLOW and Mifumo dialects need of the store: logins by username (FLOW), a phone, a
 * profile and a verification code for registrations (Mifumo), sends reserved now but submitted
 * later (FLOW's schedule_time), and contact pages that are one index range.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('username', 'text').execute();
  await db.schema.createIndex('accounts_username').unique().on('accounts').column('username').execute();
  await db.schema.alterTable('accounts').addColumn('phone_number', 'text').execute();
  await db.schema.alterTable('accounts').addColumn('profile', 'text', (c) => c.notNull().defaultTo('{}')).execute();
  await db.schema
    .createTable('verification_codes')
    .addColumn('account_id', 'integer', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .execute();

  // A run's messages are not submitted before this (a send scheduled for later, reserved now).
  await db.schema.alterTable('campaign_runs').addColumn('not_before', 'integer').execute();

  // Campaign audiences read an account's contacts a page at a time in id order. With only the
  // (account_id, phone) index SQLite walked every contact of the account and sorted them for
  // each page: a 1M-contact campaign took four minutes to collect and stalled the event loop.
  await db.schema.createIndex('contacts_account_id').on('contacts').columns(['account_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('contacts_account_id').execute();
  await db.schema.alterTable('campaign_runs').dropColumn('not_before').execute();
  await db.schema.dropTable('verification_codes').execute();
  await db.schema.dropIndex('accounts_username').execute();
  for (const c of ['username', 'phone_number', 'profile']) await db.schema.alterTable('accounts').dropColumn(c).execute();
}
