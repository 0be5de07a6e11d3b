/**
 * The daemon's own campaign work, in the background: copying each started run's staged audience
 * into the queue a chunk at a time; moving a paused, resumed or cancelled campaign's waiting
 * messages; noticing when a campaign is done; starting one-time scheduled campaigns when due.
 * Work on one campaign is serialized (a chunk at a time), so a cancel never races an expansion.
 * The clock is injected: tests call `tick()` instead of waiting.
 *
 * Several nodes may share the database: a run is collected, then expanded, by one node at a time,
 * the one holding it under a lease (renewed with every chunk; see RunHold). Each chunk re-reads,
 * in its transaction, the run (still this node's? how far?) and its campaign (still running?), so
 * a pause, resume or cancel made on any node is honoured by the node expanding; a node that dies
 * leaves its run to the first other node that finds the lease run out, which carries on from the
 * last chunk committed.
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CampaignRecord, RunHold, RunRecord } from '../../store/campaigns.js';
import type { Store } from '../../store/db.js';
import type { Repos } from '../../store/repos.js';

const CHUNK = 5000;
const TICK_MS = 250;
/** How often `expandNow` looks again at a run another node is expanding. */
const WAIT_MS = 50;

/** Which node this is, and how long its hold on a run lasts unless renewed (ms). */
export interface RunnerCluster {
  node: string;
  leaseMs: number;
}

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
  /** Runs this node is expanding now (one loop per run). */
  private readonly expanding = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly validityMs: number,
    private readonly log: Logger,
    readonly clock: () => number = Date.now,
    private readonly cluster: RunnerCluster = { node: 'local', leaseMs: 10_000 },
  ) {}

  /** This node's hold on a run from `now` (real time: leases are between nodes, not campaign time). */
  hold(now = Date.now()): RunHold {
    return { node: this.cluster.node, until: now + this.cluster.leaseMs };
  }

  /**
   * Keeps this node's hold on a run it is collecting (an audience can take a while) until the
   * returned function is called.
   */
  keep(runId: number): () => void {
    const timer = setInterval(() => {
      void this.store.repos.campaigns.renewRun(runId, this.hold()).catch((err: unknown) => this.log.warn({ err, run: runId }, 'campaign run hold not renewed'));
    }, Math.max(100, Math.floor(this.cluster.leaseMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

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
   * reserved yet, so it goes. A cancel cut short is finished. Expansions simply carry on. On SQLite
   * this is the only node: every hold is a previous process's, let go now; on PostgreSQL only
   * this node's own (a restart under the same cluster.node_id): the other nodes' are alive, and
   * those of a dead node are taken over when their lease runs out (see `pass`).
   */
  private async recover(): Promise<void> {
    const mine = this.store.backend === 'sqlite' ? null : this.cluster.node;
    await this.store.repos.campaigns.releaseRuns(mine);
    for (const run of await this.store.repos.campaigns.unfinishedRuns()) {
      if (run.phase === 'collecting' && (mine === null || run.claimed_by === mine || run.claimed_by === null)) await this.dropOrphan(run);
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
      // Another node's start request that died with it (its hold ran out unrenewed).
      else if (run.claimed_by !== this.cluster.node && (run.lease_until ?? 0) < Date.now()) await this.dropOrphan(run);
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

  /**
   * Copies a run into the queue now, rather than at the next tick (a caller answers with its
   * messages): here, or — when another node holds it — waiting for that node to finish (or for its
   * lease to run out, and then here). Returns early when the campaign stops running.
   */
  async expandNow(runId: number): Promise<void> {
    for (;;) {
      const run = await this.store.repos.campaigns.run(runId);
      if (run?.phase !== 'expanding') return;
      if ((await this.store.repos.campaigns.byId(run.campaign_id))?.status !== 'running') return;
      if (!this.expanding.has(runId)) await this.expandRun(run);
      if ((await this.store.repos.campaigns.run(runId))?.phase !== 'expanding') return;
      await sleep(WAIT_MS);
    }
  }

  /**
   * Copies a run into the queue, a chunk per transaction, while its campaign is running and this
   * node holds the run: takes it when nobody else does (or another's lease ran out), renews the
   * hold with every chunk, and lets go when the campaign is paused or cancelled.
   */
  private async expandRun(run: RunRecord): Promise<void> {
    if (this.expanding.has(run.id)) return; // this node is on it already
    if ((await this.store.repos.campaigns.byId(run.campaign_id))?.status !== 'running') return; // paused: later; cancelled: cancel() cleans up
    this.expanding.add(run.id);
    try {
      if (!(await this.store.repos.campaigns.claimRun(run.id, 'expanding', this.hold(), Date.now()))) return; // another node's, under a live lease
      for (let done = false; !done;) {
        done = await this.exclusive(run.campaign_id, () => this.expandChunk(run.id));
        await yieldToLoop();
      }
    } finally {
      this.expanding.delete(run.id);
    }
  }

  /**
   * The next chunk of a run, if this node still holds it and its campaign still runs; true when
   * there is nothing more to do here (all copied, the campaign stopped, or the run taken over).
   * Everything it decides on is read in its own transaction: retried whole on a conflict with
   * another node's pause, cancel or take-over, it then sees that change.
   */
  private async expandChunk(runId: number): Promise<boolean> {
    // Real time for the queue (the dispatcher's clock); the injected one only decides what is due.
    const now = Date.now();
    const node = this.cluster.node;
    const outcome = await this.store.transaction(async (tx): Promise<'more' | 'done' | 'stopped' | 'ended' | 'lost'> => {
      const run = await tx.campaigns.run(runId);
      if (run?.phase !== 'expanding') return 'ended'; // a cancel released it
      if (run.claimed_by !== node) return 'lost';
      const campaign = await tx.campaigns.byId(run.campaign_id);
      if (campaign?.status !== 'running') {
        await tx.campaigns.updateRun(runId, { lease_until: null }); // whichever node sees it running again carries on
        return 'stopped';
      }
      const notBefore = Math.max(now, run.not_before ?? 0);
      const up = await tx.campaigns.expand({ runId, campaignId: run.campaign_id, accountId: campaign.account_id, subAccountId: run.sub_account_id, sender: run.sender, now, notBefore, expiresAt: notBefore + this.validityMs }, run.expanded, CHUNK);
      if (up === null) await tx.campaigns.updateRun(runId, { phase: 'done', finished_at: now, lease_until: null });
      else await tx.campaigns.updateRun(runId, { expanded: up, lease_until: now + this.cluster.leaseMs });
      return up === null ? 'done' : 'more';
    });
    if (outcome === 'done') await this.dropStaged(runId);
    if (outcome === 'lost') this.log.warn({ run: runId }, 'campaign run taken over by another node (this node\'s hold ran out): it carries on from the last chunk committed');
    return outcome !== 'more';
  }

  /** A run left collecting by a start that died: taken over (so one node cleans it), its staging dropped, removed. */
  private async dropOrphan(run: RunRecord): Promise<void> {
    if (!(await this.store.repos.campaigns.claimRun(run.id, 'collecting', this.hold(), Date.now()))) return;
    this.log.warn({ run: run.id, campaign: run.campaign_id, node: run.claimed_by }, 'campaign run left collecting by a start that did not finish: dropped (nothing was reserved)');
    await this.dropStaged(run.id);
    await this.store.transaction((tx) => tx.campaigns.removeRun(run.id));
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
