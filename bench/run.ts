/**
 * Relais end-to-end benchmark (loopback only; prints figures, asserts nothing).
 *
 * Three processes per scenario: this one (the HTTP client, and a read-only reader of the daemon's
 * SQLite file), the daemon (`relais serve`, its own process, on a fresh database) and the SMSC
 * simulator. Messages are accepted the way an integrator sends them, POST /api/messages/send with
 * an API key; then the wait until every message is `sent` (or `delivered` with receipts). Figures
 * come from the message rows themselves (created_at, sent_at, done_at, bind).
 *
 *   npm run bench -- --messages 20000 --tps 2000 --binds 2
 *   node --import tsx bench/run.ts --messages 2000 --scenarios plain --json
 *
 * See bench/README.md for what every number means.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { FormData, Pool } from 'undici';
import type { z } from 'zod';
import type { configSchema } from '../src/config/schema.js';
import {
  fmtInt, fmtNum, freePort, maxInWindow, mb, percentile, procCpuSeconds, procMemory, rate, spawnDaemon, spawnSimulator, table,
  type DaemonProcess, type SimulatorProcess,
} from './lib.js';

// ---- options ----------------------------------------------------------------------------

const USAGE = `usage: npm run bench -- [options]     (or: node --import tsx bench/run.ts [options])
  --messages <n>        messages per scenario (default 20000)
  --single-messages <n> messages of the scenario single, at most --messages (default 5000)
  --tps <n>             configured TPS of each bind (default 2000)
  --binds <n>           SMPP sessions to the simulator, all on one operator (default 2)
  --window <n>          window of each bind (default 50)
  --batch <n>           recipients per POST /api/messages/send (default 100; single: 1)
  --concurrency <n>     HTTP requests in flight, one connection each (default 16)
  --scenarios <list>    comma-separated: plain, single, receipts, throttle5, import (default all five)
  --import-rows <n>     rows of the CSV the scenario import posts to /api/contacts/import (default 100000)
  --timeout <s>         longest wait for the messages to arrive, per scenario (default 300)
  --log-level <l>       daemon log level (default warn; info, debug, trace copy its logs to stderr)
  --cpu-prof <dir>      write a CPU profile of each daemon (node --cpu-prof) into <dir>
  --json                also print one JSON object with every figure at the end
  --help`;

const SCENARIOS = {
  /** Receipts off: pure submit throughput. */
  plain: { receipts: false, target: 'sent', simArgs: ['--no-receipts'], oneByOne: false },
  /** plain with one recipient per request: how an integrator sending one SMS per call sees it. */
  single: { receipts: false, target: 'sent', simArgs: ['--no-receipts'], oneByOne: true },
  /** Receipts on, 100 ms after each submit: submits and deliver_sm share the sessions and the ledger. */
  receipts: { receipts: true, target: 'delivered', simArgs: ['--receipt-delay', '100'], oneByOne: false },
  /** 5 % of submits answered ESME_RTHROTTLED: how much throughput survives the bind's back-off. */
  throttle5: { receipts: false, target: 'sent', simArgs: ['--no-receipts', '--throttle-share', '0.05'], oneByOne: false },
} as const;
type MessageScenario = keyof typeof SCENARIOS;
/** The message scenarios, then `import`: the contacts CSV import (POST /api/contacts/import), no messages. */
type ScenarioName = MessageScenario | 'import';
const SCENARIO_NAMES: readonly ScenarioName[] = [...(Object.keys(SCENARIOS) as MessageScenario[]), 'import'];

/** Groups the import's rows are spread over (row i → group-(i mod 10 + 1)). */
const IMPORT_GROUPS = 10;

interface Options {
  messages: number;
  singleMessages: number;
  tps: number;
  binds: number;
  window: number;
  batch: number;
  concurrency: number;
  scenarios: ScenarioName[];
  importRows: number;
  timeoutS: number;
  logLevel: string;
  /** Directory for the daemon's CPU profiles (node --cpu-prof), or null. */
  cpuProfDir: string | null;
  json: boolean;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      messages: { type: 'string', default: '20000' },
      'single-messages': { type: 'string', default: '5000' },
      tps: { type: 'string', default: '2000' },
      binds: { type: 'string', default: '2' },
      window: { type: 'string', default: '50' },
      batch: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '16' },
      scenarios: { type: 'string', default: 'plain,single,receipts,throttle5,import' },
      'import-rows': { type: 'string', default: '100000' },
      timeout: { type: 'string', default: '300' },
      'log-level': { type: 'string', default: 'warn' },
      'cpu-prof': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const int = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`invalid --${name}: ${v} (an integer ${min}..${max})`);
    return n;
  };
  const scenarios = values.scenarios.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scenarios) if (!SCENARIO_NAMES.includes(s as ScenarioName)) throw new Error(`unknown scenario "${s}" (${SCENARIO_NAMES.join(', ')})`);
  if (!scenarios.length) throw new Error('--scenarios names no scenario');
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(values['log-level'])) throw new Error(`invalid --log-level: ${values['log-level']} (${levels.join(', ')})`);
  return {
    // +24162 followed by six digits: at most a million distinct recipients.
    messages: int('messages', values.messages, 1, 1_000_000),
    singleMessages: int('single-messages', values['single-messages'], 1, 1_000_000),
    tps: int('tps', values.tps, 1, 100_000),
    binds: int('binds', values.binds, 1, 64),
    window: int('window', values.window, 1, 1000),
    // The API takes at most 10 000 recipients per request.
    batch: int('batch', values.batch, 1, 10_000),
    concurrency: int('concurrency', values.concurrency, 1, 1024),
    scenarios: scenarios as ScenarioName[],
    // +2416 followed by 2000000 + i (seven digits); the daemon takes files up to 200 MB.
    importRows: int('import-rows', values['import-rows'], 1, 1_000_000),
    timeoutS: int('timeout', values.timeout, 1, 24 * 3600),
    logLevel: values['log-level'],
    cpuProfDir: values['cpu-prof'] ? resolve(values['cpu-prof']) : null,
    json: values.json,
  };
}

