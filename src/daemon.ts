/**
 * Wiring of one Relais process: store → binds → ledger → dispatcher → services → HTTP. Start
 * order makes the queue consistent before anything submits; stop order drains windows before
 * unbinding and closes the database last.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { NamedBind } from './config/reload-plan.js';
import type { Config, OperatorConfig } from './config/schema.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { Ledger, type LedgerEvent } from './dispatch/ledger.js';
import { createApp } from './http/core/app.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { readiness } from './ops/readiness.js';
import { PROJECT_ROOT } from './paths.js';
import { Reloader, type ReloadReport } from './ops/reload.js';
import { gatewayStatus } from './ops/status.js';
import { Router } from './routing/router.js';
import { createServices, type BackgroundWork } from './services/wiring.js';
import { SharedState } from './services/shared-state.js';
import type { Services } from './services/index.js';
import type { MessageService } from './services/messages.js';
import { Bind, statusName } from './smpp/bind.js';
import { SmscSimulator } from './smpp/simulator/simulator.js';
import { createPlacement } from './cluster/placement.js';
import { leaseMsOf, nodeIdOf } from './cluster/node.js';
import { migrate, openDatabase, pendingMigrations, type Store } from './store/db.js';
import { StorageUnavailable } from './store/health.js';
import { Outbox } from './webhooks/outbox.js';
import { WebhookWorker } from './webhooks/worker.js';

export interface Daemon {
  config: Config;
  store: Store;
  services: Services;
  messages: MessageService;
  binds: Bind[];
  router: Router;
  metrics: Metrics;
  simulators: SmscSimulator[];
  http: Server;
  background: BackgroundWork;
  /** Re-read the config file and apply it live (SIGHUP, POST /api/admin/reload, `relais reload`). Throws ConfigError when it is bad, with nothing changed. */
  reload(next?: Config): Promise<ReloadReport>;
  /** Base URL of the HTTP listener, e.g. http://127.0.0.1:8080 */
  url: string;
  stop(): Promise<void>;
}

export const VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface DaemonOptions {
  env?: NodeJS.ProcessEnv;
  /** The campaigns' clock: tests inject one, and then drive the scheduler themselves. */
  clock?: () => number;
  /** The file the config came from: what a reload re-reads. */
  configPath?: string;
}

