/**
 * Campaigns: one model for every dialect (SendWave's campaigns, Mifumo's, each FLOW send-sms).
 * A start collects the audience, reserves its whole cost (a 402 changes nothing), then the runner
 * expands it into the queue; pause, resume and cancel act on the campaign at once and on its
 * waiting messages a chunk at a time. Counters come from the messages' own states.
 */
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Account } from '../../store/accounts.js';
import type { CampaignRecord } from '../../store/campaigns.js';
import type { Store } from '../../store/db.js';
import type { Page, PageRequest } from '../../store/repo.js';
import type { CampaignState } from '../../store/tables.js';
import { analyze } from '../../smpp/codec.js';
import type { Changes } from '../changes.js';
import type { ContactService } from '../contacts.js';
import type { MessageRow } from '../history.js';
import { insufficient } from '../credits.js';
import { ServiceError, fieldError, notFound } from '../errors.js';
import { authorize, systemActor, type Actor, type Permission } from '../policy.js';
import type { SenderIdService } from '../sender-ids.js';
import type { AudienceCollector, Collected, Rejected } from './audience.js';
import { countStates, type Audience, type CampaignDetail, type Counters, type Schedule, type VariantCounters } from './model.js';
import { CampaignRunner } from './runner.js';

export interface CampaignInput {
  name: string;
  message?: string | undefined;
  template_id?: number | undefined;
  sender_id?: string | undefined;
  /** Epoch ms: a one-time run then. */
  scheduled_at?: number | undefined;
  audience?: Audience | undefined;
}

export interface VariantInput {
  name: string;
  message: string;
  percentage: number;
}

export type ScheduleInput = Omit<Schedule, 'timezone'> & { timezone?: string | undefined };

export interface DirectSendInput {
  name: string;
  message: string;
  sender_id?: string | undefined;
  numbers: string[];
  /** Epoch ms: reserved now, not submitted before then. */
  not_before?: number | undefined;
}

export interface DirectSendResult {
  campaign: CampaignRecord;
  /** Numbers left out, with why. */
  rejected: Rejected[];
  /** Its messages as they stand at answer time, in the order given, each with its contact. */
  messages: (MessageRow & { contact_id: number })[];
}

/** The most numbers one direct send takes (the answer lists every message). */
export const DIRECT_MAX = 10_000;

interface RunStart {
  slot: number | null;
  message: string;
  audience: Audience;
  manual: boolean;
  notBefore?: number | undefined;
}

interface Started {
  campaign: CampaignRecord;
  /** Null when the slot ran already. */
  runId: number | null;
  rejected: Rejected[];
}

/** From where a campaign may be started again. */
const STARTABLE: CampaignState[] = ['draft', 'scheduled', 'completed', 'failed', 'cancelled'];
const ACTIVE: CampaignState[] = ['running', 'paused'];

export interface CampaignConfig {
  maxParts: number;
  /** Time zone of accounts that have none. */
  timezone: string;
}

