/**
 * The benchmark's report: markdown (the machine, the run, one table per view of the message
 * scenarios, one per import, one per campaign) and, with --json, every figure as one JSON object.
 */
import os from 'node:os';
import { CAMPAIGN_GROUP, type CampaignScenarioResult } from './campaign-scenario.js';
import { redactUrl, type DatabaseInfo } from './database.js';
import { fmtInt, fmtLatency, fmtNum, mb, table } from './format.js';
import { IMPORT_GROUPS, type ImportScenarioResult } from './import-scenario.js';
import { SPEED_SCENARIOS, type Options } from './options.js';
import { SCENARIOS, type ScenarioResult } from './send-scenarios.js';
import { speedSection } from './speed-table.js';

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

export function report(opts: Options, { results, imports, campaigns }: Outcomes, loadAtStart: number[], database: DatabaseInfo): string {
  const m = machine();
  const out: string[] = [];
  out.push(`## Relais benchmark (${database.backend === 'postgres' ? 'PostgreSQL' : 'SQLite'})`);
  out.push('');
  out.push(`- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, node ${m.node}, ${m.platform}; load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}`);
  out.push(`- database: ${database.description}`);
  out.push(database.backend === 'postgres'
    ? `- processes: benchmark (HTTP client + one read-only PostgreSQL connection), daemon (\`relais serve\`), SMSC simulator — all three on these ${m.cores} cores, with the PostgreSQL server when it runs here`
    : `- processes: benchmark (HTTP client + read-only SQLite reader), daemon (\`relais serve\`), SMSC simulator — all three on these ${m.cores} cores`);
  if (results.some((r) => SPEED_SCENARIOS.includes(r.scenario))) out.push('', ...speedSection(results));
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
export function jsonReport(opts: Options, { results, imports, campaigns }: Outcomes, loadAtStart: number[], database: DatabaseInfo): string {
  const options = { ...opts, databaseUrl: opts.databaseUrl && redactUrl(opts.databaseUrl) };
  return JSON.stringify({ machine: machine(), loadAtStart, database, options, scenarios: results, imports, ...(campaigns.length ? { campaigns } : {}) });
}

// ---- the message scenarios ------------------------------------------------------------------

function messageSections(opts: Options, results: ScenarioResult[]): string[] {
  // probe and queue1m measure the accept phase only: they have a table of their own.
  const flowing = results.filter((r) => r.target !== 'accepted');
  const acceptOnly = results.filter((r) => r.target === 'accepted');
  const out = ['', ...runLines(opts, results)];
  if (flowing.length) out.push('', mainTable(flowing), '', bindTable(flowing), '', processTable(flowing), '', smscTable(flowing));
  const throttled = results.filter((r) => r.scenario === 'throttle5');
  if (throttled.length) out.push('', throttleTable(throttled));
  const hooked = results.filter((r) => r.callbacks);
  if (hooked.length) out.push('', webhookTable(hooked));
  if (acceptOnly.length) out.push('', acceptOnlyTable(acceptOnly));
  return out;
}

/** The flags' set-up, then each scenario that departs from it (its own binds, count, batch or clients). */
function runLines(opts: Options, results: ScenarioResult[]): string[] {
  const own = results.filter((r) => r.messages !== opts.messages || r.batch !== opts.batch || r.concurrency !== opts.concurrency
    || r.bindSetup.count !== opts.binds || r.bindSetup.tps !== opts.tps || r.bindSetup.window !== opts.window);
  const lines = [
    `- run: ${fmtInt(opts.messages)} messages per scenario, ${opts.binds} bind(s) × ${fmtInt(opts.tps)} TPS (window ${opts.window}) on one operator = ${fmtInt(opts.tps * opts.binds)} msg/s configured`,
    `- accept: POST /api/messages/send with an API key, ${opts.batch} recipients per request, ${opts.concurrency} requests in flight (undici Pool, one connection each, no pipelining); ${new Date().toISOString()}`,
  ];
  if (own.length) {
    lines.push(`- otherwise: ${own.map((r) => `${r.scenario} ${fmtInt(r.messages)} messages, ${fmtInt(r.batch)} a request, ${r.concurrency} in flight, ${r.bindSetup.count} × ${fmtInt(r.bindSetup.tps)} TPS (window ${r.bindSetup.window})${SCENARIOS[r.scenario].smsc ? '' : ', no SMSC (binds to a port where nothing listens)'}`).join('; ')}`);
  }
  return lines;
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
  // PostgreSQL works in processes of its own: its CPU is the rest of what a message costs.
  const server = results.some((r) => r.database.backend === 'postgres');
  return table(
    ['scenario', 'daemon CPU % accept / all', 'daemon event loop lag p99 / max ms', 'daemon RSS ready → peak MB', ...(server ? ['PostgreSQL CPU % accept / all'] : []), 'benchmark CPU % accept / all', 'simulator CPU %', 'simulator peak RSS MB', 'wall s'],
    results.map((r) => [
      r.scenario, `${fmtNum(r.daemon.acceptCpuPercent, 0)} / ${fmtNum(r.daemon.cpuPercent, 0)}`, `${fmtNum(r.daemon.eventLoopLagP99Ms, 0)} / ${fmtNum(r.daemon.eventLoopLagMaxMs, 0)}`,
      `${mb(r.daemon.startRssBytes)} → ${mb(r.daemon.peakRssBytes)}`,
      ...(server ? [`${fmtNum(r.database.acceptCpuPercent, 0)} / ${fmtNum(r.database.cpuPercent, 0)}`] : []),
      `${fmtNum(r.bench.acceptCpuPercent, 0)} / ${fmtNum(r.bench.cpuPercent, 0)}`,
      fmtNum(r.simulator.cpuPercent, 0), mb(r.simulator.peakRssBytes), fmtNum(r.wallMs / 1000, 1),
    ]),
  );
}

/** What the SMSC itself saw (bench/smsc.ts): its arrival times, on the benchmark's clock. */
function smscTable(results: ScenarioResult[]): string {
  return table(
    ['scenario', 'received at the SMSC', 'msg/s first request → last arrival', 'msg/s first → last arrival', 'last arrival after first request s', 'most in any 1 s at the SMSC (all binds)', 'daemon CPU µs / message accept / all'],
    results.map((r) => {
      const s = r.smsc;
      return [
        r.scenario, s ? `${fmtInt(s.accepted)}/${fmtInt(r.accepted)}` : '–', s ? fmtInt(s.perSecond) : '–', s ? fmtInt(s.steadyPerSecond) : '–',
        s ? fmtNum(s.lastAfterMs / 1000, 2) : '–', s ? fmtInt(s.maxInOneSecond) : '–',
        `${fmtInt(r.daemon.acceptCpuPerMessageUs)} / ${fmtInt(r.daemon.cpuPerMessageUs)}`,
      ];
    }),
  );
}

function webhookTable(results: ScenarioResult[]): string {
  return table(
    ['scenario', 'message.delivered callbacks', 'duplicates', 'other events', 'first → last callback s', 'callbacks/s first → last', 'callbacks/s from first request'],
    results.map((r) => {
      const c = r.callbacks!;
      return [
        r.scenario, `${fmtInt(c.delivered)}/${fmtInt(r.accepted)}${r.timedOut ? ' (timeout)' : ''}`, fmtInt(c.duplicates), fmtInt(c.otherEvents),
        fmtNum((c.lastAt - c.firstAt) / 1000, 2), fmtInt(c.perSecond), fmtInt(c.totalPerSecond),
      ];
    }),
  );
}

/** probe and queue1m: the accept phase of 10 000-recipient requests, nothing waited for after it. */
function acceptOnlyTable(results: ScenarioResult[]): string {
  return table(
    ['scenario', 'accepted', 'SMSC', 'accept msg/s', 'HTTP p50 / p99 ms', 'light requests', 'light p50 / p99 / max ms', 'daemon CPU % accept', 'daemon event loop lag p99 / max ms', 'daemon RSS ready → peak MB', 'queued after', 'wall s'],
    results.map((r) => {
      const l = r.light;
      return [
        r.scenario, `${fmtInt(r.accepted)}/${fmtInt(r.messages)}${r.httpErrors ? `, ${fmtInt(r.httpErrors)} HTTP errors` : ''}`, SCENARIOS[r.scenario].smsc ? 'up' : 'down',
        fmtInt(r.acceptPerSecond), `${fmtLatency(r.httpLatencyMs.p50)} / ${fmtLatency(r.httpLatencyMs.p99)}`,
        l ? `${fmtInt(l.requests)}${l.errors ? `, ${fmtInt(l.errors)} errors` : ''}` : '–',
        l ? `${fmtLatency(l.p50Ms)} / ${fmtLatency(l.p99Ms)} / ${fmtLatency(l.maxMs)}` : '–',
        fmtNum(r.daemon.acceptCpuPercent, 0), `${fmtNum(r.daemon.eventLoopLagP99Ms, 0)} / ${fmtNum(r.daemon.eventLoopLagMaxMs, 0)}`,
        `${mb(r.daemon.startRssBytes)} → ${mb(r.daemon.peakRssBytes)}`, fmtInt(r.statusCounts.queued ?? 0), fmtNum(r.wallMs / 1000, 1),
      ];
    }),
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
