/**
 * Campaigns, their variants and runs, a run's staged audience, and the campaign side of the
 * message queue: expansion into messages, and moving a campaign's waiting messages between
 * queued, paused and cancelled — always a bounded chunk per call, so no transaction is long.
 */
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import { Repo, contains, pageOf, type Page, type PageRequest } from './repo.js';
import type { CampaignRecipientsTable, CampaignRunsTable, CampaignState, CampaignsTable, CampaignVariantsTable, MessageState } from './tables.js';

export type CampaignRecord = Selectable<CampaignsTable>;
export type VariantRecord = Selectable<CampaignVariantsTable>;
export type RunRecord = Selectable<CampaignRunsTable>;
export type StagedRecipient = Omit<Selectable<CampaignRecipientsTable>, 'run_id'>;

export interface CampaignFilter {
  status?: CampaignState | undefined;
  search?: string | undefined;
}

/** What expansion writes on every message of a run, beside each recipient's own columns. */
export interface ExpansionContext {
  runId: number;
  campaignId: number;
  accountId: number;
  subAccountId: number | null;
  sender: string;
  now: number;
  /** Not submitted before this (now, or a later time the send was scheduled for). */
  notBefore: number;
  expiresAt: number;
}

/** A node's hold on a run it collects or expands: its name, and until when (epoch ms) unless renewed. */
export interface RunHold {
  node: string;
  until: number;
}

/** Messages of a campaign still waiting for the SMSC. */
const WAITING: MessageState[] = ['queued', 'submitting', 'paused'];

export class CampaignsRepo extends Repo {
  insert(row: Insertable<CampaignsTable>): Promise<CampaignRecord> {
    return this.db.insertInto('campaigns').values(row).returningAll().executeTakeFirstOrThrow();
  }

