/**
 * Live reload (SIGHUP, POST /api/admin/reload, `relais reload`): every entry point hands the
 * work here, one reload at a time. The new file is read and validated whole first; a bad one
 * throws its ConfigError and nothing running is touched. A good one is planned against the
 * running config (src/config/reload-plan.ts), then applied:
 *  - sections read at each use (routes, numbering, rate limits, dispatcher) change in place on
 *    the daemon's config object, so every holder of it sees them on its next message;
 *  - added binds connect; removed ones stop taking parts, drain their window and unbind; a bind
 *    whose session changed is replaced that way (old one drained first: SMSCs often allow one
 *    session per account); retuned ones change TPS, window and timeouts on the running session;
 *  - queued messages not yet claimed are re-routed on the new table, in short transactions.
 * Keys read only at start are reported back as needing a restart.
 */
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.js';
import { isEmptyPlan, planReload, type BindChange, type ReloadPlan } from '../config/reload-plan.js';
import type { Config, OperatorConfig } from '../config/schema.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { ServiceError } from '../services/errors.js';
import { setLogLevel } from '../log.js';
import type { Router } from '../routing/router.js';
import type { Bind } from '../smpp/bind.js';
import type { Store } from '../store/db.js';

/** Queued messages re-routed per transaction: short enough that claims and accepts barely wait. */
const REROUTE_PAGE = 1000;

export interface ReloadReport {
  changed: boolean;
  /** Dotted keys applied live (values never: some are passwords). */
  applied: string[];
  /** Dotted keys that changed but apply only after a restart. */
  restart_needed: string[];
  binds: { added: string[]; removed: string[]; replaced: string[]; retuned: string[] };
  /** Queued messages moved to another operator by the new routes. */
  rerouted: number;
}

export interface ReloadDeps {
  /** The daemon's config object: updated in place. */
  config: Config;
  /** The daemon's bind list: updated in place (ops views and metrics read it). */
  binds: Bind[];
  /** A new bind, wired to the ledger and metrics, not started. */
  makeBind(op: OperatorConfig, bind: BindChange['bind']): Bind;
  /** Starts a bind the reload added or replaced (on a shared database: once this node holds its lease). */
  startBind(bind: Bind): void;
  /** A bind leaves the daemon (its metrics series go). */
  forgetBind(bind: Bind): void;
  dispatcher: Dispatcher;
  router: Router;
  store: Store;
  /** The root logger: a `log.level` change reaches every child. */
  rootLog: Logger;
  log: Logger;
}

export class Reloader {
  private chain: Promise<unknown> = Promise.resolve();
  /** Binds draining after a reload; the daemon's stop waits for them too. */
  private readonly draining = new Set<Promise<void>>();

  constructor(private readonly deps: ReloadDeps, private readonly configPath: string | undefined, private readonly env: NodeJS.ProcessEnv) {}

