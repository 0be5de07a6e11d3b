/**
 * Wiring of one Relais process: store → binds → ledger → dispatcher → HTTP. Start order makes
 * the queue consistent before anything submits; stop order drains windows before unbinding and
 * closes the database last.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { Ledger, type LedgerEvent } from './dispatch/ledger.js';
import { createApp } from './http/app.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { Router } from './routing/router.js';
import { AccountService } from './services/accounts.js';
import { CredentialService } from './services/credentials.js';
import { HistoryService } from './services/history.js';
import { MessageService } from './services/messages.js';
import { SenderIdService } from './services/sender-ids.js';
import { SendingService } from './services/sending.js';
import { AuditService } from './services/audit.js';
import { BlacklistService } from './services/blacklist.js';
import { ContactService } from './services/contacts.js';
import { TemplateService } from './services/templates.js';
import { WebhookService } from './services/webhooks.js';
import { Outbox } from './webhooks/outbox.js';
import { WebhookWorker } from './webhooks/worker.js';
import { Bind } from './smpp/bind.js';
import { SmscSimulator } from './smpp/simulator/simulator.js';
import { BlacklistRepo } from './store/blacklist.js';
import { CreditsRepo } from './store/credits.js';
import { migrate, openStore, type Store } from './store/db.js';
import { IdempotencyRepo } from './store/idempotency.js';
import { MoRepo } from './store/mo.js';
import { MessageQueue } from './store/queue.js';

export interface Daemon {
  config: Config;
  accounts: AccountService;
  credits: CreditsRepo;
  senderIds: SenderIdService;
  store: Store;
  queue: MessageQueue;
  binds: Bind[];
  router: Router;
  messages: MessageService;
  blacklist: BlacklistRepo;
  metrics: Metrics;
  simulators: SmscSimulator[];
  http: Server;
  /** Base URL of the HTTP listener, e.g. http://127.0.0.1:8080 */
  url: string;
  stop(): Promise<void>;
}

const VERSION = (JSON.parse(readFileSync(new URL(`${import.meta.url.includes('/dist/') ? '../../' : '../'}package.json`, import.meta.url), 'utf8')) as { version: string }).version;

export async function startDaemon(config: Config, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Daemon> {
  const store = openStore(config.database.path, { synchronous: config.database.synchronous });
  const applied = await migrate(store);
  if (applied.length) log.info({ migrations: applied }, 'database migrated');
  const queue = new MessageQueue(store);
  const recovered = await queue.recoverInterrupted();
  if (recovered) log.warn({ count: recovered }, 'messages interrupted mid-submit re-queued (possible duplicates: at most one window per bind)');

  const simulators = await startSimulators(config, log);
  const blacklist = new BlacklistRepo(store);
  const router = new Router(config.routes, config.default_route);
  const outbox = new Outbox(store);
  await outbox.load();
  const contacts = new ContactService(store, config.numbering, outbox);
  const messages = new MessageService(config, router, queue, blacklist, (accountId, phone) => contacts.lookupSync(accountId, phone));
  const metrics = createMetrics(() => queue.depthByOperator(), config.operators.map((o) => o.name));

  const accounts = new AccountService(store);
  await accounts.ensureAdmin(env, config.database.path, log);
  const credentials = await CredentialService.create(store, accounts, { secret: config.auth.jwt_secret, ttlSeconds: config.auth.token_ttl });
  const credits = new CreditsRepo(store);
  const senderIds = new SenderIdService(store, config.default_sender_id);
  const sending = new SendingService(store, messages, senderIds, credits, new IdempotencyRepo(store), config.operators.map((o) => o.name));

  const webhookWorker = new WebhookWorker(store, {
    allowPrivate: config.webhooks.allow_private_networks, retryInitialMs: config.webhooks.retry_initial * 1000, retryMaxMs: config.webhooks.retry_max * 1000,
    concurrency: config.webhooks.concurrency, perDestination: config.webhooks.per_destination, version: VERSION,
  }, log.child({ part: 'webhooks' }));
  webhookWorker.start();
  const webhooks = new WebhookService(store, outbox, config.webhooks.allow_private_networks);

  const ledger = new Ledger({
    store, queue, mo: new MoRepo(store), blacklist, credits, optOutKeywords: config.mo.opt_out_keywords,
    log: log.child({ part: 'ledger' }),
    inTransaction: (events) => outbox.fromLedger(events),
    onEvents: (events) => {
      countEvents(metrics, events);
      if (outbox.takeEmitted()) webhookWorker.kick();
    },
  });
  await ledger.loadPending();

  const binds = config.operators.flatMap((op) => op.binds.map((b) => new Bind({ ...b, name: b.name! }, op, log.child({ part: 'smpp' }))));
  for (const bind of binds) {
    metrics.bindUp.set({ operator: bind.operator, bind: bind.name }, 0);
    bind.on('state', (state) => metrics.bindUp.set({ operator: bind.operator, bind: bind.name }, state === 'bound' ? 1 : 0));
    bind.on('receipt', (r, ack) => {
      metrics.receipts.inc({ operator: r.operator, state: r.stat });
      ledger.pushReceipt(r, ack);
    });
    bind.on('mo', (mo, ack) => {
      metrics.mo.inc({ operator: mo.operator });
      ledger.pushMo(mo, ack);
    });
    bind.start();
  }
  const dispatcher = new Dispatcher({ queue, ledger, binds, operators: config.operators, cfg: config.dispatcher, log: log.child({ part: 'dispatch' }), metrics, blacklist });
  dispatcher.start();

  const app = createApp({
    log: log.child({ part: 'http' }),
    metrics,
    version: VERSION,
    services: {
      config, accounts, credentials, senderIds, sending, messages, history: new HistoryService(store), credits, router,
      webhooks, audit: new AuditService(store), kickWebhooks: () => webhookWorker.kick(),
      contacts, templates: new TemplateService(store), blacklist, blacklistService: new BlacklistService(store, blacklist, outbox),
      binds: () => binds.map(describeBind),
    },
    ops: {
      ready: () => {
        const boundBinds = binds.filter((b) => b.state === 'bound').length;
        return { ok: store.sqlite.open && boundBinds > 0, db: store.sqlite.open, boundBinds };
      },
      binds: () => binds.map(describeBind),
    },
  });
  const http = await listen(app.callback(), config.http.host, config.http.port);
  const { port } = http.address() as AddressInfo;
  const url = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
  log.info({ url, operators: config.operators.map((o) => o.name), binds: binds.length }, 'relais started');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('stopping: draining bind windows');
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      setTimeout(() => http.closeAllConnections(), 2000).unref();
      await closed;
      await dispatcher.stop();
      await Promise.all(binds.map((b) => b.stop()));
      ledger.flush();
      await webhookWorker.stop();
      await Promise.all(simulators.map((s) => s.stop()));
      await store.close();
      log.info('stopped');
    })());

  return { config, accounts, credits, senderIds, store, queue, binds, router, messages, blacklist, metrics, simulators, http, url, stop };
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
