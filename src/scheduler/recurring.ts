/**
 * Recurring campaigns. One node-cron job per active schedule, rebuilt from the database at start
 * and whenever a schedule changes, fires in the schedule's time zone; what it fires is `check`,
 * which starts today's run when it is due — the same check that catches up at start a run missed
 * while the daemon was down, if still inside its day. A slot runs at most once (the store keeps
 * one run per slot). Tests inject the clock and call `check` themselves.
 *
 * Several nodes on one database each run the jobs, so each fires `check` at the same minute (and
 * each catches up at its start): the run of a slot is made by the node whose insert wins the
 * unique key on (campaign, slot); the others find the slot taken and do nothing. A schedule
 * changed through another node reaches this node's jobs at the next resync (every SYNC_MS).
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Schedule } from '../services/campaigns/model.js';
import type { CampaignRecord } from '../store/campaigns.js';
import type { Store } from '../store/db.js';
import { dueSlot } from './slots.js';

const SYNC_MS = 30_000;

export interface SlotRunner {
  runSlot(campaignId: number, slot: number): Promise<void>;
}

export class RecurringScheduler {
  private readonly jobs = new Map<number, ScheduledTask>();
  /** The schedule text each campaign's job was last built from ('' when it has none to run). */
  private readonly built = new Map<number, string>();
  private syncTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly runner: SlotRunner,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    /** Off in tests: they call `check` with their clock. */
    private readonly useCron = true,
  ) {}

  /** Jobs for every active schedule, then the catch-up of today's missed runs. */
  async start(): Promise<void> {
    await this.sync();
    if (this.useCron) {
      this.syncTimer = setInterval(() => void this.sync().catch((err: unknown) => this.log.warn({ err }, 'recurring schedules not resynchronized')), SYNC_MS);
      this.syncTimer.unref();
    }
    await this.check();
  }

  async stop(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = null;
    for (const job of this.jobs.values()) await job.destroy();
    this.jobs.clear();
    this.built.clear();
  }

  /** A campaign's schedule changed (or the campaign went): its job follows. */
  async refresh(campaignId: number): Promise<void> {
    this.apply(campaignId, (await this.store.repos.campaigns.byId(campaignId)) ?? null);
  }

  /** Every job as the database says now: schedules changed through another node included. */
  private async sync(): Promise<void> {
    const scheduled = await this.store.repos.campaigns.withSchedule();
    const ids = new Set(scheduled.map((c) => c.id));
    for (const c of scheduled) this.apply(c.id, c);
    for (const id of [...this.built.keys()]) if (!ids.has(id)) this.apply(id, null);
  }

  /** (Re)builds a campaign's job from its row, unless it was built from the same schedule. */
  private apply(campaignId: number, c: CampaignRecord | null): void {
    const text = c?.schedule && c.status !== 'cancelled' ? c.schedule : '';
    if (this.built.get(campaignId) === text) return;
    void this.jobs.get(campaignId)?.destroy();
    this.jobs.delete(campaignId);
    if (text) {
      this.built.set(campaignId, text);
      this.install(campaignId, JSON.parse(text) as Schedule);
    } else this.built.delete(campaignId);
  }

  /** Starts every run whose slot today has come and has not run yet (here or on another node). */
  async check(now = this.clock()): Promise<void> {
    for (const c of await this.store.repos.campaigns.withSchedule()) {
      if (c.status === 'cancelled') continue;
      const slot = dueSlot(JSON.parse(c.schedule!) as Schedule, now);
      if (slot === null) continue;
      const last = await this.store.repos.campaigns.lastSlot(c.id);
      if (last !== null && last >= slot) continue;
      await this.runner.runSlot(c.id, slot).catch((err: unknown) => this.log.error({ err, campaign: c.id }, 'scheduled run failed'));
    }
  }

  private install(campaignId: number, s: Schedule): void {
    if (!this.useCron || !s.is_active) return;
    const [hour, minute] = s.time.split(':').map(Number);
    const day = s.frequency === 'weekly' ? `* * ${s.day_of_week ?? 1}` : s.frequency === 'monthly' ? `${s.day_of_month ?? dayOf(s.start_date)} * *` : '* * *';
    const job = cron.createTask(`${minute} ${hour} ${day}`, () => this.check(), { timezone: s.timezone, name: `campaign-${campaignId}`, noOverlap: true });
    void job.start();
    this.jobs.set(campaignId, job);
  }
}

const dayOf = (date: string | undefined): number => (date ? Number(date.slice(8, 10)) : 1);
