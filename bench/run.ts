/**
 * Relais end-to-end benchmark (loopback only; prints figures, asserts nothing).
 *
 * For each scenario: a standalone SMSC simulator process, a daemon started in this process on a
 * fresh SQLite file, N accepts through MessageService.send (the path every API dialect takes),
 * then a wait until every message is `sent` (or `delivered` with receipts). Figures come from
 * the message rows themselves (created_at, sent_at, done_at, bind).
 *
 *   npm run bench -- --messages 20000 --tps 2000 --binds 2
 *   node --import tsx bench/run.ts --messages 2000 --scenarios plain --json
 *
 * See bench/README.md for what every number means.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { configSchema } from '../src/config/schema.js';
import { startDaemon, type Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { fmtInt, fmtNum, maxInWindow, mb, percentile, procCpuSeconds, rate, spawnSimulator, table, type SimulatorProcess } from './lib.js';

// ---- options ----------------------------------------------------------------------------

const USAGE = `usage: npm run bench -- [options]     (or: node --import tsx bench/run.ts [options])
  --messages <n>     messages per scenario (default 20000)
  --tps <n>          configured TPS of each bind (default 2000)
  --binds <n>        SMPP sessions to the simulator, all on one operator (default 2)
  --window <n>       window of each bind (default 50)
  --batch <n>        recipients per accept call (default 100)
  --scenarios <list> comma-separated: plain, receipts, throttle5 (default all three)
  --timeout <s>      longest wait for the messages to arrive, per scenario (default 300)
  --log-level <l>    daemon log level on stderr (default warn; silent to mute)
  --json             also print one JSON object with every figure at the end
  --help`;

const SCENARIOS = {
  /** Receipts off: pure submit throughput. */
  plain: { receipts: false, target: 'sent', simArgs: ['--no-receipts'] },
  /** Receipts on, 100 ms after each submit: submits and deliver_sm share the sessions and the ledger. */
  receipts: { receipts: true, target: 'delivered', simArgs: ['--receipt-delay', '100'] },
  /** 5 % of submits answered ESME_RTHROTTLED: how much throughput survives the bind's back-off. */
  throttle5: { receipts: false, target: 'sent', simArgs: ['--no-receipts', '--throttle-share', '0.05'] },
} as const;
type ScenarioName = keyof typeof SCENARIOS;

interface Options {
  messages: number;
  tps: number;
  binds: number;
  window: number;
  batch: number;
  scenarios: ScenarioName[];
  timeoutS: number;
  logLevel: string;
  json: boolean;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      messages: { type: 'string', default: '20000' },
      tps: { type: 'string', default: '2000' },
      binds: { type: 'string', default: '2' },
      window: { type: 'string', default: '50' },
      batch: { type: 'string', default: '100' },
      scenarios: { type: 'string', default: 'plain,receipts,throttle5' },
      timeout: { type: 'string', default: '300' },
      'log-level': { type: 'string', default: 'warn' },
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
  for (const s of scenarios) if (!(s in SCENARIOS)) throw new Error(`unknown scenario "${s}" (${Object.keys(SCENARIOS).join(', ')})`);
  if (!scenarios.length) throw new Error('--scenarios names no scenario');
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(values['log-level'])) throw new Error(`invalid --log-level: ${values['log-level']} (${levels.join(', ')})`);
  return {
    // +24162 followed by six digits: at most a million distinct recipients.
    messages: int('messages', values.messages, 1, 1_000_000),
    tps: int('tps', values.tps, 1, 100_000),
    binds: int('binds', values.binds, 1, 64),
    window: int('window', values.window, 1, 1000),
    batch: int('batch', values.batch, 1, 100_000),
    scenarios: scenarios as ScenarioName[],
    timeoutS: int('timeout', values.timeout, 1, 24 * 3600),
    logLevel: values['log-level'],
    json: values.json,
  };
}

// ---- interruption -----------------------------------------------------------------------

/** What a scenario holds right now, so Ctrl-C can release it. */
const active: { daemon: Daemon | null; sim: SimulatorProcess | null; dir: string | null } = { daemon: null, sim: null, dir: null };
let interrupted = false;

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

