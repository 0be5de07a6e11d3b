/**
 * The benchmark's report: markdown (the machine, the run, one table per view of the message
 * scenarios, one per import, one per campaign) and, with --json, every figure as one JSON object.
 */
import os from 'node:os';
import { CAMPAIGN_GROUP, type CampaignScenarioResult } from './campaign-scenario.js';
import { fmtInt, fmtLatency, fmtNum, mb, table } from './format.js';
import { IMPORT_GROUPS, type ImportScenarioResult } from './import-scenario.js';
import type { Options } from './options.js';
import type { ScenarioResult } from './send-scenarios.js';

/** What the scenarios that ran gave, by kind, each kind in the order it ran. */
export interface Outcomes {
  results: ScenarioResult[];
  imports: ImportScenarioResult[];
  campaigns: CampaignScenarioResult[];
}

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

export function report(opts: Options, { results, imports, campaigns }: Outcomes, loadAtStart: number[]): string {
  const m = machine();
  const out: string[] = [];
  out.push('## Relais benchmark');
  out.push('');
  out.push(`- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, node ${m.node}, ${m.platform}; load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}`);
  out.push(`- processes: benchmark (HTTP client + read-only SQLite reader), daemon (\`relais serve\`), SMSC simulator — all three on these ${m.cores} cores`);
  if (results.length) out.push(...messageSections(opts, results));
  for (const r of imports) out.push(...importSection(r, results.length > 0));
  for (const r of campaigns) out.push(...campaignSection(r, results.length + imports.length > 0));
  const failed = results.filter((r) => r.firstHttpError !== null);
  if (failed.length) {
    out.push('');
    for (const r of failed) out.push(`- ${r.scenario}: first HTTP error: ${r.firstHttpError}`);
  }
  return out.join('\n');
}

/** Every figure, one line of JSON (`campaigns` only when one ran). */
export function jsonReport(opts: Options, { results, imports, campaigns }: Outcomes, loadAtStart: number[]): string {
  return JSON.stringify({ machine: machine(), loadAtStart, options: opts, scenarios: results, imports, ...(campaigns.length ? { campaigns } : {}) });
}

// ---- the message scenarios ------------------------------------------------------------------

function messageSections(opts: Options, results: ScenarioResult[]): string[] {
  const single = results.find((r) => r.scenario === 'single');
  const out = [
    `- run: ${fmtInt(opts.messages)} messages per scenario${single ? ` (single: ${fmtInt(single.messages)})` : ''}, ${opts.binds} bind(s) × ${fmtInt(opts.tps)} TPS (window ${opts.window}) on one operator = ${fmtInt(opts.tps * opts.binds)} msg/s configured`,
    `- accept: POST /api/messages/send with an API key, ${opts.batch} recipients per request (single: 1), ${opts.concurrency} requests in flight (undici Pool, ${opts.concurrency} connections, no pipelining); ${new Date().toISOString()}`,
    '',
    mainTable(results),
    '',
    bindTable(results),
    '',
    processTable(results),
  ];
  const throttled = results.filter((r) => r.scenario === 'throttle5');
  if (throttled.length) out.push('', throttleTable(throttled));
  return out;
}

function mainTable(results: ScenarioResult[]): string {
  return table(
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
  );
}

function bindTable(results: ScenarioResult[]): string {
  return table(
    ['scenario', 'bind', 'TPS configured', 'max in any 1 s at the SMSC', 'max in any 1 s (sent_at)', 'mean msg/s', 'sent', 'throttled answers', 'timeouts', 'reconnects'],
    results.flatMap((r) => r.binds.map((b) => [
      r.scenario, b.bind, fmtInt(b.tpsConfigured), smscMax(r), fmtInt(b.maxPerSecond), fmtInt(b.meanPerSecond), fmtInt(b.sent),
      fmtInt(b.throttled), fmtInt(b.timeouts), fmtInt(b.reconnects),
    ])),
    2,
  );
}

/**
 * The simulator's own count: the busiest SMPP session's submit_sm in any sliding second, by
 * arrival time (sessions are not told apart by bind, so every row of a scenario shows it).
 * sent_at, written by the daemon's batched ledger after the answer, bunches and can read higher.
 */
function smscMax(r: { simulator: { stats: Record<string, number> | null } }): string {
  const v = r.simulator.stats?.maxSubmitsInOneSecond;
  return typeof v === 'number' ? fmtInt(v) : '–';
}

function processTable(results: ScenarioResult[]): string {
  return table(
    ['scenario', 'daemon CPU % accept / all', 'daemon event loop lag p99 / max ms', 'daemon RSS ready → peak MB', 'benchmark CPU % accept / all', 'simulator CPU %', 'simulator peak RSS MB', 'wall s'],
    results.map((r) => [
      r.scenario, `${fmtNum(r.daemon.acceptCpuPercent, 0)} / ${fmtNum(r.daemon.cpuPercent, 0)}`, `${fmtNum(r.daemon.eventLoopLagP99Ms, 0)} / ${fmtNum(r.daemon.eventLoopLagMaxMs, 0)}`,
      `${mb(r.daemon.startRssBytes)} → ${mb(r.daemon.peakRssBytes)}`, `${fmtNum(r.bench.acceptCpuPercent, 0)} / ${fmtNum(r.bench.cpuPercent, 0)}`,
      fmtNum(r.simulator.cpuPercent, 0), mb(r.simulator.peakRssBytes), fmtNum(r.wallMs / 1000, 1),
    ]),
  );
}

