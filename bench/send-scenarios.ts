/**
 * The message scenarios: accept messages through POST /api/messages/send as an integrator does,
 * wait until every one is `sent` (or `delivered`, or its message.delivered callback arrived), and
 * take the figures from the message rows themselves (created_at, sent_at, done_at, bind) and from
 * the SMSC's own arrival times. The `accepted` ones (probe, queue1m) measure the accept phase only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import type { SentRow } from '../src/store/inspect.js';
import type { Backend } from './database.js';
import { call, callOk, scrapeLag } from './http.js';
import { startProbe, type ProbeFigures } from './latency-probe.js';
import type { MessageScenario, Options } from './options.js';
import { procCpuSeconds, procMemory, type DaemonProcess } from './processes.js';
import { checkInterrupted, closePool, closeReader, flagBinds, isInterrupted, openPool, openReader, releaseActive, startStack, stopStack, type BindSetup, type SmscSetup, type Stack } from './setup.js';
import { cpuPercent, maxInWindow, ownCpuPercent, percentile, perSecond, rate } from './stats.js';
import { startReceiver, type CallbackFigures, type Receiver } from './webhook-receiver.js';

/** What a message scenario must reach before its figures are taken; `accepted`: the accept phase is all it measures. */
export type Target = 'sent' | 'delivered' | 'accepted';

export interface ScenarioDef {
  /** The operator asks for delivery receipts (registered_delivery). */
  receipts: boolean;
  target: Target;
  /** The simulator's receipts and faults; null: the SMSC is down (nothing listens where the binds point). */
  smsc: SmscSetup | null;
  /** The scenario's own binds; null: --binds × --tps, --window. */
  binds: BindSetup | null;
  messages(opts: Options): number;
  /** Recipients per request. */
  batch(opts: Options): number;
  /** Requests in flight during the accept phase, each on its own connection. */
  concurrency(opts: Options): number;
  /** An account webhook subscribed to message.delivered, pointing at the benchmark's receiver. */
  webhook: boolean;
  /** Light requests (GET /api/balance, one at a time) during the accept phase. */
  probe: boolean;
}

const NO_RECEIPTS: SmscSetup = { receipts: false };
const RECEIPTS_100MS: SmscSetup = { receipts: true, receiptDelayMs: 100 };
const THROTTLE_5: SmscSetup = { receipts: false, faults: { throttleShare: 0.05 } };
/** The API takes at most this many recipients per request. */
const BIG_BATCH = 10_000;

function scenario(def: Partial<ScenarioDef>): ScenarioDef {
  return {
    receipts: false, target: 'sent', smsc: NO_RECEIPTS, binds: null, webhook: false, probe: false,
    messages: (o) => o.messages, batch: (o) => o.batch, concurrency: (o) => o.concurrency,
    ...def,
  };
}

export const SCENARIOS: Record<MessageScenario, ScenarioDef> = {
  /** Receipts off: pure submit throughput. */
  plain: scenario({}),
  /** plain with one recipient per request: how an integrator sending one SMS per call sees it. */
  single: scenario({ messages: (o) => Math.min(o.messages, o.singleMessages), batch: () => 1 }),
  /** Receipts on, 100 ms after each submit: submits and deliver_sm share the sessions and the ledger. */
  receipts: scenario({ receipts: true, target: 'delivered', smsc: RECEIPTS_100MS }),
  /** 5 % of submits answered ESME_RTHROTTLED: how much throughput survives the bind's back-off. */
  throttle5: scenario({ smsc: THROTTLE_5 }),
  /** receipts, and each one's message.delivered POSTed to the benchmark's receiver (an account webhook). */
  webhooks: scenario({ receipts: true, target: 'delivered', smsc: RECEIPTS_100MS, webhook: true, messages: (o) => o.webhookMessages }),
  /** plain with binds far above what the gateway can carry: the gateway, not the pacing, is the limit. */
  bulk: scenario({ binds: { count: 2, tps: 50_000, window: 100 }, messages: (o) => o.bulkMessages }),
  /** 10 000-recipient requests back to back from --big-clients clients, and a light request's wait meanwhile. */
  probe: scenario({ target: 'accepted', probe: true, messages: (o) => o.probeMessages, batch: () => BIG_BATCH, concurrency: (o) => o.bigClients }),
  /** One bind capped at 500 TPS (window 10): does it hold the cap as the SMSC counts it, and how close does it come. */
  tps500: scenario({ binds: { count: 1, tps: 500, window: 10 }, messages: () => 5000 }),
  /** One bind (2 000 TPS, window 10), 5 % of submits throttled at random: how long 1 000 messages take. */
  throttle1k: scenario({ smsc: THROTTLE_5, binds: { count: 1, tps: 2000, window: 10 }, messages: () => 1000 }),
  /** A million messages accepted while the SMSC is down: what the queue costs in memory. */
  queue1m: scenario({ target: 'accepted', smsc: null, messages: (o) => o.queueMessages, batch: () => BIG_BATCH, concurrency: (o) => o.bigClients }),
};

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

