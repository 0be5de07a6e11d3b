import { sql, type Kysely } from 'kysely';

/**
 * What a message's story needs (the console): the delivery receipt's own text on each part (and
 * on a receipt parked until its submit_sm_resp is written), and which message a webhook delivery
 * was about.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('message_parts').addColumn('receipt_text', 'text').execute();
  await db.schema.alterTable('pending_receipts').addColumn('text', 'text').execute();
  await db.schema.alterTable('webhook_deliveries').addColumn('message_id', 'integer').execute();
  await db.schema.createIndex('webhook_deliveries_message').on('webhook_deliveries').column('message_id').where(sql.ref('message_id'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_message').execute();
  await db.schema.alterTable('webhook_deliveries').dropColumn('message_id').execute();
  await db.schema.alterTable('pending_receipts').dropColumn('text').execute();
  await db.schema.alterTable('message_parts').dropColumn('receipt_text').execute();
}
