/**
 * Which binds this node runs. One node (SQLite): all of them. Several nodes on PostgreSQL: each
 * bind is run by the one node holding its lease (an SMSC account often allows one session, and
 * a bind's TPS must never be doubled). A node renews what it holds every third of a lease, takes
 * free binds up to its fair share of the live nodes, gives one back per round when it holds more
 * (a node that joins gets its share), and stops every bind it cannot prove it still holds: a
 * node cut off from the database unbinds before its leases can expire and be taken over.
 *
 * The same round says this node is alive (its claimed messages are its own while it does) and
 * re-queues the messages claimed by nodes that stopped saying so (they died mid-submit: at most
 * one window per bind may be sent twice).
 */
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics.js';
import type { Bind } from '../smpp/bind.js';
import type { Store } from '../store/db.js';
import type { Lease } from '../store/queue.js';

export interface Placement {
  /** This node's name. */
  readonly node: string;
  /** Starts the binds this node runs (all of them, or those it gets the lease of). */
  start(): Promise<void>;
  /** A bind a reload added or replaced: started now, or once this node holds its lease. */
  adopt(bind: Bind): void;
  /** What a claim made now names: this node, until its lease ends. */
  lease(now: number): Lease;
  /** False while this node cannot renew its leases: it must not claim. */
  readonly canClaim: boolean;
  /** Operators with a bound bind on another node: their messages are not failed over here. */
  boundElsewhere(): ReadonlySet<string>;
  /** Every bind as the cluster sees it: held here (its own state), elsewhere (bound or standby), or by nobody. */
  view(binds: readonly Bind[]): { operator: string; bind: string; state: string; node: string | null }[];
  /** No more rounds (the daemon is stopping its binds: none may be started again). */
  halt(): void;
  /** After the binds stopped and the last outcomes were written: leases given back. */
  stop(): Promise<void>;
}

interface PlacementDeps {
  store: Store;
  binds: Bind[];
  node: string;
  leaseMs: number;
  version: string;
  log: Logger;
  metrics: Metrics;
}

export function createPlacement(deps: PlacementDeps): Placement {
  return deps.store.backend === 'postgres' ? new SharedPlacement(deps) : new SoloPlacement(deps);
}

/** One node: every bind runs here; nothing to lease. */
class SoloPlacement implements Placement {
  readonly node: string;
  readonly canClaim = true;
  private static readonly NONE: ReadonlySet<string> = new Set();

  constructor(private readonly deps: PlacementDeps) {
    this.node = deps.node;
  }

  async start(): Promise<void> {
    for (const bind of this.deps.binds) bind.start();
  }

  adopt(bind: Bind): void {
    bind.start();
  }

  lease(now: number): Lease {
    return { node: this.node, until: now + this.deps.leaseMs };
  }

  boundElsewhere(): ReadonlySet<string> {
    return SoloPlacement.NONE;
  }

  view(binds: readonly Bind[]) {
    return binds.map((b) => ({ operator: b.operator, bind: b.name, state: b.state, node: this.node }));
  }

  halt(): void {}

  async stop(): Promise<void> {}
}

