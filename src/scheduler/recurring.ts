/**
 * Recurring campaigns. One node-cron job per active schedule, rebuilt from the database at start
 * and whenever a schedule changes, fires in the schedule's time zone; what it fires is `check`,
 * which starts today's run when it is due — the same check that catches up at start a run missed
 * while the daemon was down, if still inside its day. A slot runs at most once (the store keeps
 * one run per slot). Tests inject the clock and call `check` themselves.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Schedule } from '../services/campaigns/model.js';
import type { Store } from '../store/db.js';
import { dueSlot } from './slots.js';

export interface SlotRunner {
  runSlot(campaignId: number, slot: number): Promise<void>;
}

export class RecurringScheduler {
  private readonly jobs = new Map<number, ScheduledTask>();

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
    for (const c of await this.store.repos.campaigns.withSchedule()) this.install(c.id, JSON.parse(c.schedule!) as Schedule);
    await this.check();
  }

  async stop(): Promise<void> {
    for (const job of this.jobs.values()) await job.destroy();
    this.jobs.clear();
  }

  /** A campaign's schedule changed (or the campaign went): its job follows. */
  async refresh(campaignId: number): Promise<void> {
    await this.jobs.get(campaignId)?.destroy();
    this.jobs.delete(campaignId);
    const c = await this.store.repos.campaigns.byId(campaignId);
    if (c?.schedule && c.status !== 'cancelled') this.install(c.id, JSON.parse(c.schedule) as Schedule);
  }

  /** Starts every run whose slot today has come and has not run yet. */
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