function checkInterrupted(): void {
  if (interrupted) throw new Interrupted();
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) {
    // Second Ctrl-C: do not wait for the orderly stop.
    process.stderr.write(`\n${signal} again: exiting now\n`);
    active.sim?.child.kill('SIGKILL');
    if (active.dir) rmSync(active.dir, { recursive: true, force: true });
    process.exit(130);
  }
  interrupted = true;
  process.stderr.write(`\n${signal}: stopping the current scenario (again to force)\n`);
  // The orderly path (the scenario's finally) normally finishes well within this.
  setTimeout(() => {
    process.stderr.write('cleanup took too long: exiting\n');
    active.sim?.child.kill('SIGKILL');
    if (active.dir) rmSync(active.dir, { recursive: true, force: true });
    process.exit(130);
  }, 20_000).unref();
}

// ---- one scenario -----------------------------------------------------------------------

interface BindFigures {
  bind: string;
  tpsConfigured: number;
  sent: number;
  /** Most messages whose sent_at falls in any sliding 1 s window. */
  maxPerSecond: number;
  /** sent / (its last sent_at − first accept), messages per second. */
  meanPerSecond: number;
  /** Messages sent in each whole second after the first accept ([0] = first second). */
  perSecond: number[];
  throttled: number;
  submitted: number;
  timeouts: number;
  reconnects: number;
}

interface ScenarioResult {
  scenario: ScenarioName;
  target: 'sent' | 'delivered';
  messages: number;
  accepted: number;
  /** Messages that reached the target state before the wait ended. */
  reached: number;
  /** Final states other than the target (failed, expired, …): should be 0. */
  otherFinal: number;
  timedOut: boolean;
  statusCounts: Record<string, number>;
  acceptMs: number;
  acceptPerSecond: number;
  /** Accepted / time spent inside messages.send() only (dispatching excluded). */
  commitPerSecond: number;
  /** Messages with a sent_at / (last sent_at − first accept). */
  endToEndPerSecond: number;
  /** Receipts only: delivered / (last done_at − first accept). */
  receiptedPerSecond: number | null;
  configuredPerSecond: number;
  latencyMs: { sentP50: number; sentP99: number; sentMax: number; doneP50: number | null; doneP99: number | null };
  binds: BindFigures[];
  throttledAnswers: number;
  /** throttle5 only: its end-to-end rate / plain's, when plain ran in the same invocation. */
  survival: number | null;
  daemon: { startRssBytes: number; peakRssBytes: number; cpuPercent: number; eventLoopLagP99Ms: number; eventLoopLagMaxMs: number };
  simulator: { peakRssBytes: number; cpuPercent: number; stats: Record<string, number> | null };
  wallMs: number;
}

/** Probe period of the event-loop delay histogram; its samples include the period itself. */
const ELD_RESOLUTION_MS = 10;

const TEXT = 'Relais benchmark: your code is 482913. It expires in 10 minutes.';