/** What the SMSC saw (bench/smsc.ts: its own clock, epoch ms, the same as t0's). */
export interface SmscFigures {
  /** submit_sm answered ESME_ROK. */
  accepted: number;
  /** accepted / (last accepted arrival − first request): end to end, as the SMSC received them. */
  perSecond: number;
  /** (accepted − 1) / (last − first accepted arrival): the rate once the first one arrived. */
  steadyPerSecond: number;
  /** First request → last accepted arrival. */
  lastAfterMs: number;
  /** Most submit_sm (any answer) in any sliding second, every session together. */
  maxInOneSecond: number;
}

/** message.delivered callbacks the receiver got, and their rates. */
export interface CallbackResult extends CallbackFigures {
  /** (delivered − 1) / (last − first arrival). */
  perSecond: number;
  /** delivered / (last arrival − first request). */
  totalPerSecond: number;
}

export interface ScenarioResult {
  scenario: MessageScenario;
  target: Target;
  messages: number;
  /** Recipients per request. */
  batch: number;
  /** Requests in flight during the accept phase. */
  concurrency: number;
  /** The binds it ran with (the flags', or the scenario's own). */
  bindSetup: BindSetup;
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
  /** null when the SMSC was down or gave no figures. */
  smsc: SmscFigures | null;
  /** webhooks only. */
  callbacks: CallbackResult | null;
  /** probe only: GET /api/balance during the accept phase. */
  light: ProbeFigures | null;
  binds: BindFigures[];
  throttledAnswers: number;
  /** throttle5 only: its end-to-end rate / plain's, when plain ran in the same invocation. */
  survival: number | null;
  /** CPU %: over the accept phase (first request → all answered), and over accept + wait. 100 % = one core. */
  daemon: {
    startRssBytes: number; peakRssBytes: number; acceptCpuPercent: number; cpuPercent: number; eventLoopLagP99Ms: number; eventLoopLagMaxMs: number; exit: string;
    /** CPU time (user + system, all threads) per accepted message, µs: over the accept phase, and over accept + wait. */
    acceptCpuPerMessageUs: number; cpuPerMessageUs: number;
  };
  bench: { acceptCpuPercent: number; cpuPercent: number };
  simulator: { peakRssBytes: number; cpuPercent: number; stats: Record<string, number> | null };
  /** The backend, and the PostgreSQL server's CPU % over accept, accept + wait (NaN on SQLite, or a server not on this machine). */
  database: { backend: Backend; acceptCpuPercent: number; cpuPercent: number };
  wallMs: number;
}

/** throttle5's end-to-end rate as a share of plain's, when both ran. */
export function setSurvival(results: ScenarioResult[]): void {
  const plain = results.find((r) => r.scenario === 'plain');
  for (const r of results) {
    if (r.scenario === 'throttle5' && plain && plain.endToEndPerSecond > 0) r.survival = r.endToEndPerSecond / plain.endToEndPerSecond;
  }
}

/** How one scenario runs with these flags. */
interface Plan {
  name: MessageScenario;
  def: ScenarioDef;
  messages: number;
  batch: number;
  concurrency: number;
  binds: BindSetup;
}