  get(accountId: number, id: number): Promise<CampaignRecord | undefined> {
    return this.db.selectFrom('campaigns').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  /** For the daemon's own work (runner, scheduler), which has no tenant to scope by. */
  byId(id: number): Promise<CampaignRecord | undefined> {
    return this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  page(accountId: number, f: CampaignFilter, req: PageRequest): Promise<Page<CampaignRecord>> {
    let q = this.db.selectFrom('campaigns').selectAll().where('account_id', '=', accountId);
    if (f.status) q = q.where('status', '=', f.status);
    const search = f.search;
    if (search) q = q.where((eb) => eb.or([contains('name', search), contains('message', search)]));
    return pageOf(q.orderBy('id', 'desc'), req);
  }

  withStatus(statuses: readonly CampaignState[]): Promise<CampaignRecord[]> {
    return this.db.selectFrom('campaigns').selectAll().where('status', 'in', statuses).orderBy('id').execute();
  }

  withSchedule(): Promise<CampaignRecord[]> {
    return this.db.selectFrom('campaigns').selectAll().where('schedule', 'is not', null).orderBy('id').execute();
  }

  update(id: number, patch: Updateable<CampaignsTable>): Promise<CampaignRecord | undefined> {
    return this.db.updateTable('campaigns').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  }

  /** Moves the campaign to `to` only from one of `from`; undefined when it was in no such state. */
  transition(id: number, from: readonly CampaignState[], to: CampaignState, at: number, error: string | null = null): Promise<CampaignRecord | undefined> {
    return this.db.updateTable('campaigns').set({ status: to, updated_at: at, last_error: error }).where('id', '=', id).where('status', 'in', from).returningAll().executeTakeFirst();
  }

  async remove(id: number): Promise<void> {
    await this.db.deleteFrom('campaigns').where('id', '=', id).execute();
  }

  /** Ids of campaigns whose messages the dispatcher must leave alone now. */
  async held(): Promise<number[]> {
    return (await this.db.selectFrom('campaigns').select('id').where('status', 'in', ['paused', 'cancelled']).execute()).map((r) => r.id);
  }

  // ---- variants ----

  variants(campaignId: number): Promise<VariantRecord[]> {
    return this.db.selectFrom('campaign_variants').selectAll().where('campaign_id', '=', campaignId).orderBy('id').execute();
  }

  async replaceVariants(campaignId: number, variants: readonly { name: string; message: string; percentage: number }[]): Promise<VariantRecord[]> {
    await this.db.deleteFrom('campaign_variants').where('campaign_id', '=', campaignId).execute();
    if (!variants.length) return [];
    // In the order given (ids grow in row order; RETURNING's own order is not promised).
    const rows = await this.db.insertInto('campaign_variants').values(variants.map((v) => ({ campaign_id: campaignId, ...v }))).returningAll().execute();
    return rows.sort((a, b) => a.id - b.id);
  }

  // ---- counters, from the messages themselves ----

  /**
   * Messages by state and variant, from the campaign index alone; `sent`: how many an SMSC
   * accepted. Only `expired` says nothing of that (before or after submission): those rows are read.
   */
  async messageCounts(campaignId: number): Promise<{ status: MessageState; variant_id: number | null; n: number; sent: number }[]> {
    const rows = await this.db.selectFrom('messages').select(['status', 'variant_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId).groupBy(['status', 'variant_id']).execute();
    const expiredSent = await this.db.selectFrom('messages').select(['variant_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId).where('status', '=', 'expired').where('sent_at', 'is not', null).groupBy('variant_id').execute();
    const afterSubmit = new Set<MessageState>(['sent', 'delivered', 'undelivered', 'rejected']);
    return rows.map((r) => ({
      status: r.status, variant_id: r.variant_id, n: Number(r.n),
      sent: afterSubmit.has(r.status) ? Number(r.n) : r.status === 'expired' ? Number(expiredSent.find((e) => e.variant_id === r.variant_id)?.n ?? 0) : 0,
    }));
  }

  async waiting(campaignId: number): Promise<number> {
    const row = await this.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).where('status', 'in', WAITING).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- runs ----

  /**
   * A new run, held by the node collecting it; undefined when this schedule slot already has one:
   * each slot runs once, whichever node (or how many) starts it — the unique key decides.
   */
  insertRun(campaignId: number, slot: number | null, sender: string, subAccountId: number | null, at: number, hold: RunHold, notBefore: number | null = null): Promise<RunRecord | undefined> {
    return this.db.insertInto('campaign_runs').values({ campaign_id: campaignId, slot, sender, sub_account_id: subAccountId, phase: 'collecting', started_at: at, not_before: notBefore, claimed_by: hold.node, lease_until: hold.until })
      .onConflict((oc) => oc.columns(['campaign_id', 'slot']).doNothing()).returningAll().executeTakeFirst();
  }

  /**
   * Takes the run for `hold.node` while it is in `phase` and nobody else holds it (no lease, or
   * one that ran out before `now`), or renews it when that node holds it already. One statement:
   * of nodes racing for a run, one gets it. Undefined when not granted.
   */
  claimRun(runId: number, phase: 'collecting' | 'expanding', hold: RunHold, now: number): Promise<RunRecord | undefined> {
    return this.db.updateTable('campaign_runs').set({ claimed_by: hold.node, lease_until: hold.until })
      .where('id', '=', runId).where('phase', '=', phase)
      .where((eb) => eb.or([eb('claimed_by', '=', hold.node), eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .returningAll().executeTakeFirst();
  }

  /** Renews `hold.node`'s hold on a run still collecting or expanding; false when the run is no longer its own. */
  async renewRun(runId: number, hold: RunHold): Promise<boolean> {
    const r = await this.db.updateTable('campaign_runs').set({ lease_until: hold.until })
      .where('id', '=', runId).where('claimed_by', '=', hold.node).where('phase', 'in', ['collecting', 'expanding']).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Lets go of runs so another node may take them at once: `node`'s (a start under a node id that
   * ran before), or everyone's (`node` null: the one node of a SQLite database starting, so every
   * hold is a previous process's).
   */
  async releaseRuns(node: string | null): Promise<void> {
    let q = this.db.updateTable('campaign_runs').set({ lease_until: null }).where('phase', 'in', ['collecting', 'expanding']);
    if (node !== null) q = q.where('claimed_by', '=', node);
    await q.execute();
  }

  run(id: number): Promise<RunRecord | undefined> {
    return this.db.selectFrom('campaign_runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  runs(campaignId: number): Promise<RunRecord[]> {
    return this.db.selectFrom('campaign_runs').selectAll().where('campaign_id', '=', campaignId).orderBy('id').execute();
  }

  /** Runs the daemon must carry on with: expansion not finished. */
  unfinishedRuns(): Promise<RunRecord[]> {
    return this.db.selectFrom('campaign_runs').selectAll().where('phase', 'in', ['collecting', 'expanding']).orderBy('id').execute();
  }

  lastSlot(campaignId: number): Promise<number | null> {
    return this.db.selectFrom('campaign_runs').select((eb) => eb.fn.max('slot').as('slot')).where('campaign_id', '=', campaignId).executeTakeFirst().then((r) => r?.slot ?? null);
  }

  async updateRun(id: number, patch: Updateable<CampaignRunsTable>): Promise<void> {
    await this.db.updateTable('campaign_runs').set(patch).where('id', '=', id).execute();
  }

  /** Changes a run only while it is in `phase` and held by `node`; false when it is not (then nothing changed). */
  async updateHeldRun(id: number, phase: 'collecting' | 'expanding', node: string, patch: Updateable<CampaignRunsTable>): Promise<boolean> {
    const r = await this.db.updateTable('campaign_runs').set(patch).where('id', '=', id).where('phase', '=', phase).where('claimed_by', '=', node).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async removeRun(id: number): Promise<void> {
    await this.db.deleteFrom('campaign_runs').where('id', '=', id).execute();
  }

  // ---- a run's staged audience ----

  /** Which of these numbers the run has staged already. */
  async staged(runId: number, phones: readonly string[]): Promise<Set<string>> {
    if (!phones.length) return new Set();
    const rows = await this.db.selectFrom('campaign_recipients').select('phone').where('run_id', '=', runId).where('phone', 'in', phones).execute();
    return new Set(rows.map((r) => r.phone));
  }

  async stage(runId: number, rows: readonly StagedRecipient[]): Promise<void> {
    if (rows.length) await this.db.insertInto('campaign_recipients').values(rows.map((r) => ({ run_id: runId, ...r }))).execute();
  }

  async stagedTotals(runId: number): Promise<{ count: number; cost: number }> {
    const row = await this.db.selectFrom('campaign_recipients').select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('cost').as('cost')])
      .where('run_id', '=', runId).executeTakeFirstOrThrow();
    return { count: Number(row.n), cost: Number(row.cost ?? 0) };
  }

  /** Cost of the staged recipients past `pos` (never expanded): what a cancel gives back. */
  async unexpandedCost(runId: number, pos: number): Promise<number> {
    const row = await this.db.selectFrom('campaign_recipients').select((eb) => eb.fn.sum<number>('cost').as('cost')).where('run_id', '=', runId).where('pos', '>', pos).executeTakeFirstOrThrow();
    return Number(row.cost ?? 0);
  }

  /** Deletes up to `limit` staged rows of a run; returns how many. */
  async dropStaged(runId: number, limit: number): Promise<number> {
    const r = await this.db.deleteFrom('campaign_recipients').where('run_id', '=', runId)
      .where('pos', 'in', (eb) => eb.selectFrom('campaign_recipients').select('pos').where('run_id', '=', runId).orderBy('pos').limit(limit)).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Copies the next `limit` staged recipients (by position) into the queue as campaign messages;
   * returns the last position copied, or null when none was left.
   */
  async expand(c: ExpansionContext, afterPos: number, limit: number): Promise<number | null> {
    const last = await this.db.selectFrom('campaign_recipients').select((eb) => eb.fn.max('pos').as('pos'))
      .where('pos', 'in', (eb) => eb.selectFrom('campaign_recipients').select('pos').where('run_id', '=', c.runId).where('pos', '>', afterPos).orderBy('pos').limit(limit))
      .where('run_id', '=', c.runId).executeTakeFirst();
    const upTo = last?.pos ?? null;
    if (upTo === null) return null;
    await this.db.insertInto('messages')
      .columns(['account_id', 'sub_account_id', 'sender', 'recipient', 'body', 'encoding', 'parts', 'operator', 'failover', 'status', 'not_before', 'expires_at', 'cost', 'created_at', 'webhook_url', 'campaign_id', 'variant_id', 'lane', 'seq'])
      .expression(this.db.selectFrom('campaign_recipients').select([
        sql.lit(c.accountId).as('account_id'), sql<number | null>`${c.subAccountId}`.as('sub_account_id'), sql<string>`${c.sender}`.as('sender'), 'phone', 'body', 'encoding', 'parts', 'operator', 'failover',
        sql<string>`${'queued'}`.as('status'), sql<number>`${c.notBefore}`.as('not_before'), sql<number>`${c.expiresAt}`.as('expires_at'), 'cost',
        sql<number>`${c.now}`.as('created_at'), sql<null>`null`.as('webhook_url'), sql.lit(c.campaignId).as('campaign_id'), 'variant_id', sql.lit(1).as('lane'), 'pos',
      ]).where('run_id', '=', c.runId).where('pos', '>', afterPos).where('pos', '<=', upTo).orderBy('pos'))
      .execute();
    return upTo;
  }

  // ---- the campaign's waiting messages ----

  /** Moves up to `limit` of the campaign's messages in `from` to `to`, in claim order; returns how many. */
  async move(campaignId: number, from: 'queued' | 'paused', to: 'queued' | 'paused', limit: number): Promise<number> {
    const r = await this.db.updateTable('messages').set({ status: to })
      .where('id', 'in', (eb) => eb.selectFrom('messages').select('id').where('campaign_id', '=', campaignId).where('status', '=', from).orderBy('seq').limit(limit))
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /**
   * Cancels up to `limit` of the campaign's waiting messages (queued or paused, never one in a
   * bind's window); returns how many and what they cost, to refund in the same transaction.
   */
  async cancelWaiting(campaignId: number, at: number, limit: number): Promise<{ count: number; refunds: { subAccountId: number | null; amount: number }[] }> {
    const rows = await this.db.updateTable('messages').set({ status: 'cancelled', done_at: at, error: 'campaign cancelled before submission', refunded: 1 })
      .where('id', 'in', (eb) => eb.selectFrom('messages').select('id').where('campaign_id', '=', campaignId).where('status', 'in', ['queued', 'paused']).orderBy('seq').limit(limit))
      .returning(['cost', 'acked_mask', 'sub_account_id']).execute();
    // One refund per sub-account (or none) the chunk's messages were charged to.
    const bySub = new Map<number | null, number>();
    for (const r of rows) if (r.acked_mask === 0) bySub.set(r.sub_account_id, (bySub.get(r.sub_account_id) ?? 0) + r.cost);
    return { count: rows.length, refunds: [...bySub].filter(([, amount]) => amount > 0).map(([subAccountId, amount]) => ({ subAccountId, amount })) };
  }
}
