/**
 * The `campaign` scenario: a campaign to one contact group of --campaign-recipients contacts,
 * started (POST /api/campaigns/<id>/send answers once the audience is collected and the credits
 * are reserved) and expanded (the runner copies every recipient into the message queue, 5 000 per
 * transaction), while a probe measures what a light request waits meanwhile. The messages
 * themselves are not waited for: the send scenarios measure sending.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { answerData, contactsCsv, postContactsCsv } from './contacts-csv.js';
import { fmtInt } from './format.js';
import { call, callOk, scrapeLag, type Answer } from './http.js';
import { startProbe, type ProbeFigures } from './latency-probe.js';
import type { Options } from './options.js';
import { procCpuSeconds, procMemory, resetPeakMemory, type DaemonProcess } from './processes.js';
import { PRICE_PER_PART } from './send-scenarios.js';
import { checkInterrupted, flagBinds, releaseActive, startStack, stopStack, type Stack } from './setup.js';
import { cpuPercent, rate } from './stats.js';

/** The one group every imported contact joins, and the campaign's audience. */
export const CAMPAIGN_GROUP = 'campaign';

/** One part: every message costs PRICE_PER_PART. */
const MESSAGE = 'Bench campaign';

/** Between two GET /api/campaigns/<id> while the runner expands. */
const POLL_MS = 200;

/** Final phases of a campaign run. */
const FINAL_PHASES = ['done', 'failed'];

export interface CampaignScenarioResult {
  scenario: 'campaign';
  recipients: number;
  /** The audience's import: set-up here (the import scenario measures imports). */
  import: { status: number; created: number; ms: number };
  /** The group as GET /api/contact-groups lists it. */
  group: { id: number; contacts: number };
  /** POST /api/campaigns/<id>/send → its whole answer: the audience collected, the credits reserved. */
  start: { status: number; ms: number; totalRecipients: number; phase: string | null };
  /** The start's answer → the poll that saw runs[0].phase final; NaN when the start failed. */
  expansion: { ms: number; phase: string | null; timedOut: boolean };
  /** start + expansion. */
  totalMs: number;
  recipientsPerSecond: number;
  daemon: {
    /** VmRSS and VmHWM (its peak so far, the import's included) just before the start. */
    rssBeforeStartBytes: number;
    peakBeforeStartBytes: number;
    /** VmHWM over start + expansion only (reset before the start), or over its whole life when peakReset is false. */
    peakRssBytes: number;
    peakReset: boolean;
    /** Over start + expansion; 100 % = one core. */
    cpuPercent: number;
    eventLoopLagP99Ms: number;
    eventLoopLagMaxMs: number;
    exit: string;
  };
  /** GET /api/balance during start + expansion. */
  light: ProbeFigures;
  /** What was not as expected (status, body excerpt), printed under the table. */
  problems: string[];
  wallMs: number;
}

export async function runCampaign(opts: Options): Promise<CampaignScenarioResult> {
  const name = 'campaign';
  const n = opts.campaignRecipients;
  const wallStart = Date.now();
  const problems: string[] = [];
  process.stderr.write(`[${name}] starting simulator and daemon\n`);
  try {
    // The start reserves every message at once: twice the cost leaves a margin.
    const stack = await startStack(name, opts, { receipts: false, smsc: { receipts: false }, binds: flagBinds(opts), credits: n * PRICE_PER_PART * 2 });
    const imported = await importAudience(stack, n, opts.timeoutS, problems);
    const group = await findGroup(stack.admin, stack.apiKey);
    const id = await createCampaign(stack.admin, stack.apiKey, group.id);
    const run = await startAndExpand(stack, id, n, opts.timeoutS, problems);
    const { exit } = await stopStack(stack);
    return { scenario: name, recipients: n, import: imported, group, ...run, daemon: { ...run.daemon, exit }, problems, wallMs: Date.now() - wallStart };
  } finally {
    await releaseActive();
  }
}

/** A problem goes to stderr at once and under the table at the end. */
function flag(problems: string[], what: string): void {
  problems.push(what);
  process.stderr.write(`[campaign] unexpected: ${what}\n`);
}

/** Every contact into the one group, through the CSV import; timed, but only as set-up. */
async function importAudience(stack: Stack, n: number, timeoutS: number, problems: string[]): Promise<CampaignScenarioResult['import']> {
  // Built before the clock starts, as the import scenario does.
  const file = new Blob([contactsCsv(n, () => CAMPAIGN_GROUP)], { type: 'text/csv' });
  process.stderr.write(`[campaign] POST /api/contacts/import: ${fmtInt(n)} contacts into the group "${CAMPAIGN_GROUP}"\n`);
  const p0 = performance.now();
  const { status, text } = await postContactsCsv(stack.admin, stack.apiKey, file, timeoutS);
  const ms = performance.now() - p0;
  checkInterrupted();
  const created = Number(answerData(text)?.created);
  if (status !== 200 || created !== n) flag(problems, `import: HTTP ${status}, expected data.created ${n}: ${text.slice(0, 500)}`);
  process.stderr.write(`[campaign] import: HTTP ${status} in ${Math.round(ms)} ms\n`);
  return { status, created, ms };
}

