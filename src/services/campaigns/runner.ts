/**
 * The daemon's own campaign work, in the background: copying each started run's staged audience
 * into the queue a chunk at a time; moving a paused, resumed or cancelled campaign's waiting
 * messages; noticing when a campaign is done; starting one-time scheduled campaigns when due.
 * Work on one campaign is serialized (a chunk at a time), so a cancel never races an expansion.
 * The clock is injected: tests call `tick()` instead of waiting.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CampaignRecord, RunRecord } from '../../store/campaigns.js';
import type { Store } from '../../store/db.js';
import type { Repos } from '../../store/repos.js';

const CHUNK = 5000;
const TICK_MS = 250;

export interface RunnerHooks {
  /** A scheduled one-time campaign is due. */
  startDue(campaign: CampaignRecord): Promise<void>;
  /** Nothing of the campaign is left to submit. */
  finished(campaign: CampaignRecord): Promise<void>;
  /** A cancelled campaign still has waiting messages or a reservation (the daemon stopped mid-cancel). */
  finishCancel(campaign: CampaignRecord): Promise<void>;
}

export class CampaignRunner {
  private readonly chains = new Map<number, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private hooks: RunnerHooks | null = null;

  constructor(private readonly store: Store, private readonly validityMs: number, private readonly log: Logger, readonly clock: () => number = Date.now) {}

  /** The service's callbacks (set once, when both exist). */
  attach(hooks: RunnerHooks): void {
    this.hooks = hooks;
  }

  /** Cleans up what a stop left half done, then works every tick. */
  async start(): Promise<void> {
    await this.recover();
    this.timer ??= setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
    void this.tick();
  }

  /**
   * A run still collecting belonged to a start request that died with the process: nothing was
   * reserved yet, so it goes. A cancel cut short is finished. Expansions simply carry on.
   */
  private async recover(): Promise<void> {
    for (const run of await this.store.repos.campaigns.unfinishedRuns()) {
      if (run.phase !== 'collecting') continue;
      await this.dropStaged(run.id);
      await this.store.transaction((tx) => tx.campaigns.removeRun(run.id));
    }
    for (const c of await this.store.repos.campaigns.withStatus(['cancelled'])) {
      const runs = await this.store.repos.campaigns.runs(c.id);
      if (runs.some((r) => r.phase === 'expanding') || (await this.store.repos.campaigns.waiting(c.id)) > 0) await this.hooks?.finishCancel(c);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.allSettled([...this.chains.values()]);
  }

  /** Wake up now (a run was just started, a campaign resumed). */
  kick(): void {
    if (this.timer) setImmediate(() => void this.tick());
  }

  /** One pass over everything that needs doing; overlapping calls share the pass under way. */
  tick(): Promise<void> {
    this.ticking ??= this.pass().catch((err: unknown) => this.log.error({ err }, 'campaign runner pass failed')).finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** Runs `fn` after every earlier piece of work on this campaign. */
  exclusive<T>(campaignId: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(campaignId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    const tail = next.catch(() => undefined);
    this.chains.set(campaignId, tail);
    void tail.then(() => {
      if (this.chains.get(campaignId) === tail) this.chains.delete(campaignId);
    });
    return next;
  }

  private async pass(): Promise<void> {
    if (!this.store.health.writable) return; // every step writes: wait for the disk
    const repos = this.store.repos;
    for (const run of await repos.campaigns.unfinishedRuns()) {
      if (run.phase === 'expanding') await this.expandRun(run);
    }
    for (const c of await repos.campaigns.withStatus(['running', 'scheduled'])) {
      if (c.status === 'scheduled' && c.schedule === null && c.scheduled_at !== null && c.scheduled_at <= this.clock()) await this.hooks?.startDue(c);
      if (c.status === 'running' && !(await this.busy(c.id))) await this.hooks?.finished(c);
    }
  }

  /** Whether any run of the campaign is still expanding or any of its messages waits. */
  private async busy(campaignId: number): Promise<boolean> {
    const runs = await this.store.repos.campaigns.runs(campaignId);
    return runs.some((r) => r.phase === 'collecting' || r.phase === 'expanding') || (await this.store.repos.campaigns.waiting(campaignId)) > 0;
  }

  /** Copies a run into the queue now, rather than at the next tick (a caller answers with its messages). */
  async expandNow(runId: number): Promise<void> {
    const run = await this.store.repos.campaigns.run(runId);
    if (run?.phase === 'expanding') await this.expandRun(run);
  }

  /** Copies a run into the queue, a chunk per transaction, while its campaign is running. */
  private async expandRun(run: RunRecord): Promise<void> {
    for (let done = false; !done;) {
      done = await this.exclusive(run.campaign_id, async () => {
        const campaign = await this.store.repos.campaigns.byId(run.campaign_id);
        if (campaign?.status !== 'running') return true; // paused: later; cancelled: cancel() cleans up
        const current = (await this.store.repos.campaigns.run(run.id))!;
        // Real time for the queue (the dispatcher's clock); the injected one only decides what is due.
        const now = Date.now();
        const notBefore = Math.max(now, run.not_before ?? 0);
        const upTo = await this.store.transaction(async (tx) => {
          const up = await tx.campaigns.expand({ runId: run.id, campaignId: run.campaign_id, accountId: campaign.account_id, subAccountId: run.sub_account_id, sender: run.sender, now, notBefore, expiresAt: notBefore + this.validityMs }, current.expanded, CHUNK);
          if (up === null) await tx.campaigns.updateRun(run.id, { phase: 'done', finished_at: now });
          else await tx.campaigns.updateRun(run.id, { expanded: up });
          return up;
        });
        if (upTo === null) await this.dropStaged(run.id);
        return upTo === null;
      });
      await yieldToLoop();
    }
  }

  /** Deletes a run's staging rows, a chunk per transaction. */
  async dropStaged(runId: number): Promise<void> {
    while ((await this.store.transaction((tx) => tx.campaigns.dropStaged(runId, CHUNK))) > 0) await yieldToLoop();
  }

  /** Repeats a chunked change on the campaign's messages until it changes nothing. */
  async drain(campaignId: number, step: (tx: Repos) => Promise<number>): Promise<void> {
    await this.exclusive(campaignId, async () => {
      while ((await this.store.transaction(step)) > 0) await yieldToLoop();
    });
  }

  /** Size of one chunk of campaign work. */
  static readonly chunk = CHUNK;
}