/** Several nodes: binds and claims under leases in the shared database. */
class SharedPlacement implements Placement {
  readonly node: string;
  /** Names of the binds whose lease this node holds. */
  private readonly held = new Set<string>();
  private readonly releasing = new Set<string>();
  private elsewhere: ReadonlySet<string> = new Set();
  private holders = new Map<string, { node: string; bound: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private lastRenewed = 0;
  private readonly startedAt = Date.now();
  private stopped = false;

  constructor(private readonly deps: PlacementDeps) {
    this.node = deps.node;
  }

  get canClaim(): boolean {
    return !this.stopped && Date.now() - this.lastRenewed < this.fenceMs;
  }

  /** Past this without a renewal, this node stops its binds: others may take them at lease end. */
  private get fenceMs(): number {
    return Math.floor(this.deps.leaseMs * 0.6);
  }

  async start(): Promise<void> {
    await this.runRound();
    this.timer = setInterval(() => void this.runRound(), Math.max(200, Math.floor(this.deps.leaseMs / 3)));
    this.timer.unref();
  }

  adopt(bind: Bind): void {
    if (this.held.has(bind.name)) bind.start();
  }

  lease(now: number): Lease {
    return { node: this.node, until: now + this.deps.leaseMs };
  }

  boundElsewhere(): ReadonlySet<string> {
    return this.elsewhere;
  }

  view(binds: readonly Bind[]) {
    return binds.map((b) => {
      if (this.held.has(b.name)) return { operator: b.operator, bind: b.name, state: b.state, node: this.node };
      const holder = this.holders.get(b.name);
      if (!holder || holder.node === this.node) return { operator: b.operator, bind: b.name, state: 'unheld', node: null };
      return { operator: b.operator, bind: b.name, state: holder.bound ? 'bound' : 'standby', node: holder.node };
    });
  }

  halt(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async stop(): Promise<void> {
    this.halt();
    await this.round?.catch(() => undefined);
    const repos = this.deps.store.repos;
    try {
      for (const name of this.held) await repos.cluster.releaseBind(this.node, name);
      // What this node claimed and could not finish goes back at once, not at lease end.
      const requeued = await repos.queue.recoverInterrupted({ node: this.node, now: 0 });
      if (requeued.length) this.deps.log.warn({ count: requeued.length }, 'claimed messages not finished re-queued for the other nodes');
      await repos.cluster.forgetNode(this.node);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not give back leases at stop: they expire on their own');
    }
    this.held.clear();
  }

  private runRound(): Promise<void> {
    if (this.round || this.stopped) return this.round ?? Promise.resolve();
    this.round = this.renew().catch((err: unknown) => this.failedRound(err)).finally(() => (this.round = null));
    return this.round;
  }

  private failedRound(err: unknown): void {
    if (Date.now() - this.lastRenewed < this.fenceMs) {
      this.deps.log.warn({ err }, 'lease renewal failed: retrying');
      return;
    }
    if (this.held.size) this.deps.log.error({ err, binds: [...this.held] }, 'cannot renew leases: stopping this node\'s binds before other nodes take them over');
    for (const name of this.held) for (const b of this.deps.binds) if (b.name === name) void b.stop();
    this.held.clear();
  }

  private async renew(): Promise<void> {
    const { store, binds, leaseMs, log } = this.deps;
    const repos = store.repos;
    const now = Date.now();
    const until = now + leaseMs;
    await repos.cluster.heartbeat(this.node, this.deps.version, this.startedAt, now);
    const nodes = Math.max(1, (await repos.cluster.liveNodes(now - leaseMs)).length);
    // The last bind of a name is the current one (a reload pushes a replacement after the old).
    const current = new Map<string, Bind>();
    for (const b of binds) current.set(b.name, b);
    for (const name of this.held) {
      if (current.has(name)) continue;
      this.held.delete(name); // removed by a reload, which stops it
      await repos.cluster.releaseBind(this.node, name);
    }
    const fair = Math.ceil(current.size / nodes);
    for (const [name, bind] of current) {
      if (this.stopped) return;
      if (this.releasing.has(name)) continue;
      const claim = { bind: name, operator: bind.operator, bound: bind.state === 'bound' };
      if (this.held.has(name)) {
        if (await repos.cluster.holdBind(this.node, claim, now, until)) continue;
        this.held.delete(name);
        log.warn({ bind: name }, 'bind lease lost to another node: unbinding');
        void bind.stop();
      } else if (this.held.size < fair && (await repos.cluster.holdBind(this.node, { ...claim, bound: false }, now, until))) {
        this.held.add(name);
        log.info({ bind: name, operator: bind.operator }, 'bind lease taken: binding');
        bind.start();
      }
    }
    this.lastRenewed = now;
    if (this.held.size > fair && nodes > 1) this.giveBack([...this.held].sort().at(-1)!, current);
    await this.requeueAbandoned(now);
    await this.readLeases(now);
  }

  /** One bind more than this node's share goes back: unbound first, then its lease released. */
  private giveBack(name: string, current: Map<string, Bind>): void {
    this.held.delete(name);
    this.releasing.add(name);
    this.deps.log.info({ bind: name }, 'more binds than this node\'s share: giving one back');
    void (current.get(name)?.stop() ?? Promise.resolve())
      .then(() => this.deps.store.repos.cluster.releaseBind(this.node, name))
      .catch((err: unknown) => this.deps.log.warn({ err, bind: name }, 'releasing a bind lease failed: it expires on its own'))
      .finally(() => this.releasing.delete(name));
  }

  private async requeueAbandoned(now: number): Promise<void> {
    const operators = await this.deps.store.repos.queue.requeueAbandoned(now, now - this.deps.leaseMs);
    if (!operators.length) return;
    this.deps.log.warn({ count: operators.length }, 'messages claimed by a node that stopped renewing re-queued (possible duplicates: at most one window per bind)');
    for (const operator of operators) this.deps.metrics.possibleDuplicates.inc({ operator, bind: '', cause: 'lease_expired' });
  }

  private async readLeases(now: number): Promise<void> {
    const leases = await this.deps.store.repos.cluster.leases();
    const live = leases.filter((l) => l.expires_at > now);
    this.holders = new Map(live.map((l) => [l.bind, { node: l.node, bound: l.bound === 1 }]));
    this.elsewhere = new Set(live.filter((l) => l.node !== this.node && l.bound === 1).map((l) => l.operator));
  }
}