export async function startDaemon(config: Config, log: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const env = options.env ?? process.env;
  const store = openDatabase(config.database);
  store.health.onChange((h) => {
    if (h.writable) log.warn('database writable again: accepting, claiming and delivering resume');
    else log.error({ reason: h.reason }, 'database cannot write (disk full or read-only): writes answer 503, nothing is claimed; reads still served');
  });
  const applied = await migrateUnlessCurrent(store, log);
  if (applied.length) log.info({ migrations: applied }, 'database migrated');
  const node = nodeIdOf(config);
  // One node re-queues everything left mid-submit; on a shared database only what was this
  // node's (a stable cluster.node_id) or whose lease ran out: the other nodes' claims are alive.
  const recovered = await whenWritable(log, 're-queueing interrupted messages', () => store.repos.queue.recoverInterrupted(store.backend === 'postgres' ? { node, now: Date.now() } : 'all'), []);
  if (recovered.length) log.warn({ count: recovered.length }, 'messages interrupted mid-submit re-queued (possible duplicates: at most one window per bind)');
  await store.repos.blacklist.load();

  const simulators = await startSimulators(config, log);
  const router = new Router(config.routes, config.default_route);
  const outbox = new Outbox();
  await outbox.load(store.repos);
  // PostgreSQL: the blacklist and webhook subscriptions other nodes change, picked up every second.
  const shared = new SharedState(store, outbox, log.child({ part: 'shared-state' })).start();
  const binds: Bind[] = [];
  const metrics = createMetrics(() => store.repos.queue.depthByOperator(), () => config.operators.map((o) => o.name), () => store.health.writable,
    () => binds.map((b) => ({ operator: b.operator, bind: b.name, used: b.windowUsed })));
  for (const operator of recovered) metrics.possibleDuplicates.inc({ operator, bind: '', cause: 'restart' });
  // Which binds run here: all of them on SQLite; on a shared PostgreSQL those this node leases.
  const placement = createPlacement({ store, binds, node, leaseMs: leaseMsOf(config), version: VERSION, log: log.child({ part: 'cluster' }), metrics });

  const webhookWorker = new WebhookWorker(store, {
    allowPrivate: config.webhooks.allow_private_networks, retryInitialMs: config.webhooks.retry_initial * 1000, retryMaxMs: config.webhooks.retry_max * 1000,
    concurrency: config.webhooks.concurrency, perDestination: config.webhooks.per_destination, version: VERSION, node, leaseMs: leaseMsOf(config),
  }, log.child({ part: 'webhooks' }));
  webhookWorker.start();

  let reloader: Reloader | null = null;
  const startedAt = Date.now();
  const status = () => gatewayStatus({
    version: VERSION, startedAt, operators: config.operators.map((o) => o.name), binds,
    depth: () => store.repos.queue.depthByOperator(), health: () => store.health.view(),
    cluster: { node, backend: store.backend, view: (b) => placement.view(b) },
  });
  const reload = (next?: Config) => reloader ? reloader.reload(next) : Promise.reject(new Error('the daemon is still starting'));
  const { services, messages, background } = await createServices({ config, store, outbox, router, wake: () => webhookWorker.kick(), binds: () => binds.map(describeBind), reload, status, log, clock: options.clock });
  await whenWritable(log, 'creating the first admin', () => services.accounts.ensureAdmin(env, config.database.path, log), undefined);

  const ledger = new Ledger({
    store, node, optOutKeywords: config.mo.opt_out_keywords,
    log: log.child({ part: 'ledger' }),
    inTransaction: (tx, events) => outbox.fromLedger(tx, events),
    onEvents: (events) => {
      countEvents(metrics, events);
      if (outbox.takeEmitted()) webhookWorker.kick();
    },
  });
  await ledger.loadPending();

  /** A bind as the daemon runs it: its states and counts in the metrics, its receipts and MO into the ledger. */
  const makeBind = (op: OperatorConfig, cfg: NamedBind): Bind => {
    const bind = new Bind(cfg, op, log.child({ part: 'smpp' }));
    const labels = { operator: bind.operator, bind: bind.name };
    metrics.bindUp.set(labels, 0);
    // A replaced bind's old session must not mark its successor down.
    bind.on('state', (state) => binds.includes(bind) && metrics.bindUp.set(labels, state === 'bound' ? 1 : 0));
    bind.on('refused', (status) => metrics.bindRefusals.inc({ ...labels, status: statusName(status) }));
    bind.on('receipt', (r, ack) => {
      metrics.receipts.inc({ operator: r.operator, state: r.stat });
      ledger.pushReceipt(r, ack);
    });
    bind.on('mo', (mo, ack) => {
      metrics.mo.inc({ operator: mo.operator });
      ledger.pushMo(mo, ack);
    });
    return bind;
  };
  for (const op of config.operators) for (const b of op.binds) binds.push(makeBind(op, { ...b, name: b.name! }));
  await whenWritable(log, 'placing binds', () => placement.start(), undefined);
  await whenWritable(log, 'recovering campaign work', () => background.runner.start(), undefined);
  // Package credits past their validity leave the balance through the ledger.
  const expiry = setInterval(() => {
    if (store.health.writable) void services.billing.expireLots().catch((err: unknown) => log.error({ err }, 'credit expiry failed'));
  }, 60_000);
  expiry.unref();
  await whenWritable(log, 'starting recurring schedules', () => background.scheduler.start(), undefined);
  const dispatcher = new Dispatcher({ store, ledger, binds, operators: config.operators, cfg: config.dispatcher, log: log.child({ part: 'dispatch' }), metrics, blacklist: store.repos.blacklist, placement });
  dispatcher.start();
  reloader = new Reloader({
    config, binds, makeBind, startBind: (bind) => placement.adopt(bind), dispatcher, router, store, rootLog: log, log: log.child({ part: 'reload' }),
    forgetBind: (bind) => {
      if (binds.some((b) => b.operator === bind.operator && b.name === bind.name)) return;
      metrics.bindUp.remove({ operator: bind.operator, bind: bind.name });
    },
  }, options.configPath, env);

  const app = createApp({
    log: log.child({ part: 'http' }), metrics, version: VERSION, services, config, store,
    ops: {
      ready: () => readiness({ open: store.isOpen(), health: store.health.view() }, config.operators.map((o) => o.name), config.routes, placement.view(binds)),
      binds: () => binds.map(describeBind),
      reload: () => reload(),
      status,
    },
  });
  const http = await listen(app.callback(), config.http.host, config.http.port);
  const { port } = http.address() as AddressInfo;
  const url = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
  log.info({ url, operators: config.operators.map((o) => o.name), binds: binds.length }, 'relais started');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      // systemd's TimeoutStopSec must not be reached: every wait below ends by this deadline.
      const deadline = Date.now() + config.dispatcher.shutdown_grace * 1000;
      dispatcher.halt();
      placement.halt();
      log.info({ grace_s: config.dispatcher.shutdown_grace }, 'stopping: no more claims; draining bind windows');
      const draining = Promise.all(binds.map((b) => b.stop(deadline)));
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      setTimeout(() => http.closeAllConnections(), 2000).unref();
      await closed;
      clearInterval(expiry);
      await background.scheduler.stop();
      await background.runner.stop();
      await draining;
      await reloader?.settle();
      await dispatcher.stop();
      await ledger.close();
      await placement.stop();
      await webhookWorker.stop(deadline);
      await shared.stop();
      await Promise.all(simulators.map((s) => s.stop()));
      await store.close();
      log.info('stopped');
    })());

  return { config, store, services, messages, binds, router, metrics, simulators, http, background, reload, url, stop };
}