  /** Re-reads the config file (or takes `next`, already validated) and applies it. Throws ConfigError, untouched, when it is bad. */
  reload(next?: Config): Promise<ReloadReport> {
    const run = this.chain.then(() => this.run(next));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for the binds reloads retired to finish draining and unbinding. */
  async settle(): Promise<void> {
    await Promise.all([...this.draining]);
  }

  private async run(given?: Config): Promise<ReloadReport> {
    if (!given && !this.configPath) throw new ServiceError('conflict', 'no_config_file');
    const next = given ?? loadConfig(this.configPath!, this.env);
    const plan = planReload(this.deps.config, next);
    const report: ReloadReport = {
      changed: !isEmptyPlan(plan), applied: plan.applied, restart_needed: plan.restartNeeded,
      binds: {
        added: plan.binds.added.map((c) => c.bind.name), removed: plan.binds.removed.map((b) => b.name),
        replaced: plan.binds.replaced.map((c) => c.bind.name), retuned: plan.binds.retuned.map((c) => c.bind.name),
      },
      rerouted: 0,
    };
    if (!report.changed) {
      this.deps.log.info('config reloaded: nothing changed');
      return report;
    }
    this.applySections(plan);
    this.applyBinds(plan);
    if (routesMoved(plan)) report.rerouted = await this.rerouteQueued();
    this.deps.log.info({ applied: report.applied, binds: report.binds, rerouted: report.rerouted }, 'config reloaded');
    if (report.restart_needed.length) this.deps.log.warn({ keys: report.restart_needed }, 'config reloaded, but these keys apply only after a restart');
    return report;
  }

  /** Everything but the binds: in place on the config object every service holds. */
  private applySections({ next }: ReloadPlan): void {
    const { config, router, dispatcher } = this.deps;
    config.operators = next.operators;
    config.routes = next.routes;
    config.default_route = next.default_route;
    Object.assign(config.numbering, next.numbering);
    Object.assign(config.dispatcher, next.dispatcher);
    Object.assign(config.rate_limits.mifumo, next.rate_limits.mifumo);
    Object.assign(config.rate_limits, { ...next.rate_limits, mifumo: config.rate_limits.mifumo });
    if (config.log.level !== next.log.level) setLogLevel(this.deps.rootLog, next.log.level);
    config.log.level = next.log.level;
    router.replace(next.routes, next.default_route);
    dispatcher.retime();
  }

  private applyBinds(plan: ReloadPlan): void {
    const { binds, dispatcher, config } = this.deps;
    const find = (operator: string, name: string) => binds.find((b) => b.operator === operator && b.name === name);
    const retire = (bind: Bind) => {
      binds.splice(binds.indexOf(bind), 1);
      const done = bind.stop().then(() => this.deps.forgetBind(bind));
      this.track(done);
      return done;
    };
    for (const { operator, name } of plan.binds.removed) {
      const bind = find(operator, name);
      if (bind) void retire(bind);
    }
    for (const change of plan.binds.retuned) find(change.operator.name, change.bind.name)?.retune(change.bind);
    for (const { operator, bind: cfg } of plan.binds.replaced) {
      const old = find(operator.name, cfg.name);
      const fresh = this.deps.makeBind(operator, cfg);
      binds.push(fresh);
      // The old session drains and unbinds before the new one binds.
      this.track((old ? retire(old) : Promise.resolve()).then(() => this.deps.startBind(fresh)));
    }
    for (const { operator, bind: cfg } of plan.binds.added) {
      const fresh = this.deps.makeBind(operator, cfg);
      binds.push(fresh);
      this.deps.startBind(fresh);
    }
    dispatcher.setTopology(binds, config.operators);
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.deps.log.error({ err }, 'a bind retired by a reload did not stop cleanly'));
    this.draining.add(tracked);
    void tracked.finally(() => this.draining.delete(tracked));
  }

  /**
   * Messages queued but not claimed go where the new routes say. One claimed meanwhile keeps its
   * route (the update only touches `queued` rows). A number no route serves any more stays where
   * it is: it waits for a route, or its validity.
   */
  private async rerouteQueued(): Promise<number> {
    const { store, router, log } = this.deps;
    let after = 0;
    let moved = 0;
    let stranded = 0;
    for (;;) {
      const page = await store.repos.queue.queuedAfter(after, REROUTE_PAGE);
      if (!page.length) break;
      after = page[page.length - 1]!.id;
      const changes: { id: number; operator: string; failover: string | null }[] = [];
      for (const m of page) {
        const route = router.route(m.recipient);
        if (!route) stranded += 1;
        else if (route.operator !== m.operator || route.failover !== m.failover) changes.push({ id: m.id, operator: route.operator, failover: route.failover });
      }
      if (changes.length) moved += await store.transaction((tx) => tx.queue.reroute(changes));
      await new Promise((r) => setImmediate(r));
    }
    if (stranded) log.warn({ count: stranded }, 'queued messages that no route serves any more: they stay queued until a route does, or their validity ends');
    return moved;
  }
}

/** Whether a queued message may now belong to another operator. */
function routesMoved(plan: ReloadPlan): boolean {
  return plan.operators.added.length > 0 || plan.operators.removed.length > 0 || plan.applied.some((k) => k === 'routes' || k === 'default_route');
}