async function findGroup(admin: Pool, apiKey: string): Promise<CampaignScenarioResult['group']> {
  const groups = (await callOk(admin, 'GET', '/api/contact-groups', apiKey)).data as { id: number; name: string; contacts_count: number }[];
  const group = groups.find((g) => g.name === CAMPAIGN_GROUP);
  if (!group) throw new Error(`GET /api/contact-groups lists no group "${CAMPAIGN_GROUP}": ${JSON.stringify(groups).slice(0, 300)}`);
  return { id: group.id, contacts: group.contacts_count };
}

async function createCampaign(admin: Pool, apiKey: string, groupId: number): Promise<number> {
  const r = await call(admin, 'POST', '/api/campaigns', apiKey, { name: 'bench', message_content: MESSAGE, group_ids: [groupId] });
  const id = r.json?.data?.id;
  if (r.status !== 201 || typeof id !== 'number') throw new Error(`POST /api/campaigns: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return id;
}

/** The start and the expansion, measured from outside (CPU, memory, event loop) and from a light client. */
async function startAndExpand(stack: Stack, id: number, n: number, timeoutS: number, problems: string[]) {
  const { daemon, admin, apiKey } = stack;
  const before = procMemory(daemon.pid);
  // The import set the daemon's peak so far: the peak to hold against the target is the campaign's own.
  const peakReset = resetPeakMemory(daemon.pid);
  // Scraping /metrics resets the daemon's event-loop delay histogram: the next scrape covers start + expansion.
  await scrapeLag(admin);
  const probe = startProbe(stack.base, apiKey);
  const cpu0 = procCpuSeconds(daemon.pid);

  const start = await startCampaign(admin, apiKey, id, n, timeoutS, problems);
  const expansion = start.status === 200 ? await waitExpanded(admin, apiKey, id, daemon, timeoutS) : { ms: NaN, phase: null, timedOut: false };
  if (expansion.phase === 'failed' || expansion.timedOut) flag(problems, `expansion: runs[0].phase ${expansion.phase}${expansion.timedOut ? ` after --timeout ${timeoutS} s` : ''}`);
  const totalMs = start.ms + expansion.ms;
  const cpu = procCpuSeconds(daemon.pid) - cpu0;

  const light = await probe.stop();
  const lag = await scrapeLag(admin);
  const peak = procMemory(daemon.pid).peakBytes;
  return {
    start, expansion, totalMs, recipientsPerSecond: rate(n, totalMs), light,
    daemon: {
      rssBeforeStartBytes: before.rssBytes, peakBeforeStartBytes: before.peakBytes, peakRssBytes: peak, peakReset,
      cpuPercent: cpuPercent(cpu, totalMs), eventLoopLagP99Ms: lag.p99Ms, eventLoopLagMaxMs: lag.maxMs,
    },
  };
}

/** POST /api/campaigns/<id>/send {}: answered once the audience is collected and the credits reserved. */
async function startCampaign(admin: Pool, apiKey: string, id: number, n: number, timeoutS: number, problems: string[]): Promise<CampaignScenarioResult['start']> {
  process.stderr.write(`[campaign] POST /api/campaigns/${id}/send\n`);
  const p0 = performance.now();
  const r: Answer = await call(admin, 'POST', `/api/campaigns/${id}/send`, apiKey, {}, timeoutS * 1000)
    .catch((err: Error) => ({ status: 0, text: `request failed: ${err.message}`, json: null }));
  const ms = performance.now() - p0;
  checkInterrupted();
  const totalRecipients = Number(r.json?.data?.stats?.total_recipients);
  const phase: string | null = r.json?.data?.runs?.[0]?.phase ?? null;
  // A small audience may already be expanded when the answer is written.
  if (r.status !== 200 || totalRecipients !== n || (phase !== 'expanding' && phase !== 'done')) {
    flag(problems, `start: HTTP ${r.status}, expected total_recipients ${n} and runs[0].phase expanding: ${r.text.slice(0, 500)}`);
  }
  process.stderr.write(`[campaign] start: HTTP ${r.status} in ${Math.round(ms)} ms (total_recipients ${totalRecipients}, phase ${phase})\n`);
  return { status: r.status, ms, totalRecipients, phase };
}

/** GET /api/campaigns/<id> every POLL_MS until runs[0].phase is final, bounded by --timeout. */
async function waitExpanded(admin: Pool, apiKey: string, id: number, daemon: DaemonProcess, timeoutS: number): Promise<CampaignScenarioResult['expansion']> {
  const p0 = performance.now();
  let lastLog = p0;
  for (;;) {
    const r = await call(admin, 'GET', `/api/campaigns/${id}`, apiKey, undefined, timeoutS * 1000).catch(() => null);
    const phase: string | null = r?.json?.data?.runs?.[0]?.phase ?? null;
    const ms = performance.now() - p0;
    if (phase !== null && FINAL_PHASES.includes(phase)) return { ms, phase, timedOut: false };
    if (daemon.hasExited()) throw new Error(`the daemon exited during the expansion\n${daemon.outputTail()}`);
    if (ms >= timeoutS * 1000) return { ms, phase, timedOut: true };
    if (performance.now() - lastLog >= 5000) {
      lastLog = performance.now();
      process.stderr.write(`[campaign] phase ${phase}, queued ${r?.json?.data?.stats?.queued ?? '?'} after ${Math.round(ms / 1000)} s\n`);
    }
    await sleep(POLL_MS);
    checkInterrupted();
  }
}
