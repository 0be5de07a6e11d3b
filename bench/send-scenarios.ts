/**
 * The message scenarios (plain, single, receipts, throttle5): accept messages through
 * POST /api/messages/send as an integrator does, wait until every one is `sent` (or `delivered`),
 * and take the figures from the message rows themselves (created_at, sent_at, done_at, bind).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import type { SentRow } from '../src/store/inspect.js';
import { callOk, scrapeLag } from './http.js';
import type { MessageScenario, Options } from './options.js';
import { procCpuSeconds, procMemory, type DaemonProcess } from './processes.js';
import { checkInterrupted, closePool, closeReader, isInterrupted, openPool, openReader, releaseActive, startStack, stopStack, type Stack } from './setup.js';
import { cpuPercent, maxInWindow, ownCpuPercent, percentile, perSecond, rate } from './stats.js';

export const SCENARIOS = {
  /** Receipts off: pure submit throughput. */
  plain: { receipts: false, target: 'sent', simArgs: ['--no-receipts'], oneByOne: false },
  /** plain with one recipient per request: how an integrator sending one SMS per call sees it. */
  single: { receipts: false, target: 'sent', simArgs: ['--no-receipts'], oneByOne: true },
  /** Receipts on, 100 ms after each submit: submits and deliver_sm share the sessions and the ledger. */
  receipts: { receipts: true, target: 'delivered', simArgs: ['--receipt-delay', '100'], oneByOne: false },
  /** 5 % of submits answered ESME_RTHROTTLED: how much throughput survives the bind's back-off. */
  throttle5: { receipts: false, target: 'sent', simArgs: ['--no-receipts', '--throttle-share', '0.05'], oneByOne: false },
} as const satisfies Record<MessageScenario, { receipts: boolean; target: 'sent' | 'delivered'; simArgs: readonly string[]; oneByOne: boolean }>;

/** Default price of one part (operator price_per_part); the bench text is one part. */
export const PRICE_PER_PART = 20;

const TEXT = 'Relais benchmark: your code is 482913. It expires in 10 minutes.';

/** Final states other than the targets: a message there will not reach the target any more. */
const OTHER_FINAL_STATES = ['failed', 'expired', 'rejected', 'undelivered'];

