import { sql, type Kysely } from 'kysely';

/** The gateway core: the message queue, parts for receipt matching, receipts seen early, MO, blacklist. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('messages')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('account_id', 'integer')
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('encoding', 'text', (c) => c.notNull())
    .addColumn('parts', 'integer', (c) => c.notNull())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('failover', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('not_before', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .addColumn('acked_mask', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('final_parts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('delivered_parts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_state', 'text')
    .addColumn('bind', 'text')
    .addColumn('smsc_id', 'text')
    .addColumn('error_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('cost', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('submitted_at', 'integer')
    .addColumn('sent_at', 'integer')
    .addColumn('done_at', 'integer')
    .execute();
  // The dispatcher's claim reads only queued rows: keep that index small.
  await db.schema
    .createIndex('messages_queue')
    .on('messages')
    .columns(['operator', 'not_before', 'id'])
    .where(sql.ref('status'), '=', 'queued')
    .execute();
  await db.schema.createIndex('messages_status').on('messages').columns(['status']).execute();
  await db.schema.createIndex('messages_account_created').on('messages').columns(['account_id', 'created_at']).execute();

  await db.schema
    .createTable('message_parts')
    .addColumn('message_id', 'integer', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('part_no', 'integer', (c) => c.notNull())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('smsc_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'integer', (c) => c.notNull())
    .addColumn('receipt_at', 'integer')
    .addColumn('receipt_err', 'text')
    .addPrimaryKeyConstraint('message_parts_pk', ['message_id', 'part_no'])
    .execute();
  await db.schema.createIndex('message_parts_smsc').on('message_parts').columns(['operator', 'smsc_id']).execute();

  await db.schema
    .createTable('pending_receipts')
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('smsc_id', 'text', (c) => c.notNull())
    .addColumn('stat', 'text', (c) => c.notNull())
    .addColumn('err', 'text')
    .addColumn('received_at', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('pending_receipts_pk', ['operator', 'smsc_id'])
    .execute();

  await db.schema
    .createTable('mo_messages')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('bind', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('opt_out', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('received_at', 'integer', (c) => c.notNull())
    .execute();

  // account_id 0 is the operator's global list, which applies to every account.
  await db.schema
    .createTable('blacklist')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('account_id', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addUniqueConstraint('blacklist_account_phone', ['account_id', 'phone'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['blacklist', 'mo_messages', 'pending_receipts', 'message_parts', 'messages']) await db.schema.dropTable(t).execute();
}