/** Levels at which the daemon's whole output is copied to stderr; otherwise errors only. */
const VERBOSE_LEVELS = ['info', 'debug', 'trace'];

/** What the daemon child is given: the admin account it creates on its fresh database. */
const ADMIN = { email: 'bench@example.com', password: 'benchpass123' };
/** Default price of one part (operator price_per_part); the bench text is one part. */
const PRICE_PER_PART = 20;

const TEXT = 'Relais benchmark: your code is 482913. It expires in 10 minutes.';

// ---- interruption -----------------------------------------------------------------------

/** What a scenario holds right now, so Ctrl-C can release it. */
const active: {
  daemon: DaemonProcess | null; sim: SimulatorProcess | null; dir: string | null; reader: Database.Database | null; pools: Pool[];
} = { daemon: null, sim: null, dir: null, reader: null, pools: [] };
let interrupted = false;

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

function checkInterrupted(): void {
  if (interrupted) throw new Interrupted();
}

/** Last resort: no child outlives the benchmark, whatever way it ends. */
function killChildren(): void {
  if (active.daemon && !active.daemon.hasExited()) active.daemon.child.kill('SIGKILL');
  active.sim?.child.kill('SIGKILL');
  try {
    active.reader?.close();
  } catch {
    // already closed
  }
  if (active.dir) rmSync(active.dir, { recursive: true, force: true });
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) {
    // Second Ctrl-C: do not wait for the orderly stop.
    process.stderr.write(`\n${signal} again: exiting now\n`);
    killChildren();
    process.exit(130);
  }
  interrupted = true;
  process.stderr.write(`\n${signal}: stopping the current scenario (again to force)\n`);
  // The orderly path (the scenario's finally) normally finishes well within this.
  setTimeout(() => {
    process.stderr.write('cleanup took too long: exiting\n');
    killChildren();
    process.exit(130);
  }, 20_000).unref();
}

// ---- HTTP -------------------------------------------------------------------------------

interface Answer {
  status: number;
  text: string;
  json: any;
}