export interface BindFigures {
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

export interface ScenarioResult {
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

/** throttle5's end-to-end rate as a share of plain's, when both ran. */
export function setSurvival(results: ScenarioResult[]): void {
  const plain = results.find((r) => r.scenario === 'plain');
  for (const r of results) {
    if (r.scenario === 'throttle5' && plain && plain.endToEndPerSecond > 0) r.survival = r.endToEndPerSecond / plain.endToEndPerSecond;
  }
}

export async function runScenario(name: MessageScenario, opts: Options): Promise<ScenarioResult> {
  const sc = SCENARIOS[name];
  const messages = sc.oneByOne ? Math.min(opts.messages, opts.singleMessages) : opts.messages;
  const batch = sc.oneByOne ? 1 : opts.batch;
  const wallStart = Date.now();
  process.stderr.write(`[${name}] starting simulator and daemon\n`);
  try {
    const stack = await startStack(name, opts, { receipts: sc.receipts, simArgs: sc.simArgs, credits: messages * PRICE_PER_PART * 10 });
    const run = await measure(name, opts, stack, messages, batch);
    return { ...figures(name, opts, run, messages, batch), wallMs: Date.now() - wallStart };
  } finally {
    await releaseActive();
  }
}

// ---- the run --------------------------------------------------------------------------------

/** The raw measurements of one run, before anything is derived from them. */
interface Run {
  requests: SendRequests;
  accept: AcceptOutcome;
  wait: { statusCounts: Record<string, number>; timedOut: boolean };
  clock: Clock;
  acceptUsage: Usage;
  usage: Usage;
  /** Accept + wait: from the first request until the wait ended. */
  activeMs: number;
  lag: { p99Ms: number; maxMs: number };
  rows: SentRow[];
  counters: BindCounters[];
  startRss: number;
  daemonPeak: number;
  simPeak: number;
  exit: string;
  simStats: Record<string, number> | null;
}

interface SendRequests {
  bodies: string[];
  /** Recipients in each body. */
  sizes: number[];
}


type BindCounters = { name: string; tps: number; throttled: number; submitted: number; timeouts: number; reconnects: number };

/** Accept, wait, read the rows and counters, stop the stack: everything measured, in that order. */
async function measure(name: MessageScenario, opts: Options, stack: Stack, messages: number, batch: number): Promise<Run> {
  const { sim, daemon, admin } = stack;
  // WAL: this read-only connection reads while the daemon writes.
  const reader = openReader(stack.dbPath);
  const counts = () => reader.statusCounts();

  // Request bodies are built before the clock starts: the client's own work stays out of the figures.
  const requests = sendRequests(messages, batch);
  const pool = openPool(stack.base, { connections: opts.concurrency, pipelining: 1 });
  const startRss = procMemory(daemon.pid).rssBytes;
  // Scraping /metrics resets the daemon's event-loop delay histogram: the next scrape covers the run.
  await scrapeLag(admin);

  // -- accept phase: --concurrency requests in flight, each answered before the worker sends the next
  const clock = startClock(daemon.pid, sim.child.pid);
  const accept = await acceptPhase(name, pool, stack.apiKey, requests, opts.concurrency, clock.p0);
  const acceptUsage = clock.usage();
  checkInterrupted();
  await closePool(pool);
  process.stderr.write(`[${name}] accepted ${accept.accepted} in ${Math.round(accept.acceptMs)} ms (${requests.bodies.length} requests, ${accept.httpErrors} errors); waiting for "${SCENARIOS[name].target}"\n`);

  const wait = await waitPhase(name, SCENARIOS[name].target, accept.accepted, counts, daemon, opts.timeoutS);
  const usage = clock.usage();
  const activeMs = Date.now() - clock.t0;
  const lag = await scrapeLag(admin);

  // -- figures from the rows and the daemon's counters, before anything stops
  const rows = reader.sentRows();
  closeReader(reader);
  const counters = await bindCounters(admin, stack.token);
  const daemonPeak = procMemory(daemon.pid).peakBytes;
  const simPeak = sim.peakRss();
  const { exit, simStats } = await stopStack(stack);
  return { requests, accept, wait, clock, acceptUsage, usage, activeMs, lag, rows, counters, startRss, daemonPeak, simPeak, exit, simStats };
}

/** One JSON body per batch of recipients +24162000000… */
function sendRequests(messages: number, batch: number): SendRequests {
  const bodies: string[] = [];
  const sizes: number[] = [];
  for (let first = 0; first < messages; first += batch) {
    const recipients: string[] = [];
    const last = Math.min(messages, first + batch);
    for (let i = first; i < last; i++) recipients.push(`+24162${String(i).padStart(6, '0')}`);
    bodies.push(JSON.stringify({ recipients, message: TEXT }));
    sizes.push(recipients.length);
  }
  return { bodies, sizes };
}

/** Wall and CPU time of the three processes since the first request. */
interface Clock {
  /** Date.now() at the first request (t0: the rows' timestamps are epoch ms). */
  t0: number;
  /** performance.now() at the first request. */
  p0: number;
  usage(): Usage;
}

interface Usage {
  /** performance.now() − p0. */
  wallMs: number;
  ownCpu: NodeJS.CpuUsage;
  daemonCpuSeconds: number;
  simCpuSeconds: number;
}

function startClock(daemonPid: number, simPid: number | undefined): Clock {
  const cpu0 = process.cpuUsage();
  const daemonCpu0 = procCpuSeconds(daemonPid);
  const simCpu0 = procCpuSeconds(simPid);
  const t0 = Date.now();
  const p0 = performance.now();
  return {
    t0,
    p0,
    usage: () => ({
      daemonCpuSeconds: procCpuSeconds(daemonPid) - daemonCpu0,
      ownCpu: process.cpuUsage(cpu0),
      simCpuSeconds: procCpuSeconds(simPid) - simCpu0,
      wallMs: performance.now() - p0,
    }),
  };
}

interface AcceptOutcome {
  accepted: number;
  httpErrors: number;
  firstHttpError: string | null;
  /** Per answered request, ms, in answer order. */
  httpLatency: number[];
  /** Last answer − first request. */
  acceptMs: number;
}

/** Every request sent by `concurrency` workers, each waiting for its answer before the next. */
async function acceptPhase(name: string, pool: Pool, apiKey: string, requests: SendRequests, concurrency: number, p0: number): Promise<AcceptOutcome> {
  const { bodies, sizes } = requests;
  const sendHeaders = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json' };
  const out: AcceptOutcome = { accepted: 0, httpErrors: 0, firstHttpError: null, httpLatency: [], acceptMs: 0 };
  let lastAnswer = p0;
  let next = 0;
  const fail = (what: string) => {
    out.httpErrors += 1;
    if (out.firstHttpError === null) {
      out.firstHttpError = what;
      process.stderr.write(`[${name}] first HTTP error: ${what}\n`);
    }
  };
  const worker = async (): Promise<void> => {
    while (!isInterrupted()) {
      const i = next++;
      if (i >= bodies.length) return;
      const s = performance.now();
      try {
        const res = await pool.request({ method: 'POST', path: '/api/messages/send', headers: sendHeaders, body: bodies[i]! });
        const text = await res.body.text();
        const now = performance.now();
        out.httpLatency.push(now - s);
        if (now > lastAnswer) lastAnswer = now;
        const sent = res.statusCode === 200 ? sentCount(text) : NaN;
        if (Number.isFinite(sent)) out.accepted += sent;
        if (res.statusCode !== 200 || sent !== sizes[i]) fail(`HTTP ${res.statusCode} (data.sent ${sent}, expected ${sizes[i]}): ${text.slice(0, 500)}`);
      } catch (err) {
        lastAnswer = Math.max(lastAnswer, performance.now());
        fail(`request failed: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, worker));
  out.acceptMs = lastAnswer - p0;
  return out;
}

/** data.sent of a send answer; NaN when it has none. */
function sentCount(text: string): number {
  try {
    return Number(JSON.parse(text)?.data?.sent);
  } catch {
    return NaN;
  }
}

/** COUNT every 100 ms until every accepted message is final enough, bounded by --timeout. */
async function waitPhase(name: string, target: string, accepted: number, counts: () => Record<string, number>, daemon: DaemonProcess, timeoutS: number): Promise<{ statusCounts: Record<string, number>; timedOut: boolean }> {
  const deadline = Date.now() + timeoutS * 1000;
  let statusCounts = counts();
  let lastProgress = Date.now();
  for (;;) {
    const reached = statusCounts[target] ?? 0;
    if (reached + otherFinal(statusCounts) >= accepted) return { statusCounts, timedOut: false };
    if (daemon.hasExited()) throw new Error(`the daemon exited during the run\n${daemon.outputTail()}`);
    if (Date.now() >= deadline) return { statusCounts, timedOut: true };
    if (Date.now() - lastProgress >= 5000) {
      lastProgress = Date.now();
      process.stderr.write(`[${name}] ${JSON.stringify(statusCounts)}\n`);
    }
    await sleep(100);
    checkInterrupted();
    statusCounts = counts();
  }
}

function otherFinal(statusCounts: Record<string, number>): number {
  return OTHER_FINAL_STATES.reduce((n, s) => n + (statusCounts[s] ?? 0), 0);
}

async function bindCounters(admin: Pool, token: string): Promise<BindCounters[]> {
  const bindList = (await callOk(admin, 'GET', '/api/admin/binds', token)).data as { name: string; tps: number; counters: Record<string, number> }[];
  return bindList.map((b) => ({ name: b.name, tps: b.tps, ...(b.counters as { throttled: number; submitted: number; timeouts: number; reconnects: number }) }));
}

// ---- the figures ----------------------------------------------------------------------------

/** What the rows say: latencies (sorted), the last sent_at / done_at, sent_at per bind. */
function rowFigures(rows: readonly SentRow[]) {
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
  return { lastSent, lastDone, sentLatency, doneLatency, perBind };
}

function bindFigures(counters: readonly BindCounters[], perBind: Map<string, number[]>, t0: number): BindFigures[] {
  return counters.map((c) => {
    const times = (perBind.get(c.name) ?? []).sort((a, b) => a - b);
    const lastAt = times.length ? (times[times.length - 1] as number) : t0;
    return {
      bind: c.name, tpsConfigured: c.tps, sent: times.length,
      maxPerSecond: maxInWindow(times, 1000), meanPerSecond: rate(times.length, lastAt - t0), perSecond: perSecond(times, t0),
      throttled: c.throttled, submitted: c.submitted, timeouts: c.timeouts, reconnects: c.reconnects,
    };
  });
}

function figures(name: MessageScenario, opts: Options, run: Run, messages: number, batch: number): Omit<ScenarioResult, 'wallMs'> {
  const sc = SCENARIOS[name];
  const { accept, wait, clock, acceptUsage, usage, activeMs } = run;
  const { lastSent, lastDone, sentLatency, doneLatency, perBind } = rowFigures(run.rows);
  const httpLatency = accept.httpLatency.sort((a, b) => a - b);
  return {
    scenario: name,
    target: sc.target,
    messages,
    batch,
    requests: run.requests.bodies.length,
    httpErrors: accept.httpErrors,
    firstHttpError: accept.firstHttpError,
    accepted: accept.accepted,
    reached: wait.statusCounts[sc.target] ?? 0,
    otherFinal: otherFinal(wait.statusCounts),
    timedOut: wait.timedOut,
    statusCounts: wait.statusCounts,
    acceptMs: accept.acceptMs,
    acceptPerSecond: rate(accept.accepted, accept.acceptMs),
    requestsPerSecond: rate(httpLatency.length, accept.acceptMs),
    httpLatencyMs: { p50: percentile(httpLatency, 50), p99: percentile(httpLatency, 99), max: httpLatency[httpLatency.length - 1] ?? NaN },
    endToEndPerSecond: rate(run.rows.length, lastSent - clock.t0),
    receiptedPerSecond: sc.receipts ? rate(doneLatency.length, lastDone - clock.t0) : null,
    configuredPerSecond: opts.tps * opts.binds,
    latencyMs: {
      sentP50: percentile(sentLatency, 50), sentP99: percentile(sentLatency, 99), sentMax: sentLatency[sentLatency.length - 1] ?? NaN,
      doneP50: sc.receipts ? percentile(doneLatency, 50) : null, doneP99: sc.receipts ? percentile(doneLatency, 99) : null,
    },
    binds: bindFigures(run.counters, perBind, clock.t0),
    throttledAnswers: run.counters.reduce((n, c) => n + c.throttled, 0),
    survival: null,
    daemon: {
      startRssBytes: run.startRss,
      peakRssBytes: run.daemonPeak,
      acceptCpuPercent: cpuPercent(acceptUsage.daemonCpuSeconds, acceptUsage.wallMs),
      cpuPercent: cpuPercent(usage.daemonCpuSeconds, activeMs),
      eventLoopLagP99Ms: run.lag.p99Ms,
      eventLoopLagMaxMs: run.lag.maxMs,
      exit: run.exit,
    },
    bench: { acceptCpuPercent: ownCpuPercent(acceptUsage.ownCpu, acceptUsage.wallMs), cpuPercent: ownCpuPercent(usage.ownCpu, activeMs) },
    simulator: { peakRssBytes: run.simPeak, cpuPercent: cpuPercent(usage.simCpuSeconds, activeMs), stats: run.simStats },
  };
}