async function runScenario(name: ScenarioName, opts: Options, log: Logger): Promise<ScenarioResult> {
  const sc = SCENARIOS[name];
  process.stderr.write(`[${name}] starting simulator and daemon\n`);
  const sim = await spawnSimulator(['--host', '127.0.0.1', '--port', '0', '--system-id', 'bench', '--password', 'bench', '--stats-interval', '60000', ...sc.simArgs]);
  active.sim = sim;
  const dir = mkdtempSync(join(os.tmpdir(), `relais-bench-${name}-`));
  active.dir = dir;

  const config = configSchema.parse({
    http: { host: '127.0.0.1', port: 0 },
    database: { path: join(dir, 'bench.db'), synchronous: 'normal' },
    numbering: { country_code: '241' },
    operators: [{
      name: 'bench',
      registered_delivery: sc.receipts,
      binds: Array.from({ length: opts.binds }, (_, i) => ({
        name: `bench-${i + 1}`, host: sim.host, port: sim.port, system_id: 'bench', password: 'bench',
        mode: 'transceiver', tps: opts.tps, window: opts.window,
      })),
    }],
    routes: [{ prefix: '+24162', operator: 'bench' }],
    dispatcher: { poll_interval_ms: 20, batch_size: 1000, max_attempts: 50, retry_initial: 1 },
    log: { level: opts.logLevel },
  });

  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const rssTimer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    if (rss > peakRss) peakRss = rss;
  }, 100);
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  const wallStart = Date.now();

  try {
    const daemon = await startDaemon(config, log);
    active.daemon = daemon;
    await waitBound(daemon, 15_000);
    checkInterrupted();

    const sqlite = daemon.store.sqlite;
    const countStmt = sqlite.prepare('SELECT status, COUNT(*) AS n FROM messages GROUP BY status');
    const counts = (): Record<string, number> =>
      Object.fromEntries((countStmt.all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));

    // -- accept phase: commit batches as fast as possible, yielding so the binds keep working
    eld.enable();
    const cpu0 = process.cpuUsage();
    const simCpu0 = procCpuSeconds(sim.child.pid);
    const t0 = Date.now();
    let sendMs = 0;
    let accepted = 0;
    for (let first = 0; first < opts.messages; first += opts.batch) {
      const recipients: string[] = [];
      const last = Math.min(opts.messages, first + opts.batch);
      for (let i = first; i < last; i++) recipients.push(`+24162${String(i).padStart(6, '0')}`);
      const s = performance.now();
      const res = daemon.messages.send({ accountId: null, sender: 'Relais', recipients, text: TEXT });
      sendMs += performance.now() - s;
      accepted += res.accepted;
      await yieldToLoop();
      checkInterrupted();
    }
    const acceptMs = Date.now() - t0;
    process.stderr.write(`[${name}] accepted ${accepted} in ${acceptMs} ms; waiting for "${sc.target}"\n`);

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
    const simCpu = procCpuSeconds(sim.child.pid) - simCpu0;
    const activeMs = Date.now() - t0;
    eld.disable();

    // -- figures from the rows, before anything stops
    const rows = sqlite.prepare('SELECT bind, created_at, sent_at, done_at, status FROM messages WHERE sent_at IS NOT NULL').all() as {
      bind: string | null; created_at: number; sent_at: number; done_at: number | null; status: string;
    }[];
    const counters = daemon.binds.map((b) => ({ name: b.name, tps: b.cfg.tps, ...b.counters }));
    const simPeak = sim.peakRss();

    active.daemon = null;
    await stopDaemon(daemon, 15_000);
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
      messages: opts.messages,
      accepted,
      reached,
      otherFinal: otherFinalStates.reduce((n, s) => n + (statusCounts[s] ?? 0), 0),
      timedOut,
      statusCounts,
      acceptMs,
      acceptPerSecond: rate(accepted, acceptMs),
      commitPerSecond: rate(accepted, sendMs),
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
        peakRssBytes: peakRss,
        cpuPercent: ((cpu.user + cpu.system) / 1000 / activeMs) * 100,
        eventLoopLagP99Ms: Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS),
        eventLoopLagMaxMs: Math.max(0, eld.max / 1e6 - ELD_RESOLUTION_MS),
      },
      simulator: { peakRssBytes: simPeak, cpuPercent: (simCpu * 1000 / activeMs) * 100, stats: simStats },
      wallMs: Date.now() - wallStart,
    };
  } finally {
    clearInterval(rssTimer);
    eld.disable();
    await releaseActive();
  }
}