export async function runScenario(name: MessageScenario, opts: Options): Promise<ScenarioResult> {
  const def = SCENARIOS[name];
  const plan: Plan = { name, def, messages: def.messages(opts), batch: def.batch(opts), concurrency: def.concurrency(opts), binds: def.binds ?? flagBinds(opts) };
  const wallStart = Date.now();
  process.stderr.write(`[${name}] starting ${def.smsc ? 'simulator and daemon' : 'the daemon (no SMSC)'}\n`);
  try {
    const stack = await startStack(name, opts, { receipts: def.receipts, smsc: def.smsc, binds: plan.binds, credits: plan.messages * PRICE_PER_PART * 10, loopbackWebhooks: def.webhook });
    const run = await measure(plan, opts, stack);
    return { ...figures(plan, run), wallMs: Date.now() - wallStart };
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
  callbacks: CallbackFigures | null;
  light: ProbeFigures | null;
  backend: Backend;
}

interface SendRequests {
  bodies: string[];
  /** Recipients in each body. */
  sizes: number[];
}


type BindCounters = { name: string; tps: number; throttled: number; submitted: number; timeouts: number; reconnects: number };

/** Accept, wait, read the rows and counters, stop the stack: everything measured, in that order. */
async function measure(plan: Plan, opts: Options, stack: Stack): Promise<Run> {
  const { name, def } = plan;
  const { sim, daemon, admin } = stack;
  // SQLite in WAL: this read-only connection reads while the daemon writes.
  const reader = await openReader(stack.database);
  const counts = () => reader.statusCounts();
  const receiver = def.webhook ? await subscribeReceiver(stack) : null;
  try {
    // Request bodies are built before the clock starts: the client's own work stays out of the figures.
    const requests = sendRequests(plan.messages, plan.batch);
    const pool = openPool(stack.base, { connections: plan.concurrency, pipelining: 1 });
    const startRss = procMemory(daemon.pid).rssBytes;
    // Scraping /metrics resets the daemon's event-loop delay histogram: the next scrape covers the run.
    await scrapeLag(admin);

    // -- accept phase: `concurrency` requests in flight, each answered before the worker sends the next
    const probe = def.probe ? startProbe(stack.base, stack.apiKey) : null;
    const clock = startClock(daemon.pid, sim?.child.pid, () => reader.serverCpuSeconds());
    const accept = await acceptPhase(name, pool, stack.apiKey, requests, plan.concurrency, clock.p0);
    const acceptUsage = clock.usage();
    const light = probe ? await probe.stop() : null;
    checkInterrupted();
    await closePool(pool);
    process.stderr.write(`[${name}] accepted ${accept.accepted} in ${Math.round(accept.acceptMs)} ms (${requests.bodies.length} requests, ${accept.httpErrors} errors)${def.target === 'accepted' ? '' : `; waiting for "${def.target}"${receiver ? ' and its callback' : ''}`}\n`);

    const wait = def.target === 'accepted'
      ? { statusCounts: await counts(), timedOut: false }
      : await waitPhase(name, def.target, accept.accepted, counts, receiver, daemon, opts.timeoutS);
    const usage = clock.usage();
    const activeMs = Date.now() - clock.t0;
    const lag = await scrapeLag(admin);
    const callbacks = receiver ? await receiver.stop() : null;

    // -- figures from the rows and the daemon's counters, before anything stops
    const rows = await reader.sentRows();
    await closeReader(reader);
    // A daemon that stopped answering still gets its row: what was reached, marked (timeout).
    const counters = await bindCounters(admin, stack.token).catch((err: unknown) => {
      process.stderr.write(`[${name}] GET /api/admin/binds failed (${(err as Error).message}): no per-bind counters\n`);
      return [];
    });
    const daemonPeak = procMemory(daemon.pid).peakBytes;
    const simPeak = sim ? sim.peakRss() : NaN;
    const { exit, simStats } = await stopStack(stack);
    return { requests, accept, wait, clock, acceptUsage, usage, activeMs, lag, rows, counters, startRss, daemonPeak, simPeak, exit, simStats, callbacks, light, backend: stack.database.backend };
  } finally {
    await receiver?.stop();
  }
}

/** The benchmark's receiver, and an account webhook (POST /api/webhooks, the API key) sending it message.delivered. */
async function subscribeReceiver(stack: Stack): Promise<Receiver> {
  const receiver = await startReceiver();
  const r = await call(stack.admin, 'POST', '/api/webhooks', stack.apiKey, { name: 'bench', url: receiver.url, events: ['message.delivered'], retry_limit: 3, timeout: 10 });
  if (r.status !== 201) {
    await receiver.stop();
    throw new Error(`POST /api/webhooks: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  }
  return receiver;
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
  /** The PostgreSQL server's, when it runs here (NaN on SQLite: it works inside the daemon). */
  dbCpuSeconds: number;
}

function startClock(daemonPid: number, simPid: number | undefined, dbCpuSeconds: () => number): Clock {
  const cpu0 = process.cpuUsage();
  const daemonCpu0 = procCpuSeconds(daemonPid);
  const simCpu0 = procCpuSeconds(simPid);
  const dbCpu0 = dbCpuSeconds();
  const t0 = Date.now();
  const p0 = performance.now();
  return {
    t0,
    p0,
    usage: () => ({
      daemonCpuSeconds: procCpuSeconds(daemonPid) - daemonCpu0,
      ownCpu: process.cpuUsage(cpu0),
      simCpuSeconds: procCpuSeconds(simPid) - simCpu0,
      dbCpuSeconds: dbCpuSeconds() - dbCpu0,
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

/**
 * COUNT every 100 ms until every accepted message is final enough (and, with a receiver, until a
 * callback came for each one delivered), bounded by --timeout.
 */
async function waitPhase(name: string, target: 'sent' | 'delivered', accepted: number, counts: () => Promise<Record<string, number>>, receiver: Receiver | null, daemon: DaemonProcess, timeoutS: number): Promise<{ statusCounts: Record<string, number>; timedOut: boolean }> {
  const deadline = Date.now() + timeoutS * 1000;
  let statusCounts = await counts();
  let lastProgress = Date.now();
  for (;;) {
    const reached = statusCounts[target] ?? 0;
    if (reached + otherFinal(statusCounts) >= accepted && (!receiver || receiver.delivered() >= reached)) return { statusCounts, timedOut: false };
    if (daemon.hasExited()) throw new Error(`the daemon exited during the run\n${daemon.outputTail()}`);
    if (Date.now() >= deadline) return { statusCounts, timedOut: true };
    if (Date.now() - lastProgress >= 5000) {
      lastProgress = Date.now();
      process.stderr.write(`[${name}] ${JSON.stringify(statusCounts)}${receiver ? `, callbacks ${receiver.delivered()}` : ''}\n`);
    }
    await sleep(100);
    checkInterrupted();
    statusCounts = await counts();
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

function figures(plan: Plan, run: Run): Omit<ScenarioResult, 'wallMs'> {
  const { def } = plan;
  const { accept, wait, clock, acceptUsage, usage, activeMs } = run;
  const { lastSent, lastDone, sentLatency, doneLatency, perBind } = rowFigures(run.rows);
  const httpLatency = accept.httpLatency.sort((a, b) => a - b);
  return {
    scenario: plan.name,
    target: def.target,
    messages: plan.messages,
    batch: plan.batch,
    concurrency: plan.concurrency,
    bindSetup: plan.binds,
    requests: run.requests.bodies.length,
    httpErrors: accept.httpErrors,
    firstHttpError: accept.firstHttpError,
    accepted: accept.accepted,
    reached: def.target === 'accepted' ? accept.accepted : (wait.statusCounts[def.target] ?? 0),
    otherFinal: otherFinal(wait.statusCounts),
    timedOut: wait.timedOut,
    statusCounts: wait.statusCounts,
    acceptMs: accept.acceptMs,
    acceptPerSecond: rate(accept.accepted, accept.acceptMs),
    requestsPerSecond: rate(httpLatency.length, accept.acceptMs),
    httpLatencyMs: { p50: percentile(httpLatency, 50), p99: percentile(httpLatency, 99), max: httpLatency[httpLatency.length - 1] ?? NaN },
    endToEndPerSecond: rate(run.rows.length, lastSent - clock.t0),
    receiptedPerSecond: def.receipts ? rate(doneLatency.length, lastDone - clock.t0) : null,
    configuredPerSecond: plan.binds.tps * plan.binds.count,
    latencyMs: {
      sentP50: percentile(sentLatency, 50), sentP99: percentile(sentLatency, 99), sentMax: sentLatency[sentLatency.length - 1] ?? NaN,
      doneP50: def.receipts ? percentile(doneLatency, 50) : null, doneP99: def.receipts ? percentile(doneLatency, 99) : null,
    },
    smsc: smscFigures(run.simStats, clock.t0),
    callbacks: run.callbacks && callbackResult(run.callbacks, clock.t0),
    light: run.light,
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
      acceptCpuPerMessageUs: (acceptUsage.daemonCpuSeconds * 1e6) / accept.accepted,
      cpuPerMessageUs: (usage.daemonCpuSeconds * 1e6) / accept.accepted,
    },
    bench: { acceptCpuPercent: ownCpuPercent(acceptUsage.ownCpu, acceptUsage.wallMs), cpuPercent: ownCpuPercent(usage.ownCpu, activeMs) },
    simulator: { peakRssBytes: run.simPeak, cpuPercent: cpuPercent(usage.simCpuSeconds, activeMs), stats: run.simStats },
    database: { backend: run.backend, acceptCpuPercent: cpuPercent(acceptUsage.dbCpuSeconds, acceptUsage.wallMs), cpuPercent: cpuPercent(usage.dbCpuSeconds, activeMs) },
  };
}

/** The SMSC's arrival figures (bench/smsc.ts), or null without an SMSC or without any accepted submit. */
function smscFigures(stats: Record<string, number> | null, t0: number): SmscFigures | null {
  const first = stats?.firstAcceptedAt;
  const last = stats?.lastAcceptedAt;
  if (!stats || typeof first !== 'number' || typeof last !== 'number') return null;
  const accepted = stats.accepted ?? NaN;
  return {
    accepted,
    perSecond: rate(accepted, last - t0),
    steadyPerSecond: rate(accepted - 1, last - first),
    lastAfterMs: last - t0,
    maxInOneSecond: stats.maxSubmitsInOneSecondAll ?? NaN,
  };
}

function callbackResult(c: CallbackFigures, t0: number): CallbackResult {
  return { ...c, perSecond: rate(c.delivered - 1, c.lastAt - c.firstAt), totalPerSecond: rate(c.delivered, c.lastAt - t0) };
}