function throttleTable(throttled: ScenarioResult[]): string {
  return table(
    ['scenario', 'throttled answers', 'simulator throttled', 'end-to-end msg/s', 'survival vs plain'],
    throttled.map((r) => [
      r.scenario, fmtInt(r.throttledAnswers), r.simulator.stats ? fmtInt(r.simulator.stats.throttled ?? NaN) : '–',
      fmtInt(r.endToEndPerSecond), r.survival === null ? '– (plain not run)' : `${fmtNum(r.survival * 100, 0)} %`,
    ]),
  );
}

// ---- the import -----------------------------------------------------------------------------

/** Its line (with the date when no message scenario printed it), its table, what went wrong. */
function importSection(r: ImportScenarioResult, datedAbove: boolean): string[] {
  const out = [
    '',
    `- import: ${fmtInt(r.rows)} rows, ${fmtNum(r.fileBytes / 1024 / 1024, 1)} MB of CSV (\`name,email,phone,group,status,company\`, numbers +2416 2000000…, ${IMPORT_GROUPS} groups, \`company\` an extra column → custom_fields), one POST /api/contacts/import with an API key per pass (multipart field \`file\`, undici FormData + Blob); database after: ${r.db ? `${fmtInt(r.db.contacts)} contacts, ${fmtInt(r.db.groups)} groups, ${fmtInt(r.db.memberships)} memberships` : '–'}; daemon RSS ready ${mb(r.daemon.startRssBytes)} MB, peak (VmHWM) ${mb(r.daemon.peakRssBytes)} MB${datedAbove ? '' : `; ${new Date().toISOString()}`}`,
    '',
    importTable(r),
  ];
  for (const p of r.passes) if (p.problem) out.push(`- import ${p.pass}: ${p.problem}`);
  return out;
}

function importTable(r: ImportScenarioResult): string {
  return table(
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
  );
}

// ---- the campaign ---------------------------------------------------------------------------

/** Its line (with the date when nothing above printed it), its table, what went wrong. */
function campaignSection(r: CampaignScenarioResult, datedAbove: boolean): string[] {
  const out = [
    '',
    `- campaign: ${fmtInt(r.recipients)} contacts imported into one group \`${CAMPAIGN_GROUP}\` (GET /api/contact-groups: ${fmtInt(r.group.contacts)} contacts), one campaign to it (POST /api/campaigns), started with POST /api/campaigns/<id>/send and polled (GET /api/campaigns/<id>, every 200 ms) until its run's phase is \`done\`; meanwhile GET /api/balance with the API key, one at a time on its own connection, 10 ms after each answer; the binds send while the runner expands; daemon peak (VmHWM) after the import ${mb(r.daemon.peakBeforeStartBytes)} MB${r.daemon.peakReset ? ', reset before the start' : ' (could not be reset: the peak below is over its whole life)'}${datedAbove ? '' : `; ${new Date().toISOString()}`}`,
    '',
    campaignTable(r),
  ];
  for (const p of r.problems) out.push(`- campaign: ${p}`);
  return out;
}

function campaignTable(r: CampaignScenarioResult): string {
  const l = r.light;
  return table(
    ['scenario', 'recipients', 'import s', 'start s', 'expansion s', 'start → expanded s', 'recipients/s', 'daemon RSS before start → peak MB', 'daemon CPU %', 'daemon event loop lag p99 / max ms', 'light requests', 'light p50 / p99 / max ms'],
    [[
      r.scenario,
      r.start.totalRecipients === r.recipients ? fmtInt(r.recipients) : `${fmtInt(r.start.totalRecipients)} (expected ${fmtInt(r.recipients)})`,
      fmtNum(r.import.ms / 1000, 2),
      fmtNum(r.start.ms / 1000, 2),
      `${fmtNum(r.expansion.ms / 1000, 2)}${r.expansion.timedOut ? ' (timeout)' : ''}${r.expansion.phase === 'failed' ? ' (failed)' : ''}`,
      fmtNum(r.totalMs / 1000, 2),
      fmtInt(r.recipientsPerSecond),
      `${mb(r.daemon.rssBeforeStartBytes)} → ${mb(r.daemon.peakRssBytes)}`,
      fmtNum(r.daemon.cpuPercent, 0),
      `${fmtNum(r.daemon.eventLoopLagP99Ms, 0)} / ${fmtNum(r.daemon.eventLoopLagMaxMs, 0)}`,
      `${fmtInt(l.requests)}${l.errors ? `, ${fmtInt(l.errors)} errors` : ''}`,
      `${fmtLatency(l.p50Ms)} / ${fmtLatency(l.p99Ms)} / ${fmtLatency(l.maxMs)}`,
    ]],
  );
}
