import { sql, type Kysely } from 'kysely';

/**
 * Campaigns: the campaign, its A/B variants, its runs (one per start: immediate, scheduled or
 * recurring), the staged audience of a run, segments (saved contact filters), and on messages the
 * lane they are claimed in (0: one-off sends first; 1: campaigns, interleaved by `seq`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('template_id', 'integer')
    .addColumn('sender_id', 'text')
    // JSON: {numbers:[], contact_ids:[], group_ids:[], segment_ids:[]}
    .addColumn('audience', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('scheduled_at', 'integer')
    // JSON: {frequency, day_of_week, day_of_month, time, start_date, end_date, is_active, timezone}
    .addColumn('schedule', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('campaigns_account').on('campaigns').columns(['account_id', 'id']).execute();
  await db.schema.createIndex('campaigns_status').on('campaigns').column('status').execute();

  await db.schema
    .createTable('campaign_variants')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('campaign_id', 'integer', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('percentage', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('campaign_variants_campaign').on('campaign_variants').column('campaign_id').execute();

  await db.schema
    .createTable('campaign_runs')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('campaign_id', 'integer', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
    // The schedule slot this run serves (epoch ms), or null for a run started by hand: one run per slot.
    .addColumn('slot', 'integer')
    // collecting → expanding → done, or failed
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    // The sub-account that started it: its messages and credits count against it.
    .addColumn('sub_account_id', 'integer')
    .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
    // Recipients left out: invalid, no route, blacklisted, opted out; and repeats of one number.
    .addColumn('removed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duplicates', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reserved', 'integer', (c) => c.notNull().defaultTo(0))
    // Staged recipients already copied into messages (by staging position).
    .addColumn('expanded', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'integer', (c) => c.notNull())
    .addColumn('finished_at', 'integer')
    .addUniqueConstraint('campaign_runs_slot', ['campaign_id', 'slot'])
    .execute();

  // A run's audience, deduplicated by the primary key as it is collected, then copied into messages.
  await db.schema
    .createTable('campaign_recipients')
    .addColumn('run_id', 'integer', (c) => c.notNull().references('campaign_runs.id').onDelete('cascade'))
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('pos', 'integer', (c) => c.notNull())
    .addColumn('variant_id', 'integer')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('encoding', 'text', (c) => c.notNull())
    .addColumn('parts', 'integer', (c) => c.notNull())
    .addColumn('operator', 'text', (c) => c.notNull())
    .addColumn('failover', 'text')
    .addColumn('cost', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('campaign_recipients_pk', ['run_id', 'phone'])
    .execute();
  await db.schema.createIndex('campaign_recipients_pos').on('campaign_recipients').columns(['run_id', 'pos']).execute();

  await db.schema
    .createTable('segments')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    // JSON: {tags: [...], attributes: {k: v}, status?: 'active'|...}
    .addColumn('filter', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('segments_account').on('segments').columns(['account_id', 'id']).execute();

  await db.schema.alterTable('messages').addColumn('campaign_id', 'integer').execute();
  await db.schema.alterTable('messages').addColumn('variant_id', 'integer').execute();
  await db.schema.alterTable('messages').addColumn('lane', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('messages').addColumn('seq', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  // Counters of a campaign come from its messages' states: this index answers them.
  await db.schema.createIndex('messages_campaign').on('messages').columns(['campaign_id', 'status', 'variant_id']).where(sql.ref('campaign_id'), 'is not', null).execute();
  // The claim reads one lane at a time: one-off sends by time, campaigns interleaved by position.
  await db.schema.dropIndex('messages_queue').execute();
  await db.schema.createIndex('messages_queue').on('messages').columns(['operator', 'not_before', 'id'])
    .where((eb) => eb.and([eb(sql.ref('status'), '=', 'queued'), eb(sql.ref('lane'), '=', 0)])).execute();
  await db.schema.createIndex('messages_queue_campaigns').on('messages').columns(['operator', 'seq', 'id'])
    .where((eb) => eb.and([eb(sql.ref('status'), '=', 'queued'), eb(sql.ref('lane'), '=', 1)])).execute();

  await db.schema.alterTable('accounts').addColumn('timezone', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('messages_queue_campaigns').execute();
  await db.schema.dropIndex('messages_queue').execute();
  await db.schema.createIndex('messages_queue').on('messages').columns(['operator', 'not_before', 'id']).where(sql.ref('status'), '=', 'queued').execute();
  await db.schema.dropIndex('messages_campaign').execute();
  for (const c of ['seq', 'lane', 'variant_id', 'campaign_id']) await db.schema.alterTable('messages').dropColumn(c).execute();
  await db.schema.alterTable('accounts').dropColumn('timezone').execute();
  for (const t of ['segments', 'campaign_recipients', 'campaign_runs', 'campaign_variants', 'campaigns']) await db.schema.dropTable(t).execute();
}
