import type { Kysely } from 'kysely';

/**
 * The service boundary: audit rows can name a sub-account, tokens have a kind (access or
 * refresh), and stored idempotent answers become
 * the neutral send result (each dialect renders it again) instead of a SendWave body.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_logs').addColumn('sub_account_id', 'integer').execute();
  // Refresh tokens (FLOW, Mifumo) are recorded beside access tokens, and revocable the same way.
  await db.schema.alterTable('auth_tokens').addColumn('kind', 'text', (c) => c.notNull().defaultTo('access')).execute();
  const rows = await db.selectFrom('idempotency_keys').select(['account_id', 'key', 'response']).execute();
  for (const r of rows as { account_id: number; key: string; response: string }[]) {
    const neutral = fromSendwaveBody(JSON.parse(r.response));
    if (!neutral) continue;
    await db.updateTable('idempotency_keys').set({ response: JSON.stringify(neutral) }).where('account_id', '=', r.account_id).where('key', '=', r.key).execute();
  }
}

/** The SendWave answer of 0.1 (`{message, data:{…}}`) back into the send summary it was rendered from. */
function fromSendwaveBody(body: { data?: Record<string, unknown> }): Record<string, unknown> | null {
  const d = body.data;
  if (!d || typeof d.total !== 'number') return null;
  return {
    total: d.total, accepted: d.sent, failed: d.failed, sms_count: d.sms_count, encoding: 'gsm7', total_cost: d.total_cost,
    by_operator: d.by_operator, message_ids: d.message_ids, created_at: 0, failures: d.failures ?? [], warnings: d.warnings ?? [],
    sender_id: d.sender_id, scheduled_at: typeof d.scheduled_at === 'string' ? Date.parse(d.scheduled_at) : null, balance: d.balance,
  };
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('auth_tokens').dropColumn('kind').execute();
  await db.schema.alterTable('audit_logs').dropColumn('sub_account_id').execute();
}