async function call(pool: Pool, method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await pool.request({ method, path, headers, body: body === undefined ? null : JSON.stringify(body), headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.statusCode, text, json };
}

/** A 2xx answer's JSON, or an error naming the call. */
async function callOk(pool: Pool, method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<any> {
  const r = await call(pool, method, path, token, body);
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

// ---- one scenario -----------------------------------------------------------------------

interface BindFigures {
  bind: string;
  tpsConfigured: number;
  sent: number;
  /** Most messages whose sent_at falls in any sliding 1 s window. */
  maxPerSecond: number;
  /** sent / (its last sent_at − first request), messages per second. */
  meanPerSecond: number;
  /** Messages sent in each whole second after the first request ([0] = first second). */
  perSecond: number[];
  throttled: number;
  submitted: number;
  timeouts: number;
  reconnects: number;
}

interface ScenarioResult {
  scenario: MessageScenario;
  target: 'sent' | 'delivered';
  messages: number;
  /** Recipients per request. */
  batch: number;
  requests: number;
  /** Answers other than 200 with data.sent = the batch's size, and failed requests. */
  httpErrors: number;
  firstHttpError: string | null;
  /** Sum of data.sent over the 200 answers. */
  accepted: number;
  /** Messages that reached the target state before the wait ended. */
  reached: number;
  /** Final states other than the target (failed, expired, …): should be 0. */
  otherFinal: number;
  timedOut: boolean;
  statusCounts: Record<string, number>;
  /** Last answer − first request. */
  acceptMs: number;
  acceptPerSecond: number;
  requestsPerSecond: number;
  httpLatencyMs: { p50: number; p99: number; max: number };
  /** Messages with a sent_at / (last sent_at − first request). */
  endToEndPerSecond: number;
  /** Receipts only: delivered / (last done_at − first request). */
  receiptedPerSecond: number | null;
  configuredPerSecond: number;
  latencyMs: { sentP50: number; sentP99: number; sentMax: number; doneP50: number | null; doneP99: number | null };
  binds: BindFigures[];
  throttledAnswers: number;
  /** throttle5 only: its end-to-end rate / plain's, when plain ran in the same invocation. */
  survival: number | null;
  /** CPU %: over the accept phase (first request → all answered), and over accept + wait. 100 % = one core. */
  daemon: { startRssBytes: number; peakRssBytes: number; acceptCpuPercent: number; cpuPercent: number; eventLoopLagP99Ms: number; eventLoopLagMaxMs: number; exit: string };
  bench: { acceptCpuPercent: number; cpuPercent: number };
  simulator: { peakRssBytes: number; cpuPercent: number; stats: Record<string, number> | null };
  wallMs: number;
}

/** What startStack leaves running (each also registered in `active`, for Ctrl-C). */
interface Stack {
  sim: SimulatorProcess;
  daemon: DaemonProcess;
  dbPath: string;
  base: string;
  /** Small pool for the control calls (login, counters, /metrics). */
  admin: Pool;
  /** The admin's login token. */
  token: string;
  /** An API key of the admin account (what integrators use). */
  apiKey: string;
}

/**
 * Steps 1–3 of every scenario: simulator, daemon (its own process, fresh database in a temp
 * directory, port picked here), ready, login, credits, API key, every bind bound.
 */
async function startStack(name: string, opts: Options, s: { receipts: boolean; simArgs: readonly string[]; credits: number }): Promise<Stack> {
  const sim = await spawnSimulator(['--host', '127.0.0.1', '--port', '0', '--system-id', 'bench', '--password', 'bench', '--stats-interval', '60000', ...s.simArgs]);
  active.sim = sim;
  const dir = mkdtempSync(join(os.tmpdir(), `relais-bench-${name}-`));
  active.dir = dir;
  checkInterrupted();

  // -- the daemon, in its own process, on a port picked here (never a fixed one)
  const port = await freePort('127.0.0.1');
  const dbPath = join(dir, 'bench.db');
  const config: z.input<typeof configSchema> = {
    http: { host: '127.0.0.1', port },
    database: { path: dbPath, synchronous: 'normal' },
    numbering: { country_code: '241' },
    operators: [{
      name: 'bench',
      registered_delivery: s.receipts,
      binds: Array.from({ length: opts.binds }, (_, i) => ({
        name: `bench-${i + 1}`, host: sim.host, port: sim.port, system_id: 'bench', password: 'bench',
        mode: 'transceiver' as const, tps: opts.tps, window: opts.window,
      })),
    }],
    routes: [{ prefix: '+24162', operator: 'bench' }],
    dispatcher: { poll_interval_ms: 20, batch_size: 1000, max_attempts: 50, retry_initial: 1 },
    log: { level: opts.logLevel as 'warn' },
    rate_limits: { send_per_minute: 100_000_000, default_per_minute: 100_000_000, auth_per_minute: 1000 },
  };
  const configPath = join(dir, 'relais.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const daemon = spawnDaemon(configPath, {
    verbose: VERBOSE_LEVELS.includes(opts.logLevel),
    env: { RELAIS_ADMIN_EMAIL: ADMIN.email, RELAIS_ADMIN_PASSWORD: ADMIN.password },
    // Written when the daemon exits after SIGTERM (not if it had to be killed).
    nodeFlags: opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir, '--cpu-prof-name', `daemon-${name}-${Date.now()}.cpuprofile`] : [],
  });
  active.daemon = daemon;
  const base = `http://127.0.0.1:${port}`;
  const admin = new Pool(base, { connections: 2 });
  active.pools.push(admin);

  await waitReady(admin, daemon, 20_000);
  const login = await callOk(admin, 'POST', '/api/auth/login', undefined, ADMIN);
  const token = login?.data?.token as string;
  if (typeof token !== 'string') throw new Error(`login answered no token: ${JSON.stringify(login).slice(0, 300)}`);
  const me = await callOk(admin, 'GET', '/api/auth/me', token);
  await callOk(admin, 'POST', `/api/admin/accounts/${me.data.id}/credits`, token, { amount: s.credits });
  const created = await callOk(admin, 'POST', '/api/api-keys', token, { name: 'bench' });
  const apiKey = created?.data?.key as string;
  if (typeof apiKey !== 'string') throw new Error(`POST /api/api-keys answered no key: ${JSON.stringify(created).slice(0, 300)}`);
  await waitBound(admin, token, daemon, 15_000);
  checkInterrupted();
  return { sim, daemon, dbPath, base, admin, token, apiKey };
}

async function runScenario(name: MessageScenario, opts: Options): Promise<ScenarioResult> {
  const sc = SCENARIOS[name];
  const messages = sc.oneByOne ? Math.min(opts.messages, opts.singleMessages) : opts.messages;
  const batch = sc.oneByOne ? 1 : opts.batch;
  const wallStart = Date.now();
  process.stderr.write(`[${name}] starting simulator and daemon\n`);
  try {
    const { sim, daemon, dbPath, base, admin, token, apiKey } = await startStack(name, opts, {
      receipts: sc.receipts, simArgs: sc.simArgs, credits: messages * PRICE_PER_PART * 10,
    });

    // WAL: this read-only connection reads while the daemon writes.
    const reader = new Database(dbPath, { readonly: true, fileMustExist: true });
    active.reader = reader;
    reader.pragma('busy_timeout = 5000');
    const countStmt = reader.prepare('SELECT status, COUNT(*) AS n FROM messages GROUP BY status');
    const counts = (): Record<string, number> =>
      Object.fromEntries((countStmt.all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));

    // Request bodies are built before the clock starts: the client's own work stays out of the figures.
    const bodies: string[] = [];
    const sizes: number[] = [];
    for (let first = 0; first < messages; first += batch) {
      const recipients: string[] = [];
      const last = Math.min(messages, first + batch);
      for (let i = first; i < last; i++) recipients.push(`+24162${String(i).padStart(6, '0')}`);
      bodies.push(JSON.stringify({ recipients, message: TEXT }));
      sizes.push(recipients.length);
    }
    const sendHeaders = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json' };
    const pool = new Pool(base, { connections: opts.concurrency, pipelining: 1 });
    active.pools.push(pool);

    const startRss = procMemory(daemon.pid).rssBytes;
    // Scraping /metrics resets the daemon's event-loop delay histogram: the next scrape covers the run.
    await scrapeLag(admin);

    // -- accept phase: --concurrency requests in flight, each answered before the worker sends the next
    const cpu0 = process.cpuUsage();
    const daemonCpu0 = procCpuSeconds(daemon.pid);
    const simCpu0 = procCpuSeconds(sim.child.pid);
    const t0 = Date.now();
    const p0 = performance.now();
    let lastAnswer = p0;
    let next = 0;
    let accepted = 0;
    let httpErrors = 0;
    let firstHttpError: string | null = null;
    const httpLatency: number[] = [];
    const fail = (what: string) => {
      httpErrors += 1;
      if (firstHttpError === null) {
        firstHttpError = what;
        process.stderr.write(`[${name}] first HTTP error: ${what}\n`);
      }
    };
    const worker = async (): Promise<void> => {
      while (!interrupted) {
        const i = next++;
        if (i >= bodies.length) return;
        const s = performance.now();
        try {
          const res = await pool.request({ method: 'POST', path: '/api/messages/send', headers: sendHeaders, body: bodies[i]! });
          const text = await res.body.text();
          const now = performance.now();
          httpLatency.push(now - s);
          if (now > lastAnswer) lastAnswer = now;
          let sent = NaN;
          if (res.statusCode === 200) {
            try {
              sent = Number(JSON.parse(text)?.data?.sent);
            } catch {
              // reported below
            }
          }
          if (Number.isFinite(sent)) accepted += sent;
          if (res.statusCode !== 200 || sent !== sizes[i]) fail(`HTTP ${res.statusCode} (data.sent ${sent}, expected ${sizes[i]}): ${text.slice(0, 500)}`);
        } catch (err) {
          lastAnswer = Math.max(lastAnswer, performance.now());
          fail(`request failed: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, bodies.length) }, worker));
    const acceptMs = lastAnswer - p0;
    const acceptDaemonCpu = procCpuSeconds(daemon.pid) - daemonCpu0;
    const acceptCpu = process.cpuUsage(cpu0);
    const acceptWallMs = performance.now() - p0;
    checkInterrupted();
    active.pools.splice(active.pools.indexOf(pool), 1);
    await pool.close();
    process.stderr.write(`[${name}] accepted ${accepted} in ${Math.round(acceptMs)} ms (${bodies.length} requests, ${httpErrors} errors); waiting for "${sc.target}"\n`);

    // -- wait phase: COUNT every 100 ms until every message is final enough, bounded
    const deadline = Date.now() + opts.timeoutS * 1000;
    const otherFinalStates = ['failed', 'expired', 'rejected', 'undelivered'];
    let statusCounts = counts();
    let lastProgress = Date.now();
    let timedOut = false;
    for (;;) {
      const reached = statusCounts[sc.target] ?? 0;
      const other = otherFinalStates.reduce((n, s) => n + (statusCounts[s] ?? 0), 0);
      if (reached + other >= accepted) break;
      if (daemon.hasExited()) throw new Error(`the daemon exited during the run\n${daemon.outputTail()}`);
      if (Date.now() >= deadline) {
        timedOut = true;
        break;
      }
      if (Date.now() - lastProgress >= 5000) {
        lastProgress = Date.now();
        process.stderr.write(`[${name}] ${JSON.stringify(statusCounts)}\n`);
      }
      await sleep(100);
      checkInterrupted();
      statusCounts = counts();
    }
    const cpu = process.cpuUsage(cpu0);
    const daemonCpu = procCpuSeconds(daemon.pid) - daemonCpu0;
    const simCpu = procCpuSeconds(sim.child.pid) - simCpu0;
    const activeMs = Date.now() - t0;
    const lag = await scrapeLag(admin);

    // -- figures from the rows and the daemon's counters, before anything stops
    const rows = reader.prepare('SELECT bind, created_at, sent_at, done_at, status FROM messages WHERE sent_at IS NOT NULL').all() as {
      bind: string | null; created_at: number; sent_at: number; done_at: number | null; status: string;
    }[];
    reader.close();
    active.reader = null;
    const bindList = (await callOk(admin, 'GET', '/api/admin/binds', token)).data as { name: string; tps: number; counters: Record<string, number> }[];
    const counters = bindList.map((b) => ({ name: b.name, tps: b.tps, ...(b.counters as { throttled: number; submitted: number; timeouts: number; reconnects: number }) }));
    const daemonPeak = procMemory(daemon.pid).peakBytes;
    const simPeak = sim.peakRss();

    active.pools.splice(active.pools.indexOf(admin), 1);
    await admin.close();
    const exit = await stopDaemon(daemon, 20_000);
    active.daemon = null;
    const simStats = await sim.stop();
    active.sim = null;

    let lastSent = -Infinity;
    let lastDone = -Infinity;
    const sentLatency: number[] = [];
    const doneLatency: number[] = [];
    const perBind = new Map<string, number[]>();
    for (const r of rows) {
      if (r.sent_at > lastSent) lastSent = r.sent_at;
      sentLatency.push(r.sent_at - r.created_at);
      if (r.status === 'delivered' && r.done_at !== null) {
        if (r.done_at > lastDone) lastDone = r.done_at;
        doneLatency.push(r.done_at - r.created_at);
      }
      const key = r.bind ?? '?';
      let list = perBind.get(key);
      if (!list) perBind.set(key, (list = []));
      list.push(r.sent_at);
    }
    sentLatency.sort((a, b) => a - b);
    doneLatency.sort((a, b) => a - b);
    httpLatency.sort((a, b) => a - b);

    const binds: BindFigures[] = counters.map((c) => {
      const times = (perBind.get(c.name) ?? []).sort((a, b) => a - b);
      const lastAt = times.length ? (times[times.length - 1] as number) : t0;
      return {
        bind: c.name, tpsConfigured: c.tps, sent: times.length,
        maxPerSecond: maxInWindow(times, 1000), meanPerSecond: rate(times.length, lastAt - t0), perSecond: perSecond(times, t0),
        throttled: c.throttled, submitted: c.submitted, timeouts: c.timeouts, reconnects: c.reconnects,
      };
    });

    const reached = statusCounts[sc.target] ?? 0;
    return {
      scenario: name,
      target: sc.target,
      messages,
      batch,
      requests: bodies.length,
      httpErrors,
      firstHttpError,
      accepted,
      reached,
      otherFinal: otherFinalStates.reduce((n, s) => n + (statusCounts[s] ?? 0), 0),
      timedOut,
      statusCounts,
      acceptMs,
      acceptPerSecond: rate(accepted, acceptMs),
      requestsPerSecond: rate(httpLatency.length, acceptMs),
      httpLatencyMs: { p50: percentile(httpLatency, 50), p99: percentile(httpLatency, 99), max: httpLatency[httpLatency.length - 1] ?? NaN },
      endToEndPerSecond: rate(rows.length, lastSent - t0),
      receiptedPerSecond: sc.receipts ? rate(doneLatency.length, lastDone - t0) : null,
      configuredPerSecond: opts.tps * opts.binds,
      latencyMs: {
        sentP50: percentile(sentLatency, 50), sentP99: percentile(sentLatency, 99), sentMax: sentLatency[sentLatency.length - 1] ?? NaN,
        doneP50: sc.receipts ? percentile(doneLatency, 50) : null, doneP99: sc.receipts ? percentile(doneLatency, 99) : null,
      },
      binds,
      throttledAnswers: counters.reduce((n, c) => n + c.throttled, 0),
      survival: null,
      daemon: {
        startRssBytes: startRss,
        peakRssBytes: daemonPeak,
        acceptCpuPercent: (acceptDaemonCpu * 1000 / acceptWallMs) * 100,
        cpuPercent: (daemonCpu * 1000 / activeMs) * 100,
        eventLoopLagP99Ms: lag.p99Ms,
        eventLoopLagMaxMs: lag.maxMs,
        exit,
      },
      bench: {
        acceptCpuPercent: ((acceptCpu.user + acceptCpu.system) / 1000 / acceptWallMs) * 100,
        cpuPercent: ((cpu.user + cpu.system) / 1000 / activeMs) * 100,
      },
      simulator: { peakRssBytes: simPeak, cpuPercent: (simCpu * 1000 / activeMs) * 100, stats: simStats },
      wallMs: Date.now() - wallStart,
    };
  } finally {
    await releaseActive();
  }
}

// ---- the import scenario ----------------------------------------------------------------

/** One POST /api/contacts/import of the whole file. */
interface ImportPass {
  /** `new`: every row creates a contact; `again`: the same file re-imported, every row updates. */
  pass: 'new' | 'again';
  status: number;
  /** The answer's data (errors: only their count), or null when it had none. */
  answer: { created: number; updated: number; failed: number; errors: number } | null;
  /** data is exactly the expected {created, updated, failed: 0, errors: []}. */
  ok: boolean;
  /** What was wrong (status, body excerpt), or null. */
  problem: string | null;
  /** From sending the request to having read the whole answer. */
  ms: number;
  rowsPerSecond: number;
  /** CPU time / wall time over the request, 100 % = one core. */
  daemonCpuPercent: number;
  benchCpuPercent: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** VmRSS right after the answer, and VmHWM (peak over the daemon's life so far). */
  rssAfterBytes: number;
  peakRssBytes: number;
}

interface ImportScenarioResult {
  scenario: 'import';
  rows: number;
  fileBytes: number;
  passes: ImportPass[];
  /** Counted on a read-only connection after both passes; null if the reads failed. */
  db: { contacts: number; groups: number; memberships: number } | null;
  daemon: { startRssBytes: number; peakRssBytes: number; exit: string };
  wallMs: number;
}

/**
 * The CSV the import posts: header `name,email,phone,group,status,company` (company is not a
 * contact column: it lands in custom_fields), `rows` distinct numbers +2416 2000000+i, 10 groups.
 */
function importCsv(rows: number): Buffer {
  const lines: string[] = ['name,email,phone,group,status,company'];
  for (let i = 0; i < rows; i++) {
    const n = i + 1;
    lines.push(`Contact ${n},contact${n}@example.com,+2416${2000000 + i},group-${(i % IMPORT_GROUPS) + 1},active,Company ${(i % 97) + 1}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/**
 * The contacts CSV import, with the same daemon set-up as the message scenarios (its own process,
 * admin login → API key): the file of --import-rows rows posted once (all created), then again
 * (all updated), one request at a time, each timed from send to whole answer read.
 */
async function runImport(opts: Options): Promise<ImportScenarioResult> {
  const name = 'import';
  const rows = opts.importRows;
  const wallStart = Date.now();
  process.stderr.write(`[${name}] starting simulator and daemon\n`);
  try {
    const { daemon, dbPath, base, admin, apiKey } = await startStack(name, opts, { receipts: false, simArgs: ['--no-receipts'], credits: 1000 });

    // The file is built before the clock starts: the client's own work stays out of the figures.
    const csv = importCsv(rows);
    const file = new Blob([csv], { type: 'text/csv' });
    const headers = { authorization: `Bearer ${apiKey}`, accept: 'application/json' };
    const pool = new Pool(base, { connections: 1, pipelining: 1 });
    active.pools.push(pool);
    const startRss = procMemory(daemon.pid).rssBytes;

    const passes: ImportPass[] = [];
    for (const pass of ['new', 'again'] as const) {
      const expected = { created: pass === 'new' ? rows : 0, updated: pass === 'new' ? 0 : rows, failed: 0, errors: [] };
      // One FormData per request (undici streams it, multipart with its own boundary).
      const form = new FormData();
      form.append('file', file, 'contacts.csv');
      await scrapeLag(admin);
      checkInterrupted();
      process.stderr.write(`[${name}] POST /api/contacts/import: ${fmtInt(rows)} rows, ${fmtNum(csv.length / 1024 / 1024, 1)} MB (${pass === 'new' ? 'all new' : 'the same file again'})\n`);
      const cpu0 = process.cpuUsage();
      const daemonCpu0 = procCpuSeconds(daemon.pid);
      const p0 = performance.now();
      let status = 0;
      let text = '';
      try {
        const res = await pool.request({
          method: 'POST', path: '/api/contacts/import', headers, body: form,
          headersTimeout: opts.timeoutS * 1000, bodyTimeout: opts.timeoutS * 1000,
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        text = `request failed: ${(err as Error).message}`;
      }
      const ms = performance.now() - p0;
      const daemonCpu = procCpuSeconds(daemon.pid) - daemonCpu0;
      const cpu = process.cpuUsage(cpu0);
      const mem = procMemory(daemon.pid);
      const lag = await scrapeLag(admin);
      checkInterrupted();

      let data: any = null;
      try {
        data = JSON.parse(text)?.data ?? null;
      } catch {
        // reported below
      }
      const ok = status === 200 && isDeepStrictEqual(data, expected);
      const problem = ok ? null : `HTTP ${status}, expected data ${JSON.stringify(expected)}: ${text.slice(0, 500)}`;
      if (problem) process.stderr.write(`[${name}] unexpected answer (${pass}): ${problem}\n`);
      const answer = data && typeof data === 'object'
        ? { created: Number(data.created), updated: Number(data.updated), failed: Number(data.failed), errors: Array.isArray(data.errors) ? data.errors.length : NaN }
        : null;
      passes.push({
        pass, status, answer, ok, problem, ms,
        // Only rows the daemon accounted for count.
        rowsPerSecond: rate(answer ? (answer.created || 0) + (answer.updated || 0) : 0, ms),
        daemonCpuPercent: (daemonCpu * 1000 / ms) * 100,
        benchCpuPercent: ((cpu.user + cpu.system) / 1000 / ms) * 100,
        eventLoopLagP99Ms: lag.p99Ms,
        eventLoopLagMaxMs: lag.maxMs,
        rssAfterBytes: mem.rssBytes,
        peakRssBytes: mem.peakBytes,
      });
      process.stderr.write(`[${name}] ${pass}: HTTP ${status} in ${Math.round(ms)} ms${answer ? ` (created ${answer.created}, updated ${answer.updated}, failed ${answer.failed})` : ''}\n`);
    }
    active.pools.splice(active.pools.indexOf(pool), 1);
    await pool.close();

    // What the database holds now (WAL: this read-only connection reads the daemon's commits).
    let db: ImportScenarioResult['db'] = null;
    try {
      const reader = new Database(dbPath, { readonly: true, fileMustExist: true });
      active.reader = reader;
      reader.pragma('busy_timeout = 5000');
      const count = (table: string) => Number((reader.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
      db = { contacts: count('contacts'), groups: count('contact_groups'), memberships: count('contact_group_members') };
      reader.close();
      active.reader = null;
    } catch (err) {
      process.stderr.write(`[${name}] could not count the contacts: ${(err as Error).message}\n`);
    }

    const peak = procMemory(daemon.pid).peakBytes;
    active.pools.splice(active.pools.indexOf(admin), 1);
    await admin.close();
    const exit = await stopDaemon(daemon, 20_000);
    active.daemon = null;
    return { scenario: name, rows, fileBytes: csv.length, passes, db, daemon: { startRssBytes: startRss, peakRssBytes: peak, exit }, wallMs: Date.now() - wallStart };
  } finally {
    await releaseActive();
  }
}

/** Stop whatever the current scenario still holds (after an error or Ctrl-C). */
async function releaseActive(): Promise<void> {
  const { daemon, sim, dir, reader, pools } = active;
  active.daemon = null;
  active.sim = null;
  active.dir = null;
  active.reader = null;
  active.pools = [];
  try {
    reader?.close();
  } catch {
    // already closed
  }
  await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  if (daemon) await stopDaemon(daemon, interrupted ? 3000 : 20_000);
  if (sim) await sim.stop().catch(() => null);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/**
 * SIGTERM: the daemon closes HTTP, drains its windows, unbinds and exits. Bounded (3 s after
 * Ctrl-C, 20 s otherwise), then SIGKILL. Returns how it ended, for the report.
 */
async function stopDaemon(daemon: DaemonProcess, boundMs: number): Promise<string> {
  const r = await daemon.stop(boundMs);
  if (r.killed) {
    process.stderr.write(`daemon still running ${boundMs} ms after SIGTERM: killed\n`);
    return 'killed';
  }
  if (r.code !== 0) {
    process.stderr.write(`daemon exited with ${r.code ?? r.signal}\n${daemon.outputTail()}\n`);
    return String(r.code ?? r.signal);
  }
  return '0';
}

function perSecond(sortedTimes: readonly number[], t0: number): number[] {
  const out: number[] = [];
  for (const t of sortedTimes) {
    const i = Math.max(0, Math.floor((t - t0) / 1000));
    while (out.length <= i) out.push(0);
    out[i] = (out[i] as number) + 1;
  }
  return out;
}

/** GET /readyz until 200 (the database is open and a bind is bound), bounded. */
async function waitReady(pool: Pool, daemon: DaemonProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (daemon.hasExited()) throw new Error(`the daemon exited before it was ready\n${daemon.outputTail()}`);
    try {
      const r = await call(pool, 'GET', '/readyz');
      if (r.status === 200) return;
      last = `HTTP ${r.status} ${r.text.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`GET /readyz not 200 after ${timeoutMs} ms (${last})\n${daemon.outputTail()}`);
    checkInterrupted();
    await sleep(50);
  }
}

/** /readyz needs one bound bind; the run needs all of them. */
async function waitBound(pool: Pool, token: string, daemon: DaemonProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const binds = (await callOk(pool, 'GET', '/api/admin/binds', token)).data as { name: string; state: string; last_error: string | null }[];
    if (binds.every((b) => b.state === 'bound')) return;
    if (daemon.hasExited()) throw new Error(`the daemon exited\n${daemon.outputTail()}`);
    if (Date.now() > deadline) {
      throw new Error(`binds not bound after ${timeoutMs} ms: ${binds.map((b) => `${b.name}=${b.state}${b.last_error ? ` (${b.last_error})` : ''}`).join(', ')}`);
    }
    checkInterrupted();
    await sleep(20);
  }
}

/** Probe period of the daemon's event-loop delay histogram (prom-client's default); its samples include it. */
const ELD_RESOLUTION_MS = 10;

/**
 * The daemon's event-loop delay p99 and max since the previous scrape, from its own /metrics
 * (prom-client resets the histogram on every scrape). NaN when the metric is absent.
 */
async function scrapeLag(pool: Pool): Promise<{ p99Ms: number; maxMs: number }> {
  const r = await call(pool, 'GET', '/metrics').catch(() => null);
  const read = (metric: string): number => {
    const m = r && r.status === 200 ? new RegExp(`^relais_process_nodejs_eventloop_lag_${metric}_seconds(?:\\{[^}]*\\})?\\s+(\\S+)`, 'm').exec(r.text) : null;
    return m ? Math.max(0, Number(m[1]) * 1000 - ELD_RESOLUTION_MS) : NaN;
  };
  return { p99Ms: read('p99'), maxMs: read('max') };
}

// ---- report -----------------------------------------------------------------------------

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

function report(opts: Options, results: ScenarioResult[], imports: ImportScenarioResult[], loadAtStart: number[]): string {
  const m = machine();
  const out: string[] = [];
  out.push('## Relais benchmark');
  out.push('');
  out.push(`- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, node ${m.node}, ${m.platform}; load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}`);
  out.push(`- processes: benchmark (HTTP client + read-only SQLite reader), daemon (\`relais serve\`), SMSC simulator — all three on these ${m.cores} cores`);
  if (results.length) {
    const single = results.find((r) => r.scenario === 'single');
    out.push(`- run: ${fmtInt(opts.messages)} messages per scenario${single ? ` (single: ${fmtInt(single.messages)})` : ''}, ${opts.binds} bind(s) × ${fmtInt(opts.tps)} TPS (window ${opts.window}) on one operator = ${fmtInt(opts.tps * opts.binds)} msg/s configured`);
    out.push(`- accept: POST /api/messages/send with an API key, ${opts.batch} recipients per request (single: 1), ${opts.concurrency} requests in flight (undici Pool, ${opts.concurrency} connections, no pipelining); ${new Date().toISOString()}`);
    out.push('');

    out.push(table(
      ['scenario', 'reached', 'accept msg/s', 'HTTP req/s', 'HTTP p50 / p99 ms', 'end-to-end msg/s', '% of configured', 'receipted msg/s', 'sent−created p50 / p99 ms', 'done−created p50 / p99 ms'],
      results.map((r) => [
        r.scenario,
        `${fmtInt(r.reached)}/${fmtInt(r.accepted)} ${r.target}${r.timedOut ? ' (timeout)' : ''}${r.otherFinal ? `, ${fmtInt(r.otherFinal)} other final` : ''}${r.httpErrors ? `, ${fmtInt(r.httpErrors)} HTTP errors` : ''}`,
        fmtInt(r.acceptPerSecond),
        fmtInt(r.requestsPerSecond),
        `${fmtLatency(r.httpLatencyMs.p50)} / ${fmtLatency(r.httpLatencyMs.p99)}`,
        fmtInt(r.endToEndPerSecond),
        `${fmtNum((r.endToEndPerSecond / r.configuredPerSecond) * 100, 0)} %`,
        r.receiptedPerSecond === null ? '–' : fmtInt(r.receiptedPerSecond),
        `${fmtInt(r.latencyMs.sentP50)} / ${fmtInt(r.latencyMs.sentP99)}`,
        r.latencyMs.doneP50 === null ? '–' : `${fmtInt(r.latencyMs.doneP50)} / ${fmtInt(r.latencyMs.doneP99 ?? NaN)}`,
      ]),
    ));
    out.push('');

    out.push(table(
      ['scenario', 'bind', 'TPS configured', 'max in any 1 s at the SMSC', 'max in any 1 s (sent_at)', 'mean msg/s', 'sent', 'throttled answers', 'timeouts', 'reconnects'],
      results.flatMap((r) => r.binds.map((b) => [
        r.scenario, b.bind, fmtInt(b.tpsConfigured), smscMax(r), fmtInt(b.maxPerSecond), fmtInt(b.meanPerSecond), fmtInt(b.sent),
        fmtInt(b.throttled), fmtInt(b.timeouts), fmtInt(b.reconnects),
      ])),
      2,
    ));
    out.push('');

    out.push(table(
      ['scenario', 'daemon CPU % accept / all', 'daemon event loop lag p99 / max ms', 'daemon RSS ready → peak MB', 'benchmark CPU % accept / all', 'simulator CPU %', 'simulator peak RSS MB', 'wall s'],
      results.map((r) => [
        r.scenario, `${fmtNum(r.daemon.acceptCpuPercent, 0)} / ${fmtNum(r.daemon.cpuPercent, 0)}`, `${fmtNum(r.daemon.eventLoopLagP99Ms, 0)} / ${fmtNum(r.daemon.eventLoopLagMaxMs, 0)}`,
        `${mb(r.daemon.startRssBytes)} → ${mb(r.daemon.peakRssBytes)}`, `${fmtNum(r.bench.acceptCpuPercent, 0)} / ${fmtNum(r.bench.cpuPercent, 0)}`,
        fmtNum(r.simulator.cpuPercent, 0), mb(r.simulator.peakRssBytes), fmtNum(r.wallMs / 1000, 1),
      ]),
    ));

    const throttled = results.filter((r) => r.scenario === 'throttle5');
    if (throttled.length) {
      out.push('');
      out.push(table(
        ['scenario', 'throttled answers', 'simulator throttled', 'end-to-end msg/s', 'survival vs plain'],
        throttled.map((r) => [
          r.scenario, fmtInt(r.throttledAnswers), r.simulator.stats ? fmtInt(r.simulator.stats.throttled ?? NaN) : '–',
          fmtInt(r.endToEndPerSecond), r.survival === null ? '– (plain not run)' : `${fmtNum(r.survival * 100, 0)} %`,
        ]),
      ));
    }
  }
  for (const r of imports) {
    out.push('');
    out.push(`- import: ${fmtInt(r.rows)} rows, ${fmtNum(r.fileBytes / 1024 / 1024, 1)} MB of CSV (\`name,email,phone,group,status,company\`, numbers +2416 2000000…, ${IMPORT_GROUPS} groups, \`company\` an extra column → custom_fields), one POST /api/contacts/import with an API key per pass (multipart field \`file\`, undici FormData + Blob); database after: ${r.db ? `${fmtInt(r.db.contacts)} contacts, ${fmtInt(r.db.groups)} groups, ${fmtInt(r.db.memberships)} memberships` : '–'}; daemon RSS ready ${mb(r.daemon.startRssBytes)} MB, peak (VmHWM) ${mb(r.daemon.peakRssBytes)} MB${results.length ? '' : `; ${new Date().toISOString()}`}`);
    out.push('');
    out.push(table(
      ['scenario', 'pass', 'answer', 'request s', 'rows/s', 'daemon CPU %', 'daemon event loop lag p99 / max ms', 'daemon RSS after → peak MB', 'benchmark CPU %'],
      r.passes.map((p) => [
        r.scenario,
        p.pass === 'new' ? 'new (all created)' : 'again (all updated)',
        p.answer ? `${fmtInt(p.answer.created)} created, ${fmtInt(p.answer.updated)} updated, ${fmtInt(p.answer.failed)} failed${p.ok ? '' : ` — HTTP ${p.status}, not as expected`}` : `HTTP ${p.status}, no data`,
        fmtNum(p.ms / 1000, 2),
        fmtInt(p.rowsPerSecond),
        fmtNum(p.daemonCpuPercent, 0),
        `${fmtNum(p.eventLoopLagP99Ms, 0)} / ${fmtNum(p.eventLoopLagMaxMs, 0)}`,
        `${mb(p.rssAfterBytes)} → ${mb(p.peakRssBytes)}`,
        fmtNum(p.benchCpuPercent, 0),
      ]),
      2,
    ));
    for (const p of r.passes) if (p.problem) out.push(`- import ${p.pass}: ${p.problem}`);
  }
  const failed = results.filter((r) => r.firstHttpError !== null);
  if (failed.length) {
    out.push('');
    for (const r of failed) out.push(`- ${r.scenario}: first HTTP error: ${r.firstHttpError}`);
  }
  return out.join('\n');
}

/** Milliseconds: one decimal under 10 ms (one-recipient requests answer in a few ms). */
function fmtLatency(ms: number): string {
  return Number.isFinite(ms) && ms < 10 ? fmtNum(ms, 1) : fmtInt(ms);
}

// ---- main -------------------------------------------------------------------------------

async function main(): Promise<number> {
  let opts: Options | null;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killChildren);

  const loadAtStart = os.loadavg();
  const results: ScenarioResult[] = [];
  const imports: ImportScenarioResult[] = [];
  for (const name of opts.scenarios) {
    try {
      if (name === 'import') imports.push(await runImport(opts));
      else results.push(await runScenario(name, opts));
    } catch (err) {
      if (err instanceof Interrupted) break;
      process.stderr.write(`[${name}] failed: ${(err as Error).stack ?? String(err)}\n`);
    }
    if (interrupted) break;
  }
  const plain = results.find((r) => r.scenario === 'plain');
  for (const r of results) {
    if (r.scenario === 'throttle5' && plain && plain.endToEndPerSecond > 0) r.survival = r.endToEndPerSecond / plain.endToEndPerSecond;
  }

  if (results.length || imports.length) {
    process.stdout.write(`\n${report(opts, results, imports, loadAtStart)}\n`);
    if (opts.json) process.stdout.write(`${JSON.stringify({ machine: machine(), loadAtStart, options: opts, scenarios: results, imports })}\n`);
  }
  if (interrupted) return 130;
  return results.length + imports.length === opts.scenarios.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

/**
 * The simulator's own count: the busiest SMPP session's submit_sm in any sliding second, by
 * arrival time (sessions are not told apart by bind, so every row of a scenario shows it).
 * sent_at, written by the daemon's batched ledger after the answer, bunches and can read higher.
 */
function smscMax(r: { simulator: { stats: Record<string, number> | null } }): string {
  const v = r.simulator.stats?.maxSubmitsInOneSecond;
  return typeof v === 'number' ? fmtInt(v) : '–';
}