export class CampaignService {
  /** Campaigns being started in this process: a second start at once is a conflict, not a double run. */
  private readonly starting = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly changes: Changes,
    private readonly senderIds: SenderIdService,
    private readonly collector: AudienceCollector,
    readonly runner: CampaignRunner,
    private readonly contacts: ContactService,
    private readonly cfg: CampaignConfig,
    /** Called when a campaign's schedule changes (the recurring scheduler rebuilds its job). */
    private readonly onScheduleChange: (campaignId: number) => void = () => undefined,
  ) {
    runner.attach({ startDue: (c) => this.startDue(c), finished: (c) => this.finish(c), finishCancel: (c) => this.releaseAll(c) });
  }

  // ---- reads ----

  async list(actor: Actor, f: { status?: CampaignState | undefined; search?: string | undefined }, req: PageRequest): Promise<Page<CampaignDetail>> {
    authorizeRead(actor);
    const page = await this.store.repos.campaigns.page(actor.account.id, f, req);
    const rows: CampaignDetail[] = [];
    for (const c of page.rows) rows.push(await this.detail(c));
    return { ...page, rows };
  }

  async get(actor: Actor, id: number): Promise<CampaignDetail> {
    authorizeRead(actor);
    return this.detail(await this.own(actor, id));
  }

  private async own(actor: Actor, id: number): Promise<CampaignRecord> {
    const c = await this.store.repos.campaigns.get(actor.account.id, id);
    if (!c) throw notFound('campaign');
    return c;
  }

  private async detail(campaign: CampaignRecord): Promise<CampaignDetail> {
    const repo = this.store.repos.campaigns;
    const [runs, variants, counts] = [await repo.runs(campaign.id), await repo.variants(campaign.id), await repo.messageCounts(campaign.id)];
    const notExpanded = runs.reduce((n, r) => n + (r.phase === 'expanding' ? Math.max(0, r.total - r.expanded) : 0), 0);
    const total = runs.reduce((n, r) => n + (r.phase === 'collecting' ? 0 : r.total), 0);
    const counters: Counters = {
      ...countStates(counts, notExpanded, total),
      removed: runs.reduce((n, r) => n + r.removed, 0), duplicates: runs.reduce((n, r) => n + r.duplicates, 0),
    };
    const perVariant: VariantCounters[] = variants.map((variant) => {
      const mine = counts.filter((r) => r.variant_id === variant.id);
      return { variant, ...countStates(mine, 0, mine.reduce((n, r) => n + r.n, 0)) };
    });
    return { campaign, audience: JSON.parse(campaign.audience) as Audience, schedule: campaign.schedule ? (JSON.parse(campaign.schedule) as Schedule) : null, variants: perVariant, counters, runs };
  }

  // ---- writes ----

  async create(actor: Actor, input: CampaignInput): Promise<CampaignDetail> {
    authorize(actor, 'create_campaigns');
    const message = await this.messageOf(actor, input);
    if (input.sender_id) await this.senderIds.resolve(actor.account.id, input.sender_id, null);
    const now = Date.now();
    const scheduled = input.scheduled_at !== undefined && input.scheduled_at > now;
    const c = await this.changes.run(actor, async (ch) => {
      const c = await ch.tx.campaigns.insert({
        account_id: actor.account.id, name: input.name, message, template_id: input.template_id ?? null, sender_id: input.sender_id ?? null,
        audience: JSON.stringify(input.audience ?? {}), status: scheduled ? 'scheduled' : 'draft', scheduled_at: scheduled ? input.scheduled_at! : null,
        schedule: null, last_error: null, created_at: now, updated_at: now,
      });
      await ch.audit({ action: 'campaign.created', model: 'Campaign', modelId: c.id, new: snapshot(c) });
      return c;
    });
    this.runner.kick();
    return this.detail(c);
  }

  /** The text of a campaign: its own, or its template's; never more parts than a message may have. */
  private async messageOf(actor: Actor, input: { message?: string | undefined; template_id?: number | undefined }): Promise<string> {
    let message = input.message;
    if (message === undefined && input.template_id !== undefined) {
      const t = await this.store.repos.templates.get(actor.account.id, input.template_id);
      if (!t) throw fieldError('template_id', 'invalid');
      message = t.content;
    }
    if (!message) throw fieldError('message_content', 'required');
    const parts = analyze(message).parts;
    if (parts > this.cfg.maxParts) throw fieldError('message_content', 'message_too_long', { parts, max: this.cfg.maxParts });
    return message;
  }

  async update(actor: Actor, id: number, patch: Partial<CampaignInput>): Promise<CampaignDetail> {
    authorize(actor, 'create_campaigns');
    const before = await this.own(actor, id);
    if (ACTIVE.includes(before.status)) throw new ServiceError('conflict', 'campaign_active', {}, { status: before.status });
    const message = patch.message !== undefined || patch.template_id !== undefined ? await this.messageOf(actor, patch) : undefined;
    if (patch.sender_id) await this.senderIds.resolve(actor.account.id, patch.sender_id, null);
    const now = Date.now();
    const c = await this.changes.run(actor, async (ch) => {
      const scheduledAt = patch.scheduled_at;
      const c = (await ch.tx.campaigns.update(id, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(message !== undefined ? { message } : {}),
        ...(patch.template_id !== undefined ? { template_id: patch.template_id } : {}),
        ...(patch.sender_id !== undefined ? { sender_id: patch.sender_id } : {}),
        ...(patch.audience !== undefined ? { audience: JSON.stringify(patch.audience) } : {}),
        ...(scheduledAt !== undefined ? { scheduled_at: scheduledAt, status: scheduledAt > now ? 'scheduled' : before.status === 'scheduled' ? 'draft' : before.status } : {}),
        updated_at: now,
      }))!;
      await ch.audit({ action: 'campaign.updated', model: 'Campaign', modelId: id, old: snapshot(before), new: snapshot(c) });
      return c;
    });
    return this.detail(c);
  }

  /** A running or paused campaign cannot be deleted: cancel it first. */
  async remove(actor: Actor, id: number): Promise<void> {
    authorize(actor, 'create_campaigns');
    const before = await this.own(actor, id);
    if (ACTIVE.includes(before.status)) throw new ServiceError('conflict', 'campaign_active', {}, { status: before.status });
    await this.changes.run(actor, async (ch) => {
      await ch.tx.campaigns.remove(id);
      await ch.audit({ action: 'campaign.deleted', model: 'Campaign', modelId: id, old: snapshot(before) });
    });
    this.onScheduleChange(id);
  }

  /** A/B variants (replacing any): percentages add up to 100. */
  async setVariants(actor: Actor, id: number, variants: readonly VariantInput[]): Promise<CampaignDetail> {
    authorize(actor, 'create_campaigns');
    const before = await this.own(actor, id);
    if (ACTIVE.includes(before.status)) throw new ServiceError('conflict', 'campaign_active', {}, { status: before.status });
    const sum = variants.reduce((n, v) => n + v.percentage, 0);
    if (variants.length && sum !== 100) throw fieldError('variants', 'percentages_total', { total: sum });
    for (const v of variants) await this.messageOf(actor, { message: v.message });
    await this.changes.run(actor, async (ch) => {
      const rows = await ch.tx.campaigns.replaceVariants(id, variants);
      await ch.audit({ action: 'campaign.variants_updated', model: 'Campaign', modelId: id, new: { variants: rows.map((v) => ({ id: v.id, name: v.name, percentage: v.percentage })) } });
    });
    return this.detail(before);
  }

  /** A recurring schedule (or a stop to it): runs fire in the account's time zone. */
  async schedule(actor: Actor, id: number, input: ScheduleInput): Promise<CampaignDetail> {
    authorize(actor, 'create_campaigns');
    const before = await this.own(actor, id);
    const schedule: Schedule = { ...input, timezone: input.timezone ?? actor.account.timezone ?? this.cfg.timezone };
    const now = Date.now();
    const c = await this.changes.run(actor, async (ch) => {
      const status = ACTIVE.includes(before.status) ? before.status : schedule.is_active ? 'scheduled' : before.status === 'scheduled' ? 'draft' : before.status;
      const c = (await ch.tx.campaigns.update(id, { schedule: JSON.stringify(schedule), status, updated_at: now }))!;
      await ch.audit({ action: 'campaign.scheduled', model: 'Campaign', modelId: id, new: { schedule } });
      return c;
    });
    this.onScheduleChange(id);
    return this.detail(c);
  }

  // ---- running ----

  /** Starts a run now; `override` replaces the audience (recipients) and/or the text for this run. */
  async send(actor: Actor, id: number, override: { recipients?: string[] | undefined; message?: string | undefined } = {}): Promise<CampaignDetail> {
    authorize(actor, 'create_campaigns');
    authorize(actor, 'send_sms');
    const campaign = await this.own(actor, id);
    const message = override.message !== undefined ? await this.messageOf(actor, { message: override.message }) : campaign.message;
    const audience = override.recipients ? { numbers: override.recipients } : (JSON.parse(campaign.audience) as Audience);
    const started = await this.startRun(actor, campaign, { slot: null, message, audience, manual: true });
    return this.detail(started.campaign);
  }

  /**
   * A campaign made and started in one call (each FLOW send-sms): collected, reserved and copied
   * into the queue before the answer, every number given its contact; then up to `waitMs` for
   * the SMSC's answers, so the messages read back are sent with their SMSC ids as the original
   * platform answered. A send scheduled for later is reserved now and answers at once.
   */
  async sendDirect(actor: Actor, input: DirectSendInput, waitMs: number): Promise<DirectSendResult> {
    authorize(actor, 'send_sms');
    const message = await this.messageOf(actor, { message: input.message });
    const now = Date.now();
    const audience: Audience = { numbers: input.numbers };
    const campaign = await this.store.transaction((tx) => tx.campaigns.insert({
      account_id: actor.account.id, name: input.name, message, template_id: null, sender_id: input.sender_id ?? null, audience: JSON.stringify(audience),
      status: 'draft', scheduled_at: input.not_before ?? null, schedule: null, last_error: null, created_at: now, updated_at: now,
    }));
    let started: Started;
    try {
      started = await this.startRun(actor, campaign, { slot: null, message, audience, manual: true, notBefore: input.not_before });
    } catch (err) {
      await this.store.transaction((tx) => tx.campaigns.remove(campaign.id)); // nothing was reserved: no trace
      throw err;
    }
    await this.runner.expandNow(started.runId!);
    const read = () => this.store.repos.history.after(actor.account.id, { campaignId: campaign.id }, 0, DIRECT_MAX);
    const contacts = await this.contacts.ensure(actor, (await read()).map((m) => m.recipient));
    if (!input.not_before || input.not_before <= Date.now()) await this.settle(campaign.id, waitMs);
    const messages = (await read()).map((m) => ({ ...m, contact_id: contacts.get(m.recipient)! }));
    return { campaign: (await this.store.repos.campaigns.byId(campaign.id)) ?? started.campaign, rejected: started.rejected, messages };
  }

  /** Until none of the campaign's messages waits for its submit_sm_resp, or `ms` have passed. */
  private async settle(campaignId: number, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && (await this.store.repos.campaigns.waiting(campaignId)) > 0) await sleep(Math.min(20, until - Date.now()));
  }

  /** A run of a recurring schedule's slot: once per slot, whatever calls it how often. */
  async runSlot(campaignId: number, slot: number): Promise<void> {
    const campaign = await this.store.repos.campaigns.byId(campaignId);
    if (!campaign || ACTIVE.includes(campaign.status)) return;
    const account = await this.store.repos.accounts.get(campaign.account_id);
    if (!account || account.status !== 'active') return;
    await this.startRun(systemActor(account, 'scheduler'), campaign, { slot, message: campaign.message, audience: JSON.parse(campaign.audience) as Audience, manual: false })
      .catch((err: unknown) => this.failStart(account, campaign, err));
  }

  private async startDue(campaign: CampaignRecord): Promise<void> {
    const account = await this.store.repos.accounts.get(campaign.account_id);
    if (!account || account.status !== 'active') return;
    await this.startRun(systemActor(account, 'scheduler'), campaign, { slot: campaign.scheduled_at, message: campaign.message, audience: JSON.parse(campaign.audience) as Audience, manual: false })
      .catch((err: unknown) => this.failStart(account, campaign, err));
  }

  /** A start nobody waits for that could not happen: the campaign fails, and says why. */
  private async failStart(account: Account, campaign: CampaignRecord, err: unknown): Promise<void> {
    const reason = err instanceof ServiceError ? err.code : 'internal error';
    await this.changes.run(systemActor(account, 'scheduler'), async (ch) => {
      const c = await ch.tx.campaigns.transition(campaign.id, STARTABLE, campaign.schedule ? 'scheduled' : 'failed', Date.now(), reason);
      if (!c) return;
      await ch.emit('campaign.failed', { campaign_id: c.id, name: c.name, error: reason });
      await ch.audit({ action: 'campaign.failed', model: 'Campaign', modelId: c.id, new: { error: reason } });
    });
  }

  /**
   * Collects the audience into a new run, then — in one transaction — reserves its cost and sets
   * the campaign running. A balance that cannot cover it is a 402 and nothing stays behind. This
   * node holds the run while it collects (another node drops it if this one dies), and expands it
   * first. A run of a schedule's slot that cannot start stays, failed: the slot was tried, and no
   * node tries it again.
   */
  private async startRun(actor: Actor, campaign: CampaignRecord, o: RunStart): Promise<Started> {
    if (!STARTABLE.includes(campaign.status) || this.starting.has(campaign.id)) throw new ServiceError('conflict', 'campaign_active', {}, { status: campaign.status });
    this.starting.add(campaign.id);
    try {
      const sender = await this.senderIds.resolve(actor.account.id, campaign.sender_id ?? undefined, actor.account.default_sender_id);
      const run = await this.store.transaction((tx) => tx.campaigns.insertRun(campaign.id, o.slot, sender, actor.subAccountId, Date.now(), this.runner.hold(), o.notBefore ?? null));
      if (!run) return { campaign, runId: null, rejected: [] }; // this slot ran already (here or on another node)
      const letGo = this.runner.keep(run.id);
      try {
        const variants = await this.store.repos.campaigns.variants(campaign.id);
        const collected = await this.collector.collect({ runId: run.id, accountId: actor.account.id, sender, message: o.message, audience: o.audience, variants });
        if (o.manual && collected.total === 0) throw noRecipients(collected.rejected);
        const c = await this.reserve(actor, campaign, run.id, collected);
        this.runner.kick();
        return { campaign: c, runId: run.id, rejected: collected.rejected };
      } catch (err) {
        await this.runner.dropStaged(run.id);
        await this.store.transaction((tx) => (o.slot !== null && !o.manual ? tx.campaigns.updateRun(run.id, { phase: 'failed', finished_at: Date.now(), lease_until: null }) : tx.campaigns.removeRun(run.id)));
        throw err;
      } finally {
        letGo();
      }
    } finally {
      this.starting.delete(campaign.id);
    }
  }

  private reserve(actor: Actor, campaign: CampaignRecord, runId: number, collected: Collected): Promise<CampaignRecord> {
    return this.changes.run(actor, async (ch) => {
      const c = await ch.tx.campaigns.transition(campaign.id, STARTABLE, 'running', Date.now());
      if (!c) throw new ServiceError('conflict', 'campaign_active', {}, { status: campaign.status });
      const charge = { accountId: actor.account.id, subAccountId: actor.subAccountId, amount: collected.cost, reason: 'reservation' as const, reference: `campaign:${campaign.id}:run:${runId}` };
      const short = await ch.tx.credits.shortfall(charge.accountId, charge.subAccountId, charge.amount);
      if (short) throw insufficient(charge.amount, short);
      await ch.tx.credits.debit(charge);
      // Still this node's: a node that found it collecting with its hold run out (this one stalled) dropped it.
      const hold = this.runner.hold();
      const held = await ch.tx.campaigns.updateHeldRun(runId, 'collecting', hold.node, {
        phase: 'expanding', total: collected.total, removed: collected.removed, duplicates: collected.duplicates, reserved: collected.cost, lease_until: hold.until,
      });
      if (!held) throw new ServiceError('conflict', 'campaign_active', {}, { status: campaign.status });
      const data = { campaign_id: c.id, name: c.name, run_id: runId, total: collected.total, removed: collected.removed, duplicates: collected.duplicates, cost: collected.cost };
      await ch.emit('campaign.started', data);
      await ch.audit({ action: 'campaign.started', model: 'Campaign', modelId: c.id, new: data });
      return c;
    });
  }

  /** Stops new submits of the campaign at once; its queued messages are set aside. */
  async pause(actor: Actor, id: number): Promise<CampaignDetail> {
    const c = await this.transition(actor, id, ['running'], 'paused', 'campaign.paused');
    await this.runner.drain(id, (tx) => tx.campaigns.move(id, 'queued', 'paused', CampaignRunner.chunk));
    return this.detail(c);
  }

  async resume(actor: Actor, id: number): Promise<CampaignDetail> {
    const c = await this.transition(actor, id, ['paused'], 'running', 'campaign.resumed');
    await this.runner.drain(id, (tx) => tx.campaigns.move(id, 'paused', 'queued', CampaignRunner.chunk));
    this.runner.kick();
    return this.detail(c);
  }

  /**
   * Nothing of the campaign is submitted any more: its waiting messages end `cancelled` and are
   * refunded, and the part of its reservation never expanded into messages is released.
   */
  async cancel(actor: Actor, id: number): Promise<CampaignDetail> {
    const c = await this.transition(actor, id, ['running', 'paused', 'scheduled'], 'cancelled', 'campaign.cancelled');
    await this.releaseAll(c);
    this.onScheduleChange(id);
    return this.detail((await this.store.repos.campaigns.byId(id))!);
  }

  /**
   * A cancelled campaign's reservation not yet spent and its waiting messages, given back. The run
   * is read again in the transaction that releases it: another node may be expanding it (a chunk
   * that commits first is refunded as messages, one that comes after finds the run done).
   */
  private async releaseAll(c: CampaignRecord): Promise<void> {
    const id = c.id;
    await this.runner.exclusive(id, async () => {
      for (const { id: runId, phase } of await this.store.repos.campaigns.runs(id)) {
        if (phase !== 'expanding') continue;
        const released = await this.store.transaction(async (tx) => {
          const run = await tx.campaigns.run(runId);
          if (run?.phase !== 'expanding') return false;
          const left = await tx.campaigns.unexpandedCost(run.id, run.expanded);
          if (left > 0) await tx.credits.credit({ accountId: c.account_id, subAccountId: run.sub_account_id, amount: left, reason: 'release', reference: `campaign:${id}:run:${run.id}` });
          await tx.campaigns.updateRun(run.id, { phase: 'done', finished_at: Date.now(), lease_until: null });
          return true;
        });
        if (released) await this.runner.dropStaged(runId);
      }
    });
    await this.runner.drain(id, async (tx) => {
      const { count, refunds } = await tx.campaigns.cancelWaiting(id, Date.now(), CampaignRunner.chunk);
      for (const r of refunds) await tx.credits.credit({ accountId: c.account_id, subAccountId: r.subAccountId, amount: r.amount, reason: 'refund', reference: `campaign:${id}:cancelled` });
      return count;
    });
  }

  private async transition(actor: Actor, id: number, from: CampaignState[], to: CampaignState, action: string): Promise<CampaignRecord> {
    authorize(actor, 'create_campaigns');
    const before = await this.own(actor, id);
    return this.changes.run(actor, async (ch) => {
      const c = await ch.tx.campaigns.transition(id, from, to, Date.now());
      if (!c) throw new ServiceError('conflict', 'campaign_state', {}, { status: before.status, to });
      await ch.audit({ action, model: 'Campaign', modelId: id, old: { status: before.status }, new: { status: to } });
      return c;
    });
  }

  /** Nothing left to submit: completed (or back to waiting for its next scheduled run). */
  private async finish(campaign: CampaignRecord): Promise<void> {
    const account = await this.store.repos.accounts.get(campaign.account_id);
    if (!account) return;
    const detail = await this.detail(campaign);
    const schedule = detail.schedule;
    await this.changes.run(systemActor(account, 'runner'), async (ch) => {
      const c = await ch.tx.campaigns.transition(campaign.id, ['running'], schedule?.is_active ? 'scheduled' : 'completed', Date.now());
      if (!c) return;
      const k = detail.counters;
      await ch.emit('campaign.completed', { campaign_id: c.id, name: c.name, total: k.total, sent: k.sent, delivered: k.delivered, failed: k.failed, removed: k.removed, delivery_rate: k.delivery_rate });
      await ch.audit({ action: 'campaign.completed', model: 'Campaign', modelId: c.id, new: { ...k } });
    });
    await yieldToLoop();
  }
}

function authorizeRead(actor: Actor): void {
  const readers: Permission[] = ['create_campaigns', 'view_analytics'];
  if (!readers.some((p) => actor.permissions.has(p))) authorize(actor, 'create_campaigns');
}

const snapshot = (c: CampaignRecord) => ({ id: c.id, name: c.name, message: c.message, sender_id: c.sender_id, status: c.status, scheduled_at: c.scheduled_at, audience: JSON.parse(c.audience) as unknown });

/** Nobody left to send to; the first few left-out numbers say why. */
function noRecipients(rejected: readonly Rejected[]): ServiceError {
  const why = rejected.slice(0, 5).map((r) => `${r.recipient}: ${r.reason}`).join('; ');
  return why ? fieldError('recipients', 'no_valid_recipient', { reasons: why }) : fieldError('recipients', 'no_recipients');
}
