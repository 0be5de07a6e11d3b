import type { Kysely } from 'kysely';

/**
 * Background work shared by several nodes: a webhook delivery and a campaign run name the node
 * working on them and until when its lease holds (renewed while it works; past it, another node
 * takes the work over). On one node (SQLite) the columns cost nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['webhook_deliveries', 'campaign_runs']) {
    await db.schema.alterTable(table).addColumn('claimed_by', 'text').execute();
    await db.schema.alterTable(table).addColumn('lease_until', 'integer').execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['webhook_deliveries', 'campaign_runs']) {
    await db.schema.alterTable(table).dropColumn('lease_until').execute();
    await db.schema.alterTable(table).dropColumn('claimed_by').execute();
  }
}