/**
 * A start-up step that writes. On a disk that cannot write, the daemon starts anyway, degraded:
 * reads are served, writes answer 503, and the work resumes when space returns.
 */
async function whenWritable<T>(log: Logger, what: string, step: () => Promise<T>, otherwise: T): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (!(err instanceof StorageUnavailable)) throw err;
    log.error({ reason: err.message }, `starting degraded: ${what} needs a database that can write`);
    return otherwise;
  }
}

/** Migrations, unless the disk cannot write and none is pending: then the current schema serves. */
async function migrateUnlessCurrent(store: Store, log: Logger): Promise<string[]> {
  try {
    return await migrate(store);
  } catch (err) {
    if (!(err instanceof StorageUnavailable) || (await pendingMigrations(store)).length) throw err;
    log.error({ reason: err.message }, 'starting degraded: the database cannot write (its schema is current)');
    return [];
  }
}

async function startSimulators(config: Config, log: Logger): Promise<SmscSimulator[]> {
  const sims: SmscSimulator[] = [];
  for (const s of config.simulators) {
    const sim = new SmscSimulator({
      host: s.host, port: s.port, systemId: s.system_id, password: s.password, receiptDelayMs: s.receipt_delay_ms,
      receiptMix: s.receipt_mix as never, recordReceived: false, logger: log.child({ part: 'smsc-sim', sim: s.name }),
    });
    const addr = await sim.start();
    log.info({ simulator: s.name, ...addr }, 'built-in SMSC simulator listening (demo mode)');
    sims.push(sim);
  }
  return sims;
}

function countEvents(metrics: Metrics, events: LedgerEvent[]): void {
  for (const e of events) {
    if (e.type === 'outcome') {
      const o = e.outcome;
      if (o.kind === 'sent') metrics.messages.inc({ state: 'sent' });
      else if (o.kind === 'failed') metrics.messages.inc({ state: o.state });
    } else if (e.type === 'final') metrics.messages.inc({ state: e.state });
  }
}

export function describeBind(b: Bind) {
  return {
    operator: b.operator, name: b.name, state: b.state, mode: b.cfg.mode, host: b.cfg.host, port: b.cfg.port,
    system_id: b.cfg.system_id, tps: b.cfg.tps, rate: Math.round(b.rate), window: b.cfg.window, window_used: b.windowUsed, queued: b.load,
    bound_since: b.boundSince ? new Date(b.boundSince).toISOString() : null, last_error: b.lastError, counters: { ...b.counters },
  };
}

function listen(handler: Parameters<typeof import('node:http').createServer>[1], host: string, port: number): Promise<Server> {
  return import('node:http').then(({ createServer }) => new Promise<Server>((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  }));
}