/** Stop whatever the current scenario still holds (after an error or Ctrl-C). */
async function releaseActive(): Promise<void> {
  const { daemon, sim, dir } = active;
  active.daemon = null;
  active.sim = null;
  active.dir = null;
  if (daemon) {
    await stopDaemon(daemon, interrupted ? 3000 : 15_000);
  }
  if (sim) await sim.stop().catch(() => null);
  if (dir) rmSync(dir, { recursive: true, force: true });
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

/**
 * An orderly stop drains every claimed message through the binds' pacing: after Ctrl-C, a
 * timeout or with a throttled (paused) bind that can take long, so it is bounded. A daemon left
 * draining loses its links when its simulator is killed right after, and winds down by itself.
 */
async function stopDaemon(daemon: Daemon, boundMs: number): Promise<void> {
  const stopped = await Promise.race([
    daemon.stop().then(() => true, (err: unknown) => { process.stderr.write(`daemon stop failed: ${String(err)}\n`); return true; }),
    sleep(boundMs).then(() => false),
  ]);
  if (!stopped) process.stderr.write(`daemon still draining after ${boundMs} ms: left behind\n`);
}

async function waitBound(daemon: Daemon, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!daemon.binds.every((b) => b.state === 'bound')) {
    if (Date.now() > deadline) {
      throw new Error(`binds not bound after ${timeoutMs} ms: ${daemon.binds.map((b) => `${b.name}=${b.state}${b.lastError ? ` (${b.lastError})` : ''}`).join(', ')}`);
    }
    checkInterrupted();
    await sleep(10);
  }
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

function report(opts: Options, results: ScenarioResult[]): string {
  const m = machine();
  const out: string[] = [];
  out.push('## Relais benchmark');
  out.push('');
  out.push(`- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, node ${m.node}, ${m.platform}`);
  out.push(`- run: ${fmtInt(opts.messages)} messages per scenario, ${opts.binds} bind(s) × ${fmtInt(opts.tps)} TPS (window ${opts.window}) on one operator = ${fmtInt(opts.tps * opts.binds)} msg/s configured; accept batches of ${opts.batch}; ${new Date().toISOString()}`);
  out.push('');

  out.push(table(
    ['scenario', 'reached', 'accept msg/s', 'commit-only msg/s', 'end-to-end msg/s', '% of configured', 'receipted msg/s', 'sent−created p50 / p99 ms', 'done−created p50 / p99 ms'],
    results.map((r) => [
      r.scenario,
      `${fmtInt(r.reached)}/${fmtInt(r.accepted)} ${r.target}${r.timedOut ? ' (timeout)' : ''}${r.otherFinal ? `, ${fmtInt(r.otherFinal)} other final` : ''}`,
      fmtInt(r.acceptPerSecond),
      fmtInt(r.commitPerSecond),
      fmtInt(r.endToEndPerSecond),
      `${fmtNum((r.endToEndPerSecond / r.configuredPerSecond) * 100, 0)} %`,
      r.receiptedPerSecond === null ? '–' : fmtInt(r.receiptedPerSecond),
      `${fmtInt(r.latencyMs.sentP50)} / ${fmtInt(r.latencyMs.sentP99)}`,
      r.latencyMs.doneP50 === null ? '–' : `${fmtInt(r.latencyMs.doneP50)} / ${fmtInt(r.latencyMs.doneP99 ?? NaN)}`,
    ]),
  ));
  out.push('');

  out.push(table(
    ['scenario', 'bind', 'TPS configured', 'max in any 1 s', 'mean msg/s', 'sent', 'throttled answers', 'timeouts', 'reconnects'],
    results.flatMap((r) => r.binds.map((b) => [
      r.scenario, b.bind, fmtInt(b.tpsConfigured), fmtInt(b.maxPerSecond), fmtInt(b.meanPerSecond), fmtInt(b.sent),
      fmtInt(b.throttled), fmtInt(b.timeouts), fmtInt(b.reconnects),
    ])),
    2,
  ));
  out.push('');

  out.push(table(
    ['scenario', 'daemon CPU %', 'event loop lag p99 / max ms', 'process RSS at start → peak MB', 'simulator CPU %', 'simulator peak RSS MB', 'wall s'],
    results.map((r) => [
      r.scenario, fmtNum(r.daemon.cpuPercent, 0), `${fmtNum(r.daemon.eventLoopLagP99Ms, 0)} / ${fmtNum(r.daemon.eventLoopLagMaxMs, 0)}`,
      `${mb(r.daemon.startRssBytes)} → ${mb(r.daemon.peakRssBytes)}`, fmtNum(r.simulator.cpuPercent, 0), mb(r.simulator.peakRssBytes), fmtNum(r.wallMs / 1000, 1),
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
  return out.join('\n');
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

  const log = createLogger(opts.logLevel, process.stderr);
  const results: ScenarioResult[] = [];
  for (const name of opts.scenarios) {
    try {
      results.push(await runScenario(name, opts, log));
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

  if (results.length) {
    process.stdout.write(`\n${report(opts, results)}\n`);
    if (opts.json) process.stdout.write(`${JSON.stringify({ machine: machine(), options: opts, scenarios: results })}\n`);
  }
  if (interrupted) return 130;
  return results.length === opts.scenarios.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
